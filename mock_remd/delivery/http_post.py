"""Callback POSTs through libcurl (pycurl): a handle per sender thread, connections kept alive.

A callback is one POST of a few kilobytes to an address seen thousands of times. Through
``requests`` and urllib3 most of its CPU went into Python-level HTTP handling (building the request
line by line, parsing the answer's head with the ``email`` package, wrapping it twice): ~0.3 ms per
callback, libcurl does the same exchange in C for a sixth of that. What the MIS sees is what
``requests`` sent: the headers of the request ``requests`` prepares (made once per address, which
also keeps its URL checks), HTTP/1.1, no proxy (callbacks go straight to the MIS), no redirects
followed, https verified against the certifi CA bundle ``requests`` used, a gzip or deflate answer
decoded. ``timeout`` bounds the connect, and the whole exchange connect included (``requests`` bounded
the connect and each read: the same on a network where connecting takes no time).
"""

from __future__ import annotations

import errno
import functools
import threading
from collections import deque
from dataclasses import dataclass
from io import BytesIO

import pycurl
import requests
from requests.utils import DEFAULT_CA_BUNDLE_PATH, get_encoding_from_headers

from mock_remd.delivery.failures import PostFailed

#: addresses whose headers are remembered; beyond this all are forgotten at once
ADDRESSES = 256
#: curl's failures that are the TLS handshake or the certificate
_TLS = {pycurl.E_SSL_CONNECT_ERROR, pycurl.E_PEER_FAILED_VERIFICATION, pycurl.E_SSL_CERTPROBLEM,
        pycurl.E_SSL_CIPHER, pycurl.E_SSL_CACERT_BADFILE, pycurl.E_SSL_ENGINE_NOTFOUND,
        pycurl.E_SSL_ENGINE_SETFAILED, pycurl.E_SSL_SHUTDOWN_FAILED, pycurl.E_SSL_CRL_BADFILE,
        pycurl.E_SSL_ISSUER_ERROR, pycurl.E_USE_SSL_FAILED}


#: CURLE_WEIRD_SERVER_REPLY (pycurl names it for FTP only)
_WEIRD_SERVER_REPLY = 8


@dataclass(frozen=True)
class Answer:
    """The MIS's answer to a callback: the HTTP status and the body as text."""

    status: int
    text: str


class CallbackPoster:
    """POSTs callbacks; thread-safe (each thread has its own curl handle and connections)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._session = requests.Session()
        self._session.trust_env = False
        self._headers: dict[tuple[str, str, str], tuple[list[str], str]] = {}
        self._local = threading.local()

    def _curl(self) -> pycurl.Curl:
        curl = getattr(self._local, "curl", None)
        if curl is None:
            curl = self._local.curl = self._new_handle()
        return curl

    def _new_handle(self) -> pycurl.Curl:
        curl = pycurl.Curl()
        ms = max(1, round(self.timeout * 1000))
        for option, value in ((pycurl.NOSIGNAL, 1), (pycurl.PROXY, ""), (pycurl.POST, 1),
                              (pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1), (pycurl.FOLLOWLOCATION, 0),
                              (pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS),
                              (pycurl.CONNECTTIMEOUT_MS, ms), (pycurl.TIMEOUT_MS, ms),
                              (pycurl.CAINFO, DEFAULT_CA_BUNDLE_PATH), (pycurl.CAPATH, None)):
            curl.setopt(option, value)
        return curl

    def _request_headers(self, url: str, content_type: str, action: str) -> tuple[list[str], str]:
        """The request's header lines, and the encodings it accepts (curl sends that header and decodes)."""
        key = (url, content_type, action)
        found = self._headers.get(key)
        if found is None:
            # the request requests would send (its URL checks and default headers), prepared once
            prepared = self._session.prepare_request(requests.Request(
                "POST", url, headers={"Content-Type": content_type, "SOAPAction": f'"{action}"'}))
            # curl sets Content-Length itself; no "Expect: 100-continue" round trip for a body over 1 KiB
            headers = [f"{k}: {v}" for k, v in prepared.headers.items()
                       if k.lower() not in ("content-length", "accept-encoding")]
            headers.append("Expect:")
            if len(self._headers) >= ADDRESSES:
                self._headers.clear()
            found = self._headers[key] = (headers, prepared.headers.get("Accept-Encoding", ""))
        return found

    def post(self, url: str, body: bytes, *, content_type: str, action: str) -> Answer:
        """POST ``body`` to ``url``; the answer, whatever its status. Raises ``requests``'s exceptions
        for an address it refuses, :class:`PostFailed` when there was no (whole) answer."""
        headers, encodings = self._request_headers(url, content_type, action)
        curl = self._curl()
        sink = BytesIO()
        _prepare(curl, url, body, headers, encodings, sink)
        try:
            curl.perform()
        except pycurl.error as exc:
            raise PostFailed(_kind(curl, exc.args[0] if exc.args else 0)) from None
        return _answer(curl, sink)

    def post_all(self, posts: list[Post], *, at_once: int = 8) -> list[Answer | Exception]:
        """Every POST of ``posts``, at most ``at_once`` of them under way at a time (each on its own
        connection, as many as a pool of that many threads would have), driven by this thread through
        one curl multi handle whose connections are kept alive between calls: for each, in order, the
        answer, or the exception :meth:`post` would raise for it. A POST starts when one before it ends
        (its timeout counts from its start), so a slow MIS holds up only the POSTs it answers slowly."""
        multi = getattr(self._local, "multi", None)
        if multi is None:
            multi = self._local.multi = pycurl.CurlMulti()
            self._local.spare = []
        spare: list[pycurl.Curl] = self._local.spare
        results: list[Answer | Exception] = [PostFailed("no_answer")] * len(posts)
        waiting = deque(enumerate(posts))
        running: dict[pycurl.Curl, tuple[int, BytesIO]] = {}
        try:
            while waiting or running:
                while waiting and len(running) < max(1, at_once):
                    i, p = waiting.popleft()
                    try:
                        headers, encodings = self._request_headers(p.url, p.content_type, p.action)
                    except Exception as exc:  # an address requests refuses to prepare: this POST only
                        results[i] = exc
                        continue
                    curl = spare.pop() if spare else self._new_handle()
                    sink = BytesIO()
                    _prepare(curl, p.url, p.body, headers, encodings, sink)
                    running[curl] = (i, sink)
                    multi.add_handle(curl)
                if not running:
                    break
                if _perform(multi) == len(running):
                    multi.select(1.0)
                    continue
                while True:
                    queued, done, failed = multi.info_read()
                    for curl in done:
                        i, sink = running.pop(curl)
                        results[i] = _answer(curl, sink)
                        multi.remove_handle(curl)
                        spare.append(curl)
                    for curl, code, _message in failed:
                        i, _sink = running.pop(curl)
                        results[i] = PostFailed(_kind(curl, code))
                        multi.remove_handle(curl)
                        spare.append(curl)
                    if not queued:
                        break
        finally:
            for curl in running:  # only after a fault of ours: those POSTs are given up
                multi.remove_handle(curl)
                spare.append(curl)
        return results


