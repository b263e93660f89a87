"""A callback sink: a real HTTP server that plays the MIS's callback (and getDocumentFile) service.

Used by the tests, the pytest plugin, ``mock-remd send`` and the benchmark. It records every
callback, parses ``registerDocumentResult`` and lets a caller wait for the one answering a given
MessageID without sleeping (a condition variable is signalled on each arrival).
"""

from __future__ import annotations

import base64
import socket
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lxml import etree

from mock_remd.domain.messages import REGISTER_RESULT
from mock_remd.domain.model import normalize_message_id
from mock_remd.xmlsafe import local_name, parse_bytes


class CallbackTimeout(TimeoutError):
    """No (or too few) callbacks arrived in time; :attr:`sentence` says what was awaited and what came."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


@dataclass
class CallbackResult:
    """A parsed ``registerDocumentResult``."""

    status: str = ""
    emdr_id: str = ""
    errors: list[dict[str, str]] = field(default_factory=list)
    relates_to: str = ""
    local_uid: str = ""
    kind: str = ""
    organization: str = ""
    registration_date_time: str = ""
    store_till_date: str = ""
    header_relates_to: str = ""
    #: ``regional`` / ``federal`` for systems with send_to_fremd (two-phase outcome), else empty
    stage: str = ""
    action: str = ""
    raw: bytes = b""
    content_type: str = ""
    path: str = ""
    well_formed: bool = True
    received_at: float = 0.0

    @property
    def error_codes(self) -> list[str]:
        return [e.get("code", "") for e in self.errors]


#: registerDocumentResult's text elements → CallbackResult attributes (the one declaration)
_RESULT_FIELDS = REGISTER_RESULT.text_fields


def parse_callback(body: bytes, content_type: str = "", path: str = "") -> CallbackResult:
    """Parse a callback request body (tolerant: a broken one comes back with ``well_formed=False``)."""
    res = CallbackResult(raw=body, content_type=content_type, path=path, received_at=time.time())
    try:
        root = parse_bytes(body, max_bytes=64 * 1024 * 1024)
    except (etree.XMLSyntaxError, ValueError):
        res.well_formed = False
        return res
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        name = local_name(el)
        text = (el.text or "").strip()
        if name == "RelatesTo":
            res.header_relates_to = text
        elif name == "Action":
            res.action = text
        elif name in _RESULT_FIELDS:
            if name != "status" or not res.status:  # the first status: the outcome's, not an item's
                setattr(res, _RESULT_FIELDS[name], text)
        elif name == "item" and el.getparent() is not None and local_name(el.getparent()) == "errors":
            item = {local_name(c): (c.text or "").strip() for c in el if isinstance(c.tag, str)}
            res.errors.append({"code": item.get("code", ""), "message": item.get("message", "")})
    return res


class CallbackSink:
    """An HTTP server on ``host:port`` (0 = free port) recording callbacks.

    ``responses`` is a list of HTTP statuses to answer in turn (then 200); ``documents`` maps a
    localUid to the bytes ``getDocumentFile`` returns (pull mode).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, path: str = "/emdr/callback") -> None:
        self.host = host
        self.path = path
        self.results: list[CallbackResult] = []
        self.requests_seen = 0
        self.responses: list[int] = []
        self.delay_s: float = 0.0
        self.documents: dict[str, bytes] = {}
        self.document_requests: list[str] = []
        #: localUids whose ``getDocumentFile`` answer waits until :attr:`release` is set (at most
        #: 30 s): a pull that takes as long as the caller wants
        self.held_documents: set[str] = set()
        self.release = threading.Event()
        self.on_request: Callable[[CallbackResult], None] | None = None
        self._cond = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                # headers and body go out in two writes: without TCP_NODELAY the client's delayed
                # ACK holds every answer ~40 ms
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                sink._handle(self, body)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        # stop() waits for serve_forever's next poll: 50 ms rather than socketserver's 0.5 s
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="callback-sink", daemon=True)

    # ---- lifecycle -----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    @property
    def document_url(self) -> str:
        return f"http://{self.host}:{self.port}/emdr/documents"

    def start(self) -> CallbackSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> CallbackSink:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def clear(self) -> None:
        with self._cond:
            self.results.clear()
            self.requests_seen = 0
            self.responses.clear()
            self.documents.clear()
            self.document_requests.clear()

    # ---- handling ------------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        if b"getDocumentFileRequest" in body:
            self._document_file(handler, body)
            return
        if self.delay_s:
            time.sleep(self.delay_s)  # simulating a slow MIS on purpose
        res = parse_callback(body, handler.headers.get("Content-Type", ""), handler.path)
        with self._cond:
            self.requests_seen += 1
            status = self.responses.pop(0) if self.responses else 200
            if 200 <= status < 300:
                self.results.append(res)
            self._cond.notify_all()
        if self.on_request:
            self.on_request(res)
        reply = b'<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>'
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "text/xml; charset=utf-8")
            handler.send_header("Content-Length", str(len(reply)))
            handler.end_headers()
            handler.wfile.write(reply)
        except (BrokenPipeError, ConnectionResetError):  # the sender went away (a killed server)
            pass

    def _document_file(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        root = parse_bytes(body, max_bytes=1024 * 1024)
        local_uid = next((el.text or "" for el in root.iter() if isinstance(el.tag, str) and local_name(el) == "localUid"), "")
        with self._cond:
            self.document_requests.append(local_uid.strip())
            self._cond.notify_all()
        if local_uid.strip() in self.held_documents:
            self.release.wait(30)
        content = self.documents.get(local_uid.strip())
        if content is None:
            inner = "<ns2:status>error</ns2:status>"
        else:
            inner = (
                "<ns2:status>success</ns2:status><ns2:document>"
                f"<ns2:data>{base64.b64encode(content).decode()}</ns2:data>"
                f"<ns2:checksum>{zlib.crc32(content) & 0xFFFFFFFF}</ns2:checksum></ns2:document>"
            )
        reply = (
            '<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
            '<soap:Body><ns2:getDocumentFileResponse xmlns:ns2="http://egisz.rosminzdrav.ru/iehr/emdr/callback/">'
            f"{inner}</ns2:getDocumentFileResponse></soap:Body></soap:Envelope>"
        ).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "text/xml; charset=utf-8")
        handler.send_header("Content-Length", str(len(reply)))
        handler.end_headers()
        handler.wfile.write(reply)

    # ---- waiting -------------------------------------------------------------------------------
    def wait_for(self, message_id: str, timeout: float = 10.0) -> CallbackResult:
        """The first callback whose relatesToMessage is ``message_id`` (any case, with or without
        ``urn:uuid:``); raises TimeoutError after ``timeout`` seconds."""
        want = normalize_message_id(message_id)
        return self.wait_until(lambda r: normalize_message_id(r.relates_to) == want, timeout,
                               what=f"callback for {message_id}")

    def wait_until(self, predicate: Callable[[CallbackResult], bool], timeout: float = 10.0, *,
                   what: str = "callback") -> CallbackResult:
        """The first recorded callback satisfying ``predicate``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for r in self.results:
                    if predicate(r):
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CallbackTimeout(f"no {what} within {timeout:g} s ({len(self.results)} received)")
                self._cond.wait(left)

    def wait_count(self, n: int, timeout: float = 10.0, *, accepted_only: bool = True) -> list[CallbackResult]:
        """Wait until ``n`` callbacks (acknowledged ones, or all requests seen) arrived."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while (len(self.results) if accepted_only else self.requests_seen) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CallbackTimeout(f"{len(self.results)} of {n} callbacks within {timeout:g} s")
                self._cond.wait(left)
            return list(self.results)
