"""Issue 14, finding 8: callback and document URLs are absolute http(s) with a host, a valid port, no
credentials and no control characters (scheme in any case); no outgoing call follows a redirect; a
``file://`` URL in the config file is one line from ``serve``, not a traceback.

The redirecting MIS is a stdlib ``http.server``; what it redirects to counts every request it gets.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import yaml
from remd_requests import DEMO_CLIENT, DEMO_ORG, register, register_request

from mock_remd.config import ConfigError, Settings

BAD = [
    ("http:///callback", "хоста"),
    ("http://127.0.0.1:99999/callback", "порт"),
    ("http://user:secret@127.0.0.1:9090/callback", "пароль"),
    ("http://127.0.0.1:9090/cb\r\nX-Injected: 1", "управляющие"),
    ("file:///etc/passwd", "http://"),
    ("ftp://127.0.0.1/x", "http://"),
]


class _Counter:
    """Two servers: one that answers every POST with 307 to the other, which counts what reaches it."""

    def __init__(self) -> None:
        self.hits = 0
        counter = self

        class Target(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                counter.hits += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.target = ThreadingHTTPServer(("127.0.0.1", 0), Target)
        location = f"http://127.0.0.1:{self.target.server_address[1]}/elsewhere"

        class Redirect(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(307)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.redirect = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
        self.url = f"http://127.0.0.1:{self.redirect.server_address[1]}/emdr/callback"
        for srv in (self.target, self.redirect):
            srv.daemon_threads = True
            threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        for srv in (self.target, self.redirect):
            srv.shutdown()
            srv.server_close()


@pytest.fixture
def redirector():
    r = _Counter()
    yield r
    r.stop()


@pytest.mark.parametrize(("url", "said"), BAD)
@pytest.mark.parametrize("field", ["callback_url", "document_url"])
def test_admin_refuses_bad_urls(make_server, url, said, field):
    srv = make_server()
    body = {"client_entity_id": "00000000-0000-4000-8000-0000000000cc", "organizations": [DEMO_ORG], field: url}
    resp = requests.put(srv.url + "/_admin/systems/other", json=body, timeout=10)
    assert resp.status_code == 400, resp.text
    assert field in resp.text and said in resp.text


def test_scheme_in_any_case_and_ipv6_are_accepted(make_server):
    srv = make_server()
    for url in ("HTTP://127.0.0.1:9090/cb", "Https://example.test/cb", "http://[::1]:8080/cb"):
        body = {"client_entity_id": "00000000-0000-4000-8000-0000000000cc", "callback_url": url}
        assert requests.put(srv.url + "/_admin/systems/other", json=body, timeout=10).status_code == 200, url


def test_callback_redirect_is_not_followed(make_server, redirector):
    srv = make_server(systems=[{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": redirector.url,
                                "organizations": [DEMO_ORG]}], callback_backoff="0.05")
    _, req = register(srv, register_request())
    store = srv.runtime.store
    for _ in range(200):
        rows, _ = store.outbox.list(relates_to=req.message_id.split(":")[-1])
        if rows and rows[0].status == "dead":
            break
        threading.Event().wait(0.05)  # the sender runs on its own thread
    assert rows and rows[0].status == "dead"
    assert [a["http_status"] for a in rows[0].attempts] == [307, 307]
    assert redirector.hits == 0


def test_get_document_file_redirect_is_not_followed(make_server, sink, redirector):
    srv = make_server(systems=[{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": sink.url,
                                "document_url": redirector.url, "organizations": [DEMO_ORG]}])
    _, req = register(srv, register_request(document=None))
    result = sink.wait_for(req.message_id, timeout=15)
    assert result.status == "error" and "307" in result.errors[0]["message"]
    assert redirector.hits == 0


def test_dashboard_test_callback_redirect_is_not_followed(make_server, redirector):
    srv = make_server(systems=[{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": redirector.url,
                                "organizations": [DEMO_ORG]}])
    resp = requests.post(srv.url + "/_admin/ui/systems/demo/test-callback", timeout=30)
    assert resp.status_code == 200
    assert "307" in resp.text
    assert redirector.hits == 0


def test_file_url_in_config_is_one_line(tmp_path):
    config = tmp_path / "remd.yaml"
    config.write_text(yaml.safe_dump({"systems": [{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT,
                                                    "callback_url": "file:///etc/passwd"}]}))
    with pytest.raises(ConfigError, match="callback_url"):
        Settings.load({"config": str(config)}, environ={}).check()
    done = subprocess.run([sys.executable, "-m", "mock_remd", "serve", "--config", str(config), "--port", "0",
                           "--db", "sqlite://"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "MOCK_REMD_CONFIG": ""})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "callback_url" in lines[0] and "Traceback" not in done.stderr, done.stderr
