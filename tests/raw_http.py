"""registerDocument over a raw socket: the fast-path POST, whole answers read back (head, body), the
answer's status; for tests that need pipelining, kept-alive connections or a client that vanishes."""

from __future__ import annotations

import re
import socket

_CONTENT_LENGTH = re.compile(rb"(?im)^content-length:\s*(\d+)")
_STATUS = re.compile(rb":status>(\w+)<")


def soap_post(body: bytes) -> bytes:
    """A SOAP 1.2 POST to /port/emdr carrying ``body``, framed by its Content-Length."""
    return (b"POST /port/emdr HTTP/1.1\r\nHost: x\r\nContent-Type: application/soap+xml; charset=utf-8\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body


def connect(port: int, timeout: float = 30) -> socket.socket:
    """A loopback connection to ``port`` with Nagle off (each request leaves at once)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_answers(s: socket.socket, count: int, *, nothing_after: bool = False) -> list[tuple[bytes, bytes]]:
    """``count`` whole answers (head, body) from ``s``; with ``nothing_after``, no byte may follow them
    in what was read."""
    data, answers = b"", []
    while True:
        while b"\r\n\r\n" in data and len(answers) < count:
            head, rest = data.split(b"\r\n\r\n", 1)
            length = int(_CONTENT_LENGTH.search(head).group(1))
            if len(rest) < length:
                break
            answers.append((head, rest[:length]))
            data = rest[length:]
        if len(answers) == count:
            assert not (nothing_after and data), "more bytes after the answers"
            return answers
        chunk = s.recv(65536)
        assert chunk, f"connection closed after {len(answers)} answers"
        data += chunk


def answer_status(body: bytes) -> str:
    """The ``status`` of a registerDocument answer ("" when it has none)."""
    m = _STATUS.search(body)
    return m.group(1).decode() if m else ""
