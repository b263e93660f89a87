"""SOAP Fault texts of the endpoint: one template per fault the protocol layer answers with.

Every Fault reason a client sees is one of these templates with its named values filled in
(:func:`fault_text`); the protocol layer never writes a reason of its own. Codes are ``Client.<Detail>``
(SOAP 1.1 ``soap:Client``, 1.2 ``soap:Sender``) or ``Server.<Detail>`` (``soap:Server`` / ``soap:Receiver``).
Texts are Russian only, like the registry's own answers.
"""

from __future__ import annotations

import string
from dataclasses import dataclass


@dataclass(frozen=True)
class FaultTemplate:
    """One kind of Fault: its code, its reason template (``str.format`` named fields) and HTTP status
    (None: 400 for ``Client.*``, 500 for ``Server.*``)."""

    code: str
    template: str
    http_status: int | None = None

    @property
    def fields(self) -> frozenset[str]:
        """The names the template needs filled in."""
        return frozenset(name for _text, name, _spec, _conv in string.Formatter().parse(self.template) if name)


#: key -> the Fault it names
FAULTS: dict[str, FaultTemplate] = {
    # ---- the HTTP request -----------------------------------------------------------------------------
    "method_not_allowed": FaultTemplate(
        "Client.MethodNotAllowed", "Метод HTTP {method} не поддерживается: ожидается POST (или GET ?wsdl)", 405),
    "request_too_large": FaultTemplate("Client.RequestTooLarge", "Запрос превышает предел {limit} байт", 413),
    "request_length_too_large": FaultTemplate(
        "Client.RequestTooLarge", "Запрос размером {size} байт превышает предел {limit} байт", 413),
    "bad_request_body": FaultTemplate(
        "Client.BadRequestBody",
        "Тело запроса не прочитано: нарушено кодирование Transfer-Encoding: chunked или соединение прервано"),
    # refused by the HTTP front before the SOAP endpoint saw the request (server/buffering_worker.py)
    "http_malformed": FaultTemplate("Client.BadHttpRequest", "Запрос не разобран: нарушен протокол HTTP", 400),
    "http_line_too_long": FaultTemplate("Client.BadHttpRequest", "Строка запроса HTTP слишком длинная", 414),
    "http_headers_too_large": FaultTemplate("Client.BadHttpRequest", "Заголовки запроса HTTP слишком велики", 431),
    "http_front_failed": FaultTemplate("Server.InternalError", "Внутренняя ошибка", 500),
    "http_transfer_coding": FaultTemplate("Server.InternalError", "Кодирование Transfer-Encoding не поддерживается", 501),
    # ---- the envelope --------------------------------------------------------------------------------
    "empty_request": FaultTemplate("Client.EmptyRequest", "Пустой запрос: ожидается SOAP-конверт"),
    "xml_too_large": FaultTemplate(
        "Client.RequestTooLarge", "Запрос слишком велик: XML размером {size} байт больше допустимых {limit} байт", 413),
    "unsafe_xml": FaultTemplate("Client.UnsafeXml", "Недопустимый XML: объявления DOCTYPE не допускаются"),
    "malformed_xml": FaultTemplate("Client.MalformedXml", "Запрос не является корректным XML: {problem}"),
    "not_envelope": FaultTemplate(
        "Client.NotSoapEnvelope",
        "Корневой элемент {{{namespace}}}{name} не является SOAP-конвертом (Envelope 1.1 или 1.2)"),
    "no_body": FaultTemplate("Client.NoBody", "В SOAP-конверте нет элемента Body"),
    "empty_body": FaultTemplate("Client.EmptyBody", "Элемент Body не содержит операции"),
    # ---- the operation and its headers ---------------------------------------------------------------
    "unknown_operation": FaultTemplate(
        "Client.UnknownOperation", "Неизвестная операция {operation}: ожидается одна из {expected}"),
    "missing_message_id": FaultTemplate("Client.MissingMessageID", "Не указан обязательный заголовок wsa:MessageID"),
    "message_id_too_long": FaultTemplate(
        "Client.InvalidMessageID", "Заголовок wsa:MessageID [{start}…] длиннее {limit} символов"),
    "wsse": FaultTemplate("Client.SecurityError", "Ошибка проверки подписи сообщения (wsse:Security): {problems}"),
    # a magic documentNumber (CONTRACT §7) out of its range: the VALIDATION_ERROR item naming it
    "invalid_magic_value": FaultTemplate("Client.InvalidMagicValue", "{code}: {message}"),
    # ---- faults of ours (catalog/incidents.py): the incident id only ----------------------------------
    "internal": FaultTemplate("Server.InternalError", "Внутренняя ошибка (инцидент {incident})"),
}


@dataclass(frozen=True)
class FaultText:
    """A Fault ready to answer with: the catalogue key it came from, code, filled reason, HTTP status."""

    key: str
    code: str
    reason: str
    http_status: int | None


def fault_text(key: str, /, **values: object) -> FaultText:
    """The Fault ``key`` with ``values`` filled into its reason.

    An unknown key, a missing value or a value the template does not name is a bug of ours and raises
    (``KeyError`` / ``TypeError``): the endpoint then answers with the ``internal`` Fault and an incident id.
    """
    template = FAULTS[key]
    extra = set(values) - template.fields
    if extra:
        raise TypeError(f"fault {key}: values {sorted(extra)} are not in its template")
    return FaultText(key, template.code, template.template.format(**values), template.http_status)