@dataclass(frozen=True)
class Post:
    """One callback POST for :meth:`CallbackPoster.post_all`."""

    url: str
    body: bytes
    content_type: str
    action: str


def _prepare(curl: pycurl.Curl, url: str, body: bytes, headers: list[str], encodings: str, sink: BytesIO) -> None:
    curl.setopt(pycurl.URL, url)
    curl.setopt(pycurl.HTTPHEADER, headers)
    curl.setopt(pycurl.ACCEPT_ENCODING, encodings or None)
    curl.setopt(pycurl.POSTFIELDSIZE, len(body))
    curl.setopt(pycurl.POSTFIELDS, body)
    curl.setopt(pycurl.WRITEDATA, sink)


def _perform(multi: pycurl.CurlMulti) -> int:
    """Let curl do what it can now; how many transfers are still running."""
    while True:
        ret, active = multi.perform()
        if ret != pycurl.E_CALL_MULTI_PERFORM:
            return active


def _answer(curl: pycurl.Curl, sink: BytesIO) -> Answer:
    return Answer(int(curl.getinfo(pycurl.RESPONSE_CODE)), _text(sink.getvalue(), curl.getinfo(pycurl.CONTENT_TYPE)))


def _kind(curl: pycurl.Curl, code: int) -> str:
    """The kind of a curl failure, as ``requests``'s exceptions for the same failure were classified."""
    if code == pycurl.E_OPERATION_TIMEDOUT:
        return "read_timeout" if curl.getinfo(pycurl.CONNECT_TIME) > 0 else "connect_timeout"
    if code in _TLS:
        return "tls"
    if code == pycurl.E_COULDNT_RESOLVE_HOST:
        return "dns"
    if code == pycurl.E_COULDNT_CONNECT:
        return "refused" if curl.getinfo(pycurl.OS_ERRNO) == errno.ECONNREFUSED else "no_answer"
    if code in (pycurl.E_GOT_NOTHING, pycurl.E_SEND_ERROR, pycurl.E_RECV_ERROR, _WEIRD_SERVER_REPLY):
        # the answer never came whole: the server closed or reset the connection (or spoke no HTTP)
        return "hung_up"
    return "no_answer"


@functools.lru_cache(maxsize=64)
def _encoding(content_type: str | None) -> str | None:
    """The charset ``requests`` reads from a Content-Type (the same few values on every answer of a MIS)."""
    return get_encoding_from_headers({"content-type": content_type} if content_type else {})  # type: ignore[arg-type]


def _text(data: bytes, content_type: str | None) -> str:
    """The body as ``requests``'s ``Response.text`` decodes it (charset of the Content-Type, else guessed)."""
    if not data:
        return ""
    encoding = _encoding(content_type)
    if encoding is None:
        encoding = requests.compat.chardet.detect(data)["encoding"]
    try:
        return str(data, encoding or "utf-8", errors="replace")
    except (LookupError, TypeError):
        return str(data, errors="replace")
