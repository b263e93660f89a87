"""``mock-remd wait URL``: exit statuses and output against real HTTP servers."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mock_remd.cli.main import main
from mock_remd.server.threaded import ThreadedServer


class _Starting:
    """An HTTP server whose /ready answers 503 ``not_ready`` times, then 200."""

    def __init__(self, not_ready: int) -> None:
        self.not_ready = not_ready
        self.seen: list[int] = []
        starting = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                status = 503 if len(starting.seen) < starting.not_ready else 200
                starting.seen.append(status)
                body = b'{"status": "starting"}' if status == 503 else b'{"status": "ready"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def starting():
    servers: list[_Starting] = []

    def make(not_ready: int) -> _Starting:
        servers.append(_Starting(not_ready))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ready_server_exits_0(capsys):
    with ThreadedServer(validation="none") as srv:
        assert main(["wait", srv.url, "--timeout", "5"]) == 0
        assert capsys.readouterr().out.strip() == f"{srv.url} готов"  # Russian by default, one language
        assert main(["wait", srv.url, "--timeout", "5", "--lang", "en"]) == 0
    assert capsys.readouterr().out.strip() == f"{srv.url} is ready"


def test_waits_through_503_until_ready(starting, capsys):
    srv = starting(not_ready=2)
    assert main(["wait", srv.url + "/", "--timeout", "10"]) == 0
    assert srv.seen == [503, 503, 200]
    assert f"{srv.url}/ готов" in capsys.readouterr().out


def test_never_ready_exits_1_with_the_last_status(starting, capsys):
    srv = starting(not_ready=10**6)
    assert main(["wait", srv.url, "--timeout", "0.6"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    where = srv.url.split("//", 1)[1]
    assert err.strip() == f"mock-remd wait: {srv.url} не готов за 0.6 с: сервер {where} ответил HTTP 503"


def test_nothing_listening_exits_1(capsys):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    assert main(["wait", url, "--timeout", "0.3", "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert f"not ready after 0.3 s: the server at 127.0.0.1:{port} refused the connection" in err
    assert "ConnectionError" not in err


def test_quiet_prints_nothing(starting, capsys):
    srv = starting(not_ready=10**6)
    assert main(["wait", srv.url, "--timeout", "0.2", "--quiet"]) == 1
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("argv", [["wait", "127.0.0.1:8080"], ["wait"], ["wait", "http://x", "--timeout", "soon"]])
def test_unusable_input_exits_2(argv, capsys):
    assert main(argv) == 2
    assert capsys.readouterr().err


def test_module_entry_point(starting):
    srv = starting(not_ready=1)
    proc = subprocess.run([sys.executable, "-m", "mock_remd", "wait", srv.url, "--timeout", "10"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"{srv.url} готов"
