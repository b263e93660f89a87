"""The buffering worker frames a Content-Length body by counting it (httptools reads only the head):
bodies that arrive in pieces, two requests in one send (pipelined) and a chunked body are all
answered, over a raw socket to ``mock-remd serve``; a plain SOAP POST (the fast path) is answered
as gunicorn answers the others."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from instances import start_serve, stop, wait_ready, write_config
from remd_requests import register_request

from mock_remd.client.sink import CallbackSink
from mock_remd.soap.builders import register_envelope


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("framing")
    sink = CallbackSink().start()
    log = tmp / "serve.log"
    proc, url = start_serve(f"sqlite:///{tmp / 'remd.db'}", write_config(tmp, sink.url), log, workers=1,
                            processors=1)
    try:
        wait_ready(proc, url, log)
        yield int(url.rsplit(":", 1)[1])
    finally:
        stop(proc)
        sink.stop()


def _request(body: bytes, *, chunked: bool = False) -> bytes:
    head = b"POST /port/emdr HTTP/1.1\r\nHost: x\r\nContent-Type: application/soap+xml; charset=utf-8\r\n"
    if chunked:
        return head + b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


def _read_answers(s: socket.socket, count: int) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Read ``count`` whole answers (head, body) from ``s``; also what came after them so far."""
    data, answers = b"", []
    while len(answers) < count:
        chunk = s.recv(65536)
        assert chunk, f"connection closed after {len(answers)} answers"
        data += chunk
        while b"\r\n\r\n" in data:
            head, rest = data.split(b"\r\n\r\n", 1)
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:")))
            if len(rest) < length:
                break
            answers.append((head, rest[:length]))
            data = rest[length:]
    return answers, data


def _answers(port: int, pieces: list[bytes], count: int) -> list[bytes]:
    """Send ``pieces`` with a pause between them; read ``count`` whole answers (status line + body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        for piece in pieces:
            s.sendall(piece)
            time.sleep(0.05)  # the server's event loop sees each piece as a separate read
        answers, _ = _read_answers(s, count)
    return [head.split(b"\r\n", 1)[0] + b" " + body for head, body in answers]


def _ok(answer: bytes) -> bool:
    return answer.startswith(b"HTTP/1.1 200") and b">success<" in answer


def test_body_arriving_in_pieces(served):
    raw = _request(register_envelope(register_request(), version="1.2"))
    cut = raw.index(b"\r\n\r\n") + 4
    pieces = [raw[:20], raw[20:cut + 7], raw[cut + 7:cut + 5000], raw[cut + 5000:]]
    assert all(_ok(a) for a in _answers(served, pieces, 1))


def test_two_requests_in_one_send(served):
    both = b"".join(_request(register_envelope(register_request(), version="1.2")) for _ in range(2))
    answers = _answers(served, [both[:-10], both[-10:]], 2)
    assert len(answers) == 2 and all(_ok(a) for a in answers)


def test_chunked_body(served):
    assert all(_ok(a) for a in _answers(served, [_request(register_envelope(register_request(), version="1.2"),
                                                          chunked=True)], 1))


def _heads(port: int, raw: bytes, count: int) -> tuple[list[bytes], bytes]:
    """Send ``raw`` at once; the heads of ``count`` answers and what follows them until the server closes
    (or 2 s of silence)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(raw)
        answers, data = _read_answers(s, count)
        assert all(b">success<" in body for _, body in answers)
        s.settimeout(2)
        try:
            while chunk := s.recv(65536):
                data += chunk
            data += b"<closed>"
        except TimeoutError:
            pass
    return [head for head, _ in answers], data


def _header_names(head: bytes) -> list[bytes]:
    return [line.split(b":", 1)[0].lower() for line in head.split(b"\r\n")[1:]]


def test_fast_path_answers_as_gunicorn_does(served):
    """A plain SOAP POST is served from the head the event loop read (the fast path); a request with a
    forwarding header goes through gunicorn's own parser. Both on one connection, in turn: the same
    status line and headers, and the connection stays open."""
    plain = _request(register_envelope(register_request(), version="1.2"))
    forwarded = _request(register_envelope(register_request(), version="1.2")).replace(b"Host: x\r\n", b"Host: x\r\nX-Forwarded-Proto: http\r\n", 1)
    third = _request(register_envelope(register_request(), version="1.2"))
    heads, after = _heads(served, plain + forwarded + third, 3)
    assert [h.split(b"\r\n", 1)[0] for h in heads] == [b"HTTP/1.1 200 OK"] * 3
    assert _header_names(heads[0]) == _header_names(heads[1]) == _header_names(heads[2])
    assert b"connection: keep-alive" in heads[0].lower() and after == b""


def test_connection_close_is_honoured(served):
    raw = _request(register_envelope(register_request(), version="1.2"))
    heads, after = _heads(served, raw.replace(b"Host: x\r\n", b"Host: x\r\nConnection: close\r\n", 1), 1)
    assert b"connection: close" in heads[0].lower() and after == b"<closed>"


def test_kept_alive_connections_are_served_in_turn(served):
    """A request thread puts a kept-alive connection back on the event loop itself: four connections,
    each sending its next request only after its answer (the fast path, then gunicorn's own parser,
    alternately), get every answer on the connection they opened."""
    plain = [_request(register_envelope(register_request(), version="1.2")) for _ in range(40)]
    sent = [raw.replace(b"Host: x\r\n", b"Host: x\r\nX-Forwarded-Proto: http\r\n", 1) if i % 2 else raw
            for i, raw in enumerate(plain)]
    answered: list[bool] = []
    lock = threading.Lock()

    def client(requests: list[bytes]) -> None:
        with socket.create_connection(("127.0.0.1", served), timeout=20) as s:
            for raw in requests:
                s.sendall(raw)
                (head, body), = _read_answers(s, 1)[0]
                with lock:
                    answered.append(_ok(head.split(b"\r\n", 1)[0] + b" " + body)
                                    and b"connection: keep-alive" in head.lower())

    threads = [threading.Thread(target=client, args=(sent[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answered) == 40 and all(answered)
