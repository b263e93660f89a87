"""Callback POSTs through urllib3's connection pools: one pool per MIS address, connections kept alive.

A callback is one POST of a few kilobytes to an address seen thousands of times. Through
``requests`` every POST paid for a ``PreparedRequest`` copy, the adapter's connection and TLS
look-ups, a ``Response`` with its cookie jar and header dictionary: more CPU than the HTTP exchange.
Here the request is the one ``requests`` prepared (same headers, same URL checks, so a MIS sees what
it saw before), made once per address, and the POST goes straight to the urllib3 pool ``requests``
would have used, with the arguments its adapter passes (no retries, no redirects, the same timeout
for connecting and for each read, the certifi CA bundle for https; no proxy: callbacks go straight
to the MIS, as ``trust_env = False`` had it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import requests
import urllib3
from requests import exceptions as E  # noqa: N812
from requests.utils import DEFAULT_CA_BUNDLE_PATH, get_encoding_from_headers
from urllib3.connectionpool import HTTPConnectionPool, connection_from_url
from urllib3.exceptions import (
    ClosedPoolError,
    ConnectTimeoutError,
    DecodeError,
    HTTPError,
    InvalidHeader,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

#: addresses remembered (their pool and headers); beyond this all are forgotten at once (a pool in use
#: finishes its POST and is dropped with the last reference)
ADDRESSES = 256
#: connections kept per address (as the ``requests`` adapter had them)
POOL_SIZE = 32


@dataclass(frozen=True)
class Answer:
    """The MIS's answer to a callback: the HTTP status and the body as text."""

    status: int
    text: str


@dataclass(frozen=True)
class _Target:
    pool: HTTPConnectionPool
    path: str
    headers: dict[str, str]


class CallbackPoster:
    """POSTs callbacks; thread-safe (several sender threads share the pools)."""

    def __init__(self, timeout: float) -> None:
        self._timeout = urllib3.Timeout(connect=timeout, read=timeout)
        # what the requests adapter passes for max_retries=0: a failed connect or read is the attempt's
        # failure, never repeated here (the outbox's backoff retries)
        self._retries = urllib3.Retry(0, read=False)
        self._session = requests.Session()
        self._session.trust_env = False
        self._targets: dict[tuple[str, str, str], _Target] = {}
        self._pools: dict[str, HTTPConnectionPool] = {}
        self._lock = threading.Lock()

    def _target(self, url: str, content_type: str, action: str) -> _Target:
        key = (url, content_type, action)
        target = self._targets.get(key)
        if target is not None:
            return target
        # the request requests would send (URL checks and default headers included), prepared once
        prepared = self._session.prepare_request(requests.Request(
            "POST", url, headers={"Content-Type": content_type, "SOAPAction": f'"{action}"'}))
        assert prepared.url is not None
        parsed = urllib3.util.parse_url(prepared.url)
        origin = f"{parsed.scheme}://{parsed.netloc}".lower()
        with self._lock:
            if len(self._targets) >= ADDRESSES:
                self._targets.clear()
                self._pools.clear()
            pool = self._pools.get(origin)
            if pool is None:
                pool = self._pools[origin] = _pool(origin)
            target = self._targets[key] = _Target(pool, parsed.request_uri, dict(prepared.headers))
        return target

    def post(self, url: str, body: bytes, *, content_type: str, action: str) -> Answer:
        """POST ``body`` to ``url``; the answer, whatever its status. A failure raises the exception
        ``requests`` would have raised for it (the sentence of a failed attempt is chosen by its class)."""
        target = self._target(url, content_type, action)
        headers = target.headers.copy()
        headers["Content-Length"] = str(len(body))
        try:
            resp = target.pool.urlopen("POST", target.path, body=body, headers=headers, retries=self._retries,
                                       redirect=False, assert_same_host=False, preload_content=False,
                                       decode_content=False, timeout=self._timeout, chunked=False)
        except (HTTPError, OSError) as exc:
            raise _sent_error(exc) from exc
        try:
            data = resp.read(decode_content=True)
        except HTTPError as exc:  # urllib3 closed the connection
            raise _read_error(exc) from exc
        finally:
            resp.release_conn()
        return Answer(resp.status, _text(data, resp.headers))


def _sent_error(exc: Exception) -> Exception:
    """urllib3's exception from sending and the answer's head, as the ``requests`` adapter turns it."""
    if isinstance(exc, (ProtocolError, OSError, ClosedPoolError)):
        return E.ConnectionError(exc)
    if isinstance(exc, MaxRetryError):
        reason = exc.reason
        if isinstance(reason, ConnectTimeoutError) and not isinstance(reason, NewConnectionError):
            return E.ConnectTimeout(exc)
        if isinstance(reason, SSLError):
            return E.SSLError(exc)
        return E.ConnectionError(exc)
    if isinstance(exc, SSLError):
        return E.SSLError(exc)
    if isinstance(exc, ReadTimeoutError):
        return E.ReadTimeout(exc)
    if isinstance(exc, InvalidHeader):
        return E.InvalidHeader(exc)
    return exc


def _read_error(exc: Exception) -> Exception:
    """urllib3's exception from reading the answer's body, as ``requests``'s ``Response.content`` turns it."""
    if isinstance(exc, ProtocolError):
        return E.ChunkedEncodingError(exc)
    if isinstance(exc, DecodeError):
        return E.ContentDecodingError(exc)
    if isinstance(exc, ReadTimeoutError):
        return E.ConnectionError(exc)
    if isinstance(exc, SSLError):
        return E.SSLError(exc)
    return exc


def _pool(origin: str) -> HTTPConnectionPool:
    """The pool of ``origin`` as the ``requests`` adapter makes it (https: verified against certifi's CAs)."""
    if origin.startswith("https:"):
        return connection_from_url(origin, maxsize=POOL_SIZE, cert_reqs="CERT_REQUIRED", ca_certs=DEFAULT_CA_BUNDLE_PATH)
    return connection_from_url(origin, maxsize=POOL_SIZE)


def _text(data: bytes, headers: urllib3.HTTPHeaderDict) -> str:
    """The body as ``requests``'s ``Response.text`` decodes it (charset of the Content-Type, else guessed)."""
    if not data:
        return ""
    encoding = get_encoding_from_headers(headers)  # type: ignore[arg-type]
    if encoding is None:
        encoding = requests.compat.chardet.detect(data)["encoding"]
    try:
        return str(data, encoding or "utf-8", errors="replace")
    except (LookupError, TypeError):
        return str(data, errors="replace")
