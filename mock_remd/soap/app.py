"""The SOAP endpoint ``/port/emdr`` as a plain WSGI application (fast path, no framework).

Every client error is a SOAP Fault in the request's SOAP version (1.2: ``soap:Sender``, HTTP 400;
1.1: ``soap:Client``), every server error a ``Receiver``/``Server`` fault with HTTP 500 — never a
plain-text 500 or a traceback. Request bodies are never logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from mock_remd.catalog import errors as E
from mock_remd.catalog.incidents import record_incident
from mock_remd.core.registry import RegistryService, WouldWait
from mock_remd.domain.behaviour import Behaviour
from mock_remd.soap import operations as ops
from mock_remd.soap import responses
from mock_remd.soap.drops import drop_connection
from mock_remd.soap.envelope import Envelope, parse_envelope, version_from_content_type
from mock_remd.soap.faults import SoapFault, render_fault
from mock_remd.soap.later import ANSWER_LATER, LaterAnswer, NeedsThread

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]

#: longest wsa:MessageID kept (the store's column size; a urn:uuid: id has 45 characters)
MAX_MESSAGE_ID = 128


def request_address(environ: dict[str, Any]) -> str:
    """The URL the client used to reach the endpoint (scheme, Host header, path)."""
    scheme = environ.get("HTTP_X_FORWARDED_PROTO") or environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_X_FORWARDED_HOST") or environ.get("HTTP_HOST")
    if not host:
        host = environ.get("SERVER_NAME", "127.0.0.1")
        port = environ.get("SERVER_PORT", "")
        if port and port not in ("80", "443"):
            host = f"{host}:{port}"
    path = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")) or "/port/emdr"
    return f"{scheme}://{host}{path}"


class SoapApp:
    """WSGI callable for the REMD endpoint."""

    def __init__(self, service: RegistryService, *, max_request_bytes: int, require_message_id: bool = True,
                 wsse_check: Callable[[Any], list[str]] | None = None) -> None:
        self.service = service
        self.max_request_bytes = max_request_bytes
        self.require_message_id = require_message_id
        self.wsse_check = wsse_check

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "GET" and "wsdl" in environ.get("QUERY_STRING", "").lower():
            from mock_remd.soap.wsdl import wsdl_for  # spyne, loaded when a WSDL is first asked for

            return self._reply(start_response, 200, "text/xml; charset=utf-8", wsdl_for(request_address(environ)))
        version = version_from_content_type(environ.get("CONTENT_TYPE")) or "1.2"
        later: LaterAnswer | None = environ.get(ANSWER_LATER)
        inline = later is not None and later.inline
        if inline and (method != "POST" or self.wsse_check is not None):  # (a signature check takes long)
            raise NeedsThread
        if method != "POST":
            fault = SoapFault.of("method_not_allowed", method=method)
            return self._fault(start_response, fault, version, extra=[("Allow", "GET, POST")])
        try:
            body = self._read_body(environ)
            # a wsse:Security check digests the Body as sent: then the envelope is parsed whole
            env = parse_envelope(body, environ.get("CONTENT_TYPE"), max_bytes=self.max_request_bytes,
                                 set_aside=self.wsse_check is None)
            version = env.version
            if env.set_aside is not None:
                env = self._put_back(env, body, environ.get("CONTENT_TYPE"))
            return self._dispatch(environ, start_response, env)
        except NeedsThread:
            raise
        except SoapFault as fault:
            if inline:  # its answer is journaled first
                raise NeedsThread from None
            self._journal_fault(fault, version)
            return self._fault(start_response, fault, version)
        except Exception:  # a bug must still answer as SOAP, and the server keeps serving
            incident = record_incident("SOAP endpoint")
            fault = SoapFault.of("internal", incident=incident.id)
            return self._fault(start_response, fault, version)

    # ---- plumbing ------------------------------------------------------------------------------
    def _read_body(self, environ: dict[str, Any]) -> bytes:
        length_text = environ.get("CONTENT_LENGTH") or ""
        if length_text.isdigit():
            length = int(length_text)
            if length > self.max_request_bytes:
                raise SoapFault.of("request_length_too_large", size=length, limit=self.max_request_bytes)
            return self._read(environ, length)
        data = self._read(environ, self.max_request_bytes + 1)
        if len(data) > self.max_request_bytes:
            raise SoapFault.of("request_too_large", limit=self.max_request_bytes)
        return data

    @staticmethod
    def _read(environ: dict[str, Any], size: int) -> bytes:
        try:
            return environ["wsgi.input"].read(size)
        except Exception as exc:  # a bad chunk size, a body cut short (each server has its own exception): the client's
            log.info("request body not read: %s", type(exc).__name__)
            raise SoapFault.of("bad_request_body") from None

    @staticmethod
    def _reply(start_response: StartResponse, status: int, content_type: str, body: bytes,
               extra: list[tuple[str, str]] | None = None) -> list[bytes]:
        reason = {200: "OK", 400: "Bad Request", 405: "Method Not Allowed", 413: "Payload Too Large",
                  500: "Internal Server Error"}.get(status, "Status")
        start_response(f"{status} {reason}", [("Content-Type", content_type), ("Content-Length", str(len(body)))] + (extra or []))
        return [body]

    def _fault(self, start_response: StartResponse, fault: SoapFault, version: str,
               extra: list[tuple[str, str]] | None = None) -> list[bytes]:
        status, ctype, body = render_fault(fault, version)
        return self._reply(start_response, status, ctype, body, extra)

    def _journal_fault(self, fault: SoapFault, version: str) -> None:
        try:
            self.service.journal_other(operation="fault", message_id="", client_entity_id="", sync_status="fault",
                                       errors=[{"code": fault.code, "message": fault.reason}],
                                       http_status=fault.http_status, soap_version=version)
        except Exception:  # the journal must never turn a client error into a server error
            record_incident("journal of a fault")

    def _put_back(self, env: Envelope, body: bytes, content_type: str | None) -> Envelope:
        """``env`` with its registerDocument request read and the document's text set aside put back; the
        envelope parsed whole when the placeholder is not the request's ``document/data`` (then it may be
        anywhere: in a comment, another element, the MessageID …) or the operation is another."""
        aside = env.set_aside
        if aside is not None and env.operation == ops.REGISTER:
            req = ops.parse_register(env.body, message_id=env.message_id, client_entity_id=env.client_entity_id)
            if aside.put_back(req):  # the placeholder occurs once: no other value of the envelope held it
                env.request = req
                return env
        return parse_envelope(body, content_type, max_bytes=self.max_request_bytes)

    # ---- operations ----------------------------------------------------------------------------
    def _dispatch(self, environ: dict[str, Any], start_response: StartResponse, env) -> Iterable[bytes]:
        if env.operation not in ops.OPERATIONS:
            raise SoapFault.of("unknown_operation", operation=env.operation, expected=", ".join(ops.OPERATIONS))
        later: LaterAnswer | None = environ.get(ANSWER_LATER)
        if later is not None and later.inline and env.operation != ops.REGISTER:  # they read and journal now
            raise NeedsThread
        if not env.message_id and self.require_message_id:
            raise SoapFault.of("missing_message_id")
        if len(env.message_id) > MAX_MESSAGE_ID:
            raise SoapFault.of("message_id_too_long", start=env.message_id[:64], limit=MAX_MESSAGE_ID)
        if self.wsse_check is not None:
            problems = self.wsse_check(env.root)
            if problems:
                raise SoapFault.of("wsse", problems="; ".join(problems))
        if env.operation == ops.REGISTER:
            req = env.request or ops.parse_register(env.body, message_id=env.message_id,
                                                    client_entity_id=env.client_entity_id)
            if later is not None:
                # answered by the thread that commits the document (the request's thread goes on),
                # unless something else than the store decides the answer
                try:
                    done = self.service.register_then(req, partial(self._answer_later, later, env.version,
                                                                   env.message_id),
                                                      elsewhere=later.elsewhere, soap_version=env.version,
                                                      may_wait=not later.inline,
                                                      lead=later.soon if later.inline else None)
                except WouldWait:
                    raise NeedsThread from None
                if done is None:
                    later.taken = True
                    return []
                result = done
            else:
                result = self.service.register(req, soap_version=env.version)
            replaced = self._apply_behaviour(environ, start_response, result.behaviour, env.version)
            if replaced is not None:
                return replaced
            ctype, body = responses.register_response(env.version, result.status, result.errors, env.message_id)
        elif env.operation == ops.SEARCH:
            c = ops.parse_search(env.body)
            result = self.service.search(env.client_entity_id, c.__dict__, message_id=env.message_id,
                                         soap_version=env.version)
            replaced = self._apply_behaviour(environ, start_response, result.behaviour, env.version)
            if replaced is not None:
                return replaced
            ctype, body = responses.search_response(env.version, result.status, result.items, result.errors, env.message_id)
        else:
            emdr_id = ops.parse_get_item(env.body)
            result = self.service.get_item(env.client_entity_id, emdr_id, message_id=env.message_id,
                                           soap_version=env.version)
            replaced = self._apply_behaviour(environ, start_response, result.behaviour, env.version)
            if replaced is not None:
                return replaced
            ctype, body = responses.get_item_response(env.version, result.status, result.item, result.errors,
                                                      env.message_id)
        return self._reply(start_response, 200, ctype, body)

    def _answer_later(self, later: LaterAnswer, version: str, message_id: str, result: Any,
                      error: BaseException | None) -> None:
        """The answer of a registerDocument stored after its call returned (see :meth:`RegistryService.register_then`):
        the one :meth:`__call__` gives for the same result or failure."""
        try:
            status, ctype, body = 200, "", b""
            if error is None:
                try:
                    ctype, body = responses.register_response(version, result.status, result.errors, message_id)
                except Exception as exc:  # a bug: answered as below
                    error = exc
            if error is not None:
                incident = record_incident("SOAP endpoint", exc_info=error)
                status, ctype, body = render_fault(SoapFault.of("internal", incident=incident.id), version)
            reply: list[Any] = []
            self._reply(lambda s, h: reply.extend((s, h)), status, ctype, body)
        except Exception:  # as an exception out of __call__: the server answers its own error
            later.fail()
            return
        later.answer(reply[0], reply[1], body)

    def _apply_behaviour(self, environ: dict[str, Any], start_response: StartResponse, b: Behaviour | None,
                         version: str) -> Iterable[bytes] | None:
        """Delay, then drop / fault / HTTP status in place of the normal answer (None = answer normally)."""
        if b is None:
            return None
        if b.sync.delay_ms:
            time.sleep(b.sync.delay_ms / 1000.0)  # the scenario asked the registry to be slow
        if b.sync.drop:
            return drop_connection(environ, start_response, b.sync.drop)
        if b.sync.fault:
            code = str(b.sync.fault.get("code") or "Receiver")
            fault_code = code if code.startswith(("Client", "Server")) else ("Client" if b.sync.fault_is_client else "Server")
            reason = str(b.sync.fault.get("reason") or E.message("INTERNAL_ERROR"))
            return self._fault(start_response, SoapFault.configured(fault_code, reason, b.sync.answer_status), version)
        if b.sync.http_status:
            status = int(b.sync.http_status)
            text = f"HTTP {status}".encode()
            start_response(f"{status} Mock Status", [("Content-Type", "text/plain; charset=utf-8"),
                                                     ("Content-Length", str(len(text)))])
            return [text]
        return None
