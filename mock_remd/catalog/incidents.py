"""Faults of ours turned into answers: one place for incident ids, their log records and the words a user sees.

An exception that escapes our own code is a bug of ours (or a server-side fault), never a defect of
the caller's input. It is logged once with its traceback under a short random incident id; users see
only a sentence from the catalogue and that id, so an operator can find the log record. Exception
texts of Python or of libraries never reach a SOAP answer, a callback, the admin API, the dashboard
or the command line.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from mock_remd.catalog.errors import ErrorItem, item

#: the logger every incident goes to (with its traceback)
INCIDENT_LOGGER = "mock_remd.incidents"
log = logging.getLogger(INCIDENT_LOGGER)

#: what to do with a document when one of its validation layers failed inside (CONTRACT §2 style setting)
ON_INTERNAL_ERROR = ("accept", "reject")

#: the sentence users see for a fault of ours (admin API ``error``, SOAP Fault reason)
INTERNAL_ERROR_TEXT = "внутренняя ошибка"
#: the registry's own text for XML_VALIDATOR_ERROR (classifier 102)
VALIDATOR_ERROR_TEXT = "Внутренняя ошибка валидации СЭМД"


def new_incident_id() -> str:
    """A short random id (8 hex digits) that names one fault in the log and in the answer."""
    return secrets.token_hex(4)


@dataclass(frozen=True)
class Incident:
    """A fault of ours that was logged (with its traceback) under :attr:`id`."""

    id: str
    where: str

    @property
    def reason(self) -> str:
        """The reason a layer or a step shows when it could not run: ``internal error <id>``."""
        return f"internal error {self.id}"

    def validator_error(self) -> ErrorItem:
        """The registry answer for a document we could not check: XML_VALIDATOR_ERROR and the incident id."""
        return item("XML_VALIDATOR_ERROR", incident=self.id)

    def as_answer(self) -> dict[str, str]:
        """The JSON body of an admin answer for this fault."""
        return {"error": INTERNAL_ERROR_TEXT, "incident": self.id}


def record_incident(where: str, *, exc_info: bool | BaseException = True, **context: object) -> Incident:
    """Log the exception being handled (or the one given as ``exc_info``; traceback included) under a
    new incident id and return it.

    ``where`` says what failed ("validation layer xsd", "admin API GET /_admin/documents"); ``context``
    adds identifiers (local_uid, document id), never document content. Every incident goes to the
    ``mock_remd.incidents`` logger: the server's log, or a file for the command line (see the CLI).
    """
    incident = Incident(new_incident_id(), where)
    extra = "".join(f" {k}={v}" for k, v in context.items())
    log.error("incident %s: %s failed%s", incident.id, where, extra, exc_info=exc_info)
    return incident


def host_port(url: str) -> str:
    """``host:port`` of ``url`` for messages (default ports filled in); the URL itself when unparsable."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower(), 0)
        host = parts.hostname or ""
    except ValueError:
        return url
    if not host:
        return url
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port else host


#: what went wrong in a failed HTTP call, as far as the user's sentence goes (:func:`failure_sentence`)
FAILURE_KINDS = ("connect_timeout", "read_timeout", "tls", "dns", "refused", "hung_up", "invalid_url", "redirects",
                 "no_answer")


#: the sentence of each kind of failed HTTP call: (with the timeout known, without it); {where} is
#: host:port, {url} the whole address
_FAILURE_SENTENCES: dict[str, tuple[str, str]] = {
    "connect_timeout": ("сервер по адресу {where} не принял соединение за {timeout:g} с",
                        "сервер по адресу {where} не принял соединение вовремя"),
    "read_timeout": ("сервер по адресу {where} не ответил за {timeout:g} с", "сервер по адресу {where} не ответил вовремя"),
    "tls": ("не удалось установить защищённое соединение с сервером по адресу {where}",) * 2,
    "dns": ("имя сервера {where} не найдено (DNS)",) * 2,
    "refused": ("сервер по адресу {where} не ответил: соединение отклонено",) * 2,
    "hung_up": ("сервер по адресу {where} разорвал соединение",) * 2,
    "invalid_url": ("адрес {url!r} не является корректным адресом http(s)",) * 2,
    "redirects": ("сервер по адресу {where} перенаправляет запрос слишком много раз",) * 2,
}


def failure_sentence(kind: str, url: str, *, timeout: float | None = None) -> str:
    """The sentence for a failed HTTP call to ``url`` of ``kind`` (one of :data:`FAILURE_KINDS`)."""
    with_timeout, without = _FAILURE_SENTENCES.get(kind, ("сервер по адресу {where} не ответил",) * 2)
    return (with_timeout if timeout else without).format(where=host_port(url), url=url, timeout=timeout or 0)


def network_failure(url: str, exc: BaseException, *, timeout: float | None = None) -> str:
    """One sentence for a failed HTTP call to ``url``, from the kind of failure only (no library text).

    Works on ``requests`` exceptions and on the OS errors under them; the sentence names the address.
    """
    return failure_sentence(_kind(exc), url, timeout=timeout)


def _kind(exc: BaseException) -> str:
    import requests  # local: the catalogue is imported by code that never makes HTTP calls

    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect_timeout"
    if isinstance(exc, (requests.exceptions.ReadTimeout, TimeoutError)):
        return "read_timeout"
    if isinstance(exc, requests.exceptions.SSLError):
        return "tls"
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        if "Name or service not known" in text or "getaddrinfo" in text or "NameResolution" in text:
            return "dns"
        if "refused" in text.lower():
            return "refused"
        if "reset" in text.lower() or "aborted" in text.lower() or "RemoteDisconnected" in text:
            return "hung_up"
        return "no_answer"
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                        requests.exceptions.InvalidSchema, requests.exceptions.URLRequired)):
        return "invalid_url"
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return "redirects"
    return "no_answer"


class ServerFault(Exception):
    """A fault of the server, not of the document (a trusted-CA file that cannot be read, the database down).

    ``message`` is our own sentence for the operator (shown on ``/ready`` and logged), never a
    library's text; the document being checked gets no defect from it.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def safe_text(exc: BaseException, fallback: str, lang: str = "ru") -> str:
    """A sentence for ``exc`` that is safe to show: the catalogue sentence an exception class of ours
    carries (``text(lang)`` or ``message``), the operating system's words for a file error, a position
    for a text or JSON error, else ``fallback``.

    Library exception texts (parsers, HTTP, database) are never returned: their wording, class names
    and internals are not for users; neither is the text of an exception of ours that carries no
    sentence (it may wrap a library's words).
    """
    import json

    if type(exc).__module__.startswith("mock_remd."):
        render_text = getattr(exc, "text", None)
        if callable(render_text):
            return str(render_text(lang))
        message = getattr(exc, "message", None)
        return message if isinstance(message, str) and message else fallback
    if isinstance(exc, UnicodeDecodeError):
        return f"текст не в кодировке UTF-8 (байт {exc.start})"
    if isinstance(exc, json.JSONDecodeError):
        return f"не является корректным JSON (строка {exc.lineno}, позиция {exc.colno})"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return fallback
