"""Dropping the connection on purpose (scenario ``sync.drop``): below the WSGI app, on the socket.

Works with gunicorn (``gunicorn.socket``) and werkzeug (``werkzeug.socket``) servers.
"""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Callable, Iterable
from typing import Any


def _socket(environ: dict[str, Any]) -> socket.socket | None:
    return environ.get("gunicorn.socket") or environ.get("werkzeug.socket")


def drop_connection(environ: dict[str, Any], start_response: Callable[..., Any], mode: str) -> Iterable[bytes]:
    """Misbehave on the wire: ``reset`` (TCP RST), ``empty`` (close without a byte), ``garbage``
    (random bytes then close), ``close`` (headers, then close before the body).

    After acting on the socket its descriptor is pointed at a local socket whose peer is already
    closed: whatever the HTTP server writes next fails with EPIPE, which werkzeug and gunicorn treat
    as "the client went away" (quietly), and the server closes the descriptor as usual. (A /dev/null
    descriptor made their socket calls fail with ENOTSOCK/EPERM and log tracebacks.)
    """
    sock = _socket(environ)
    if sock is None:
        # no socket access (an unusual server): the closest we can do is an empty 502
        start_response("502 Bad Gateway", [("Content-Length", "0")])
        return [b""]
    try:
        if mode == "garbage":
            sock.sendall(os.urandom(512))
        elif mode == "close":
            sock.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml; charset=utf-8\r\nContent-Length: 4096\r\n\r\n"
            )
        if mode == "reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            sock.shutdown(socket.SHUT_RDWR)
        fd = sock.fileno()
        stand_in, peer = socket.socketpair()
        try:
            os.dup2(stand_in.fileno(), fd)  # closes the socket (RST with SO_LINGER 0, else FIN)
        finally:
            stand_in.close()
            peer.close()
    except OSError:
        pass
    start_response("200 OK", [("Content-Length", "0"), ("Connection", "close")])
    return [b""]
