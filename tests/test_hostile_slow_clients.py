"""Issue 14, findings 3 and 9, against a real ``mock-remd serve`` (gunicorn, two workers, SQLite file):

* 200 connections that send their headers or bodies one byte at a time do not stop the server:
  ``/health`` and a registration are answered while they are held;
* requests gunicorn's parser refuses (request line too long, headers too large, garbage) are
  answered on the SOAP endpoint with a SOAP Fault, not gunicorn's HTML page;
* 60 MB requests do not leave the workers hundreds of MB larger.

Raw sockets play the clients (stdlib ``socket``), as a careless or hostile client would.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from instances import start_serve, stop, wait_ready, write_config
from remd_requests import post, register_request, sync_status

from mock_remd.soap.builders import attachment, register_envelope

SLOW = 200


@contextlib.contextmanager
def _serving(folder: Path, callback_url: str):
    config = write_config(folder, callback_url)
    log = folder / "serve.log"
    proc, url = start_serve(f"sqlite:///{folder / 'remd.db'}", config, log, workers=2, processors=1)
    try:
        wait_ready(proc, url, log)
        yield proc, url, log
    finally:
        stop(proc)


@pytest.fixture
def served(tmp_path, sink):
    """A server of the test's own (slow connections it holds must not linger into other tests)."""
    with _serving(tmp_path, sink.url) as s:
        yield s


@pytest.fixture(scope="module")
def shared_served(tmp_path_factory):
    """One server for the tests that send a single refused request each and keep no state."""
    with _serving(tmp_path_factory.mktemp("refused"), "http://127.0.0.1:9/never-called") as s:
        yield s


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


class _Trickle:
    """``count`` connections: half send their headers one byte at a time, half a declared body."""

    def __init__(self, port: int, count: int) -> None:
        self.socks: list[tuple[socket.socket, bytes]] = []
        for i in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if i % 2:
                s.sendall(b"POST /port/emdr HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                          b"Content-Length: 100000\r\n\r\n<")
                self.socks.append((s, b"x" * 100))
            else:
                self.socks.append((s, b"POST /port/emdr HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"y" * 100))
        self._stop = threading.Event()
        self.closed_by_server = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        offset = 0
        while not self._stop.wait(1.0):  # one byte a second on every connection
            for s, data in list(self.socks):
                try:
                    s.send(data[offset % len(data):offset % len(data) + 1])
                except OSError:
                    self.socks.remove((s, data))
                    self.closed_by_server += 1
            offset += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for s, _ in self.socks:
            with contextlib.suppress(OSError):
                s.close()


def test_two_hundred_slow_connections_do_not_stop_the_server(served, sink):
    _proc, url, _log = served
    trickle = _Trickle(_port(url), SLOW)
    try:
        time.sleep(1.5)  # let every slow connection be accepted and start trickling
        assert requests.get(url + "/health", timeout=5).status_code == 200
        req = register_request()
        resp = post(url + "/port/emdr", register_envelope(req, version="1.2"))
        assert sync_status(resp) == "success"
        assert sink.wait_for(req.message_id, timeout=15).status == "success"
        assert requests.get(url + "/ready", timeout=5).status_code == 200
    finally:
        trickle.close()


def _raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"POST /port/emdr?" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"414"),
        (b"POST /port/emdr HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\nContent-Length: 0\r\n\r\n", b"431"),
        (b"POST /port/emdr HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", b"400"),
        (b"\x16\x03\x01 garbage\r\n\r\n", b"400"),
    ],
)
def test_soap_endpoint_answers_soap_faults_not_gunicorn_html(shared_served, request_bytes, status):
    _proc, url, _log = shared_served
    answer = _raw(_port(url), request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == status, answer[:300]
    assert b"<html" not in body.lower()
    assert b"Fault" in body and b"Envelope" in body, body[:300]
    from mock_remd.catalog.faults import FAULTS
    from mock_remd.server.buffering_worker import _REFUSALS

    reason = FAULTS[_REFUSALS[int(status)]].template  # the catalogue's refusal, as gunicorn's worker sent it
    assert f"<faultstring>{reason}</faultstring>".encode() in body, body[:300]


def test_admin_paths_answer_json_errors(shared_served):
    _proc, url, _log = shared_served
    answer = _raw(_port(url), b"GET /_admin/systems HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"431" and body.startswith(b"{\"error\"")


def _workers_rss_mb(pid: int) -> float:
    """Resident memory of the HTTP workers among ``pid``'s children (not the background process), MiB."""
    kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    total = 0
    for k in kids:
        with contextlib.suppress(OSError):
            if b"background_process" in Path(f"/proc/{k}/cmdline").read_bytes():
                continue
            for line in Path(f"/proc/{k}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_large_bodies_do_not_stay_in_worker_memory(tmp_path, sink):
    config = write_config(tmp_path, sink.url)
    log = tmp_path / "serve.log"
    proc, url = start_serve(f"sqlite:///{tmp_path / 'remd.db'}", config, log, workers=1, processors=1)
    try:
        wait_ready(proc, url, log)
        big = os.urandom(44 * 1024 * 1024)  # 44 MB of document: a 60 MB envelope once base64-encoded
        post(url + "/port/emdr", register_envelope(register_request(), version="1.2"))  # warm
        before = _workers_rss_mb(proc.pid)
        for _ in range(3):
            req = register_request()
            req.document = attachment(big)
            assert post(url + "/port/emdr", register_envelope(req, version="1.2")).status_code == 200
        time.sleep(1)  # the answers are sent; let the worker settle
        grown = _workers_rss_mb(proc.pid) - before
    finally:
        stop(proc)
    print(f"the HTTP worker's RSS grew by {grown:.0f} MiB after three 60 MB requests")
    assert grown < 130, grown  # was 186 MiB with gunicorn's gthread worker as it came


@pytest.mark.slow
def test_slow_connections_are_closed_after_the_timeouts_and_work_goes_on(served, sink):
    """Soak: 200 slow connections for ~25 s, renewed as the server drops them, while 100 documents are
    registered; every document is answered and called back, and the slow ones are closed (header 10 s,
    or pushed out by newer ones)."""
    from mock_remd.server.buffering_worker import HEADER_TIMEOUT

    _proc, url, _log = served
    trickle = _Trickle(_port(url), SLOW)
    try:
        reqs = []
        deadline = time.monotonic() + HEADER_TIMEOUT * 2.5
        while time.monotonic() < deadline and len(reqs) < 100:
            req = register_request()
            assert sync_status(post(url + "/port/emdr", register_envelope(req, version="1.2"))) == "success"
            reqs.append(req)
            time.sleep(0.2)  # a steady trickle of real work beside the slow clients
        for req in reqs:
            assert sink.wait_for(req.message_id, timeout=30).status == "success"
        assert trickle.closed_by_server >= SLOW // 2, trickle.closed_by_server
        assert requests.get(url + "/health", timeout=5).status_code == 200
    finally:
        trickle.close()
