"""Durable callback delivery: retries with backoff, dead letters, restarts, flush and redelivery."""

from __future__ import annotations

import time

import requests
from remd_requests import DEMO_CLIENT, DEMO_ORG, register

from mock_remd.config import Settings
from mock_remd.domain.model import normalize_message_id
from mock_remd.server.threaded import ThreadedServer


def _deliveries(srv, req):
    return requests.get(f"{srv.url}/_admin/callbacks", params={"relates_to": req.message_id}).json()["items"]


def _wait_delivery(srv, req, status, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        items = _deliveries(srv, req)
        if items and items[0]["status"] == status:
            return items[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"delivery not {status} within {timeout} s: {items}")
        time.sleep(0.02)  # polling the admin API of a server in another thread


def test_callback_retried_after_500s_then_delivered(make_server, sink):
    srv = make_server(callback_backoff="0.05,0.05,0.05,0.05")
    sink.responses[:] = [500, 503]
    _, req = register(srv)
    result = sink.wait_for(req.message_id)
    assert result.status == "success"
    assert sink.requests_seen == 3
    d = _wait_delivery(srv, req, "delivered")
    assert [a["http_status"] for a in d["attempts"]] == [500, 503, 200]
    assert d["attempts"][0]["error"] == "HTTP 500"
    assert d["relates_to"] == normalize_message_id(req.message_id)


def test_delivery_dead_after_last_retry_and_visible(make_server, sink):
    srv = make_server(callback_backoff="0.02,0.02")
    sink.responses[:] = [500] * 10
    _, req = register(srv)
    d = _wait_delivery(srv, req, "dead")
    assert len(d["attempts"]) == 3  # first try + one per backoff step
    assert all(a["http_status"] == 500 for a in d["attempts"])
    dead = requests.get(f"{srv.url}/_admin/callbacks", params={"status": "dead"}).json()
    assert dead["total"] == 1 and dead["items"][0]["id"] == d["id"]
    assert sink.results == []


def test_refused_connection_is_retried_as_an_attempt(make_server, sink):
    srv = make_server(callback_backoff="0.02", systems=[{
        "mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": "http://127.0.0.1:9/emdr/callback",
        "organizations": [DEMO_ORG]}])
    _, req = register(srv)
    d = _wait_delivery(srv, req, "dead")
    assert len(d["attempts"]) == 2 and "не ответил" in d["attempts"][0]["error"]


def test_redeliver_queues_again_and_logs_a_new_attempt(make_server, sink):
    srv = make_server()
    _, req = register(srv)
    sink.wait_for(req.message_id)
    d = _wait_delivery(srv, req, "delivered")
    resp = requests.post(f"{srv.url}/_admin/callbacks/{d['id']}/redeliver")
    assert resp.status_code == 200
    sink.wait_count(2)
    d2 = _wait_delivery(srv, req, "delivered")
    assert len(d2["attempts"]) == 2
    assert requests.post(f"{srv.url}/_admin/callbacks/999999/redeliver").status_code == 404


def test_delayed_callback_released_by_flush(make_server, sink):
    srv = make_server(callback_delay_ms=3_600_000)
    _, req = register(srv)
    d = _wait_delivery(srv, req, "pending")
    assert d["attempts"] == []
    assert requests.post(f"{srv.url}/_admin/callbacks/flush").json()["released"] >= 1
    assert sink.wait_for(req.message_id).status == "success"


def test_pending_callback_survives_restart_on_same_database(tmp_path, sink):
    db = f"sqlite:///{tmp_path / 'remd.db'}"
    systems = [{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": sink.url, "organizations": [DEMO_ORG]}]
    base = {"db_url": db, "port": 0, "validation": "none", "systems": systems}
    first = ThreadedServer(Settings.load({**base, "callback_delay_ms": 3_600_000}, environ={})).start()
    try:
        _, req = register(first)
        _wait_delivery(first, req, "pending")
    finally:
        first.stop()
    assert sink.results == []
    second = ThreadedServer(Settings.load(base, environ={})).start()
    try:
        assert _wait_delivery(second, req, "pending")["attempts"] == []
        requests.post(f"{second.url}/_admin/callbacks/flush")
        result = sink.wait_for(req.message_id)
        assert result.status == "success" and result.emdr_id
        doc = requests.get(f"{second.url}/_admin/documents/{req.local_uid}").json()
        assert doc["emdr_id"] == result.emdr_id
    finally:
        second.stop()


def test_accepted_document_processed_after_restart(tmp_path, sink):
    """A document accepted but not yet processed when the server stops is processed by the next one."""
    db = f"sqlite:///{tmp_path / 'remd.db'}"
    systems = [{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": sink.url, "organizations": [DEMO_ORG]}]
    settings = Settings.load({"db_url": db, "port": 0, "validation": "none", "systems": systems}, environ={})
    first = ThreadedServer(settings, background=False).start()  # answers, never processes: a crash stand-in
    try:
        _, req = register(first)
        assert requests.get(f"{first.url}/_admin/documents/{req.local_uid}").json()["status"] == "pending"
    finally:
        first.stop()
    second = ThreadedServer(Settings.load({"db_url": db, "port": 0, "validation": "none", "systems": systems},
                                          environ={})).start()
    try:
        assert sink.wait_for(req.message_id).status == "success"
    finally:
        second.stop()


class _Silent:
    """A TCP server on loopback that reads each request and then either never answers or hangs up
    (``reset``), or speaks TLS with ``context`` (a certificate the callback's CAs do not know)."""

    def __init__(self, *, reset: bool = False, context=None) -> None:
        import socket
        import threading

        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.reset, self.context, self.held = reset, context, []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        import socket
        import struct

        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                if self.context is not None:
                    conn = self.context.wrap_socket(conn, server_side=True)
                else:
                    conn.recv(65536)
                    if self.reset:  # RST instead of an answer
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        conn.close()
                        continue
            except OSError:
                conn.close()
                continue
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for c in self.held:
            c.close()


def _server_to(make_server, url, **settings):
    return make_server(systems=[{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": url,
                                 "organizations": [DEMO_ORG]}], callback_backoff="0.02", **settings)


def test_silent_address_times_out_with_the_timeout_named(make_server):
    silent = _Silent()
    try:
        srv = _server_to(make_server, f"http://127.0.0.1:{silent.port}/cb", callback_timeout=0.3)
        _, req = register(srv)
        d = _wait_delivery(srv, req, "dead")
        assert [a["error"] for a in d["attempts"]] == [f"сервер по адресу 127.0.0.1:{silent.port} не ответил за 0.3 с"] * 2
        assert all(a["http_status"] is None for a in d["attempts"])
    finally:
        silent.close()


def test_address_that_hangs_up_is_named(make_server):
    silent = _Silent(reset=True)
    try:
        srv = _server_to(make_server, f"http://127.0.0.1:{silent.port}/cb")
        _, req = register(srv)
        d = _wait_delivery(srv, req, "dead")
        assert d["attempts"][0]["error"] == f"сервер по адресу 127.0.0.1:{silent.port} разорвал соединение"
    finally:
        silent.close()


def test_https_address_with_an_unknown_certificate_is_refused(make_server, tmp_path):
    """A TLS callback address is verified against the CA bundle (certificate made by the OpenSSL CLI)."""
    import shutil
    import ssl
    import subprocess

    import pytest

    if not shutil.which("openssl"):
        pytest.skip("openssl CLI not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    tls = _Silent(context=context)
    try:
        srv = _server_to(make_server, f"https://127.0.0.1:{tls.port}/cb")
        _, req = register(srv)
        d = _wait_delivery(srv, req, "dead")
        assert d["attempts"][0]["error"] == \
            f"не удалось установить защищённое соединение с сервером по адресу 127.0.0.1:{tls.port}"
    finally:
        tls.close()


def test_proxy_in_the_environment_is_not_used_for_callbacks(make_server, sink, monkeypatch):
    """Callbacks go straight to the MIS: a proxy variable (pointing nowhere) set while one waits changes nothing."""
    srv = make_server(callback_delay_ms=700)
    _, req = register(srv)
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert sink.wait_for(req.message_id).status == "success"
    admin = requests.Session()
    admin.trust_env = False  # the test's own reads go straight too
    deadline = time.monotonic() + 10
    while (d := admin.get(f"{srv.url}/_admin/callbacks", params={"relates_to": req.message_id}).json()["items"][0])[
            "status"] != "delivered" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [a["http_status"] for a in d["attempts"]] == [200]


def test_gzip_answer_of_the_mis_is_logged_decoded(make_server):
    """A MIS (a stdlib server) that gzips its answer: the attempt log keeps the text, as requests decoded it."""
    import gzip
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):  # noqa: N802
            seen.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
            reply = gzip.compress("<ответ>принято</ответ>".encode())
            self.send_response(202)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    mis = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=mis.serve_forever, daemon=True).start()
    try:
        srv = _server_to(make_server, f"http://127.0.0.1:{mis.server_address[1]}/cb?system=demo")
        _, req = register(srv)
        d = _wait_delivery(srv, req, "delivered")
        assert d["attempts"][0]["http_status"] == 202 and d["attempts"][0]["response"] == "<ответ>принято</ответ>"
        headers, body = seen[0]
        assert headers["Content-Type"] == "text/xml; charset=utf-8"
        assert headers["SOAPAction"] == '"sendRegisterDocumentResult"'
        assert "gzip" in headers["Accept-Encoding"] and "Expect" not in headers
        assert body.startswith(b"<?xml") and b"registerDocumentResult" in body
    finally:
        mis.shutdown()


def test_libcurl_is_loaded_only_where_callbacks_are_sent(tmp_path):
    """An HTTP worker's runtime and app (role ``http``) never load pycurl and its own OpenSSL (tens of MB of
    RSS in every worker); the background role loads it at its first callback, not before."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from mock_remd.config import Settings\n"
        "from mock_remd.runtime import Runtime\n"
        "from mock_remd.server.wsgi import make_app\n"
        f"rt = Runtime(Settings.load({{'db_url': 'sqlite:///{tmp_path / 'remd.db'}'}}, environ={{}}), role='http')\n"
        "make_app(rt)\n"
        "print('pycurl' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"



def test_a_batch_of_posts_gives_each_delivery_what_a_single_post_gives(tmp_path, sink):
    """The sender POSTs a batch at once (libcurl's multi interface): a stdlib MIS that answers 200 or 500,
    a refused port, one that hangs up and one that stays silent, mixed in one batch, get in order the
    attempt entries a POST of each alone gets, and the good MIS every callback exactly once."""
    import datetime as dt
    import socket

    from mock_remd.catalog.incidents import failure_sentence
    from mock_remd.delivery.sender import CallbackSender
    from mock_remd.store.outbox import Delivery
    from mock_remd.store.repository import Store

    closed = socket.create_server(("127.0.0.1", 0))
    refused = closed.getsockname()[1]
    closed.close()
    silent, hangs_up = _Silent(), _Silent(reset=True)
    sink.responses[:] = [500]  # the first POST the MIS sees is answered 500, the rest 200
    store = Store(f"sqlite:///{tmp_path / 'remd.db'}")
    sender = CallbackSender(store, timeout=0.5)
    now = dt.datetime.now(dt.UTC)
    urls = [f"http://127.0.0.1:{refused}/cb", f"http://127.0.0.1:{silent.port}/cb", sink.url,
            f"http://127.0.0.1:{hangs_up.port}/cb", "http://127.0.0.1:99999/cb"]
    rows = [Delivery(id=i, url=url, body=f"<callback n='{i}'/>".encode(), status="sending", due_at=now,
                     created_at=now, backoff=[1.0], relates_to=f"urn:uuid:00000000-0000-0000-0000-00000000000{i}")
            for i, url in enumerate(urls)]
    try:
        batch = sender.attempt_all(rows[:2] + rows[3:])
        alone = [sender.attempt(r) for r in rows[:2] + rows[3:]]
        with_mis = sender.attempt_all(rows[2:3] * 3)
    finally:
        silent.close()
        hangs_up.close()
        store.close()

    def entry(result):
        return {k: v for k, v in result.attempt.items() if k not in ("at", "duration_ms")}, result.delivered

    assert [entry(r) for r in batch] == [entry(r) for r in alone]
    kinds = ["refused", "read_timeout", "hung_up"]
    assert [r.attempt["error"] for r in batch[:3]] == [
        failure_sentence(kind, row.url, timeout=0.5) for kind, row in zip(kinds, rows[:2] + rows[3:4], strict=True)]
    assert batch[3].attempt["error"] and batch[3].attempt["http_status"] is None  # a port no socket can have
    assert sorted(r.attempt["http_status"] for r in with_mis) == [200, 200, 500]
    assert all(r.next_due is not None for r in batch) and [r.delivered for r in with_mis].count(True) == 2
    assert sink.requests_seen == 3


def test_a_batch_keeps_at_most_as_many_posts_under_way_as_a_pool_of_that_many_threads(tmp_path):
    """Eight callbacks to a MIS that reads and never answers, four at a time: the MIS never holds more than
    four connections, and each POST times out after its own start (none of them waits out its timeout
    queued behind the others)."""
    import datetime as dt
    import socket
    import threading

    from mock_remd.catalog.incidents import failure_sentence
    from mock_remd.delivery.sender import CallbackSender
    from mock_remd.store.outbox import Delivery
    from mock_remd.store.repository import Store

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    held, peak, accepted = [], [0], [0]

    def established(conn) -> bool:
        # The kernel's view, not a reader thread's: a client that closed and at once opened the next
        # connection has its FIN in before its SYN, but the thread reading the old one may not have run yet.
        try:
            state = conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]
        except OSError:  # the reader thread has closed it meanwhile
            return False
        return state == 1  # TCP_ESTABLISHED; CLOSE_WAIT once the client has closed

    def hold(conn):
        with conn:
            while conn.recv(65536):  # until the client gives up and closes
                pass

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            accepted[0] += 1
            peak[0] = max(peak[0], sum(1 for c in held if established(c)))
            threading.Thread(target=hold, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    store = Store(f"sqlite:///{tmp_path / 'remd.db'}")
    sender = CallbackSender(store, timeout=0.3, threads=4)
    now = dt.datetime.now(dt.UTC)
    url = f"http://127.0.0.1:{port}/cb"
    rows = [Delivery(id=i, url=url, body=b"<callback/>", status="sending", due_at=now, created_at=now, backoff=[])
            for i in range(8)]
    try:
        results = sender.attempt_all(rows)
    finally:
        server.close()
        store.close()
    assert [r.attempt["error"] for r in results] == [failure_sentence("read_timeout", url, timeout=0.3)] * 8
    assert accepted[0] == 8 and 1 <= peak[0] <= 4


def test_a_callback_of_another_process_is_sent_soon_while_callbacks_are_handed_over(tmp_path, sink):
    """While its processor keeps handing callbacks over, the sender looks for due callbacks of others
    (written pending: another process, a redelivery) at most every CLAIM_EVERY seconds, not at every
    commit: one written meanwhile still goes out within about that time, and every callback exactly once."""
    import threading
    import uuid

    from mock_remd.delivery.callback_xml import ACTION, result_envelope
    from mock_remd.delivery.sender import CLAIM_EVERY, CallbackSender
    from mock_remd.store.outbox import NewDelivery
    from mock_remd.store.repository import Store

    def delivery() -> NewDelivery:
        mid = f"urn:uuid:{uuid.uuid4()}"
        outcome = {"status": "success", "emdr_id": "50.99.000000000001", "local_uid": str(uuid.uuid4()),
                   "registration_date_time": "2026-12-07T05:00:00.000+03:00", "store_till_date": "2051-12-07+03:00",
                   "kind": "186", "organization": DEMO_ORG}
        return NewDelivery(url=sink.url, body=result_envelope(outcome, relates_to=mid, to=sink.url), relates_to=mid,
                           local_uid=outcome["local_uid"], system="demo", action=ACTION, backoff=[0.05])

    store = Store(f"sqlite:///{tmp_path / 'remd.db'}")
    sender = CallbackSender(store, timeout=5.0, poll_interval=0.02)
    stop = threading.Event()
    handed = []

    def hand_over() -> None:  # the processor of this process: a batch every 50 ms
        while not stop.wait(0.05):
            rows = store.outbox.add_all([delivery(), delivery()], hand_to=sender.owner)
            handed.extend(rows)
            sender.take(rows)

    sender.start()
    feeder = threading.Thread(target=hand_over)
    feeder.start()
    try:
        time.sleep(0.3)  # handing over in full swing
        other = store.outbox.add(delivery())  # pending, due now: what another process leaves to any sender
        written = time.monotonic()
        while store.outbox.get(other).status != "delivered":
            assert time.monotonic() - written < CLAIM_EVERY + 2.0, "the other process's callback waited too long"
            time.sleep(0.01)
    finally:
        stop.set()
        feeder.join()
    try:
        sink.wait_count(len(handed) + 1, timeout=10)
        time.sleep(0.2)  # a second POST of any of them would come now
        assert sink.requests_seen == len(handed) + 1
        assert len({r.relates_to for r in sink.results}) == len(handed) + 1
    finally:
        sender.stop()
        store.close()
