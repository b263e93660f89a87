"""``mock-remd serve`` under gunicorn: the ready line, two workers delivering each callback once, SIGTERM."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import yaml
from instances import free_port, wait_ready
from remd_requests import DEMO_CLIENT, DEMO_ORG, register_request, sync_status

from mock_remd.soap.builders import content_type, register_envelope


def _read_ready_line(proc: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    buf = b""
    while time.monotonic() < deadline:
        chunk = proc.stdout.read()
        if chunk:
            buf += chunk
            if b"\n" in buf:
                return buf.split(b"\n", 1)[0].decode()
        if proc.poll() is not None:
            break
        time.sleep(0.05)  # waiting on a child process's output
    raise AssertionError(f"no ready line within {timeout} s: {buf!r}")


@pytest.fixture
def gunicorn_server(tmp_path, sink):
    port = free_port()
    config = tmp_path / "remd.yaml"
    config.write_text(yaml.safe_dump({"systems": [{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT,
                                                    "callback_url": sink.url, "organizations": [DEMO_ORG]}]}))
    env = {**os.environ, "MOCK_REMD_VALIDATION": "none", "MOCK_REMD_CONFIG": str(config)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_remd", "serve", "--port", str(port), "--workers", "2",
         "--db", f"sqlite:///{tmp_path / 'remd.db'}"],
        stdout=subprocess.PIPE, stderr=(tmp_path / "stderr.log").open("wb"), env=env,
    )
    try:
        line = _read_ready_line(proc, 30)
        url = f"http://127.0.0.1:{port}"
        wait_ready(proc, url, tmp_path / "stderr.log", timeout=30)
        yield proc, url, line
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_two_gunicorn_workers_deliver_each_callback_once(gunicorn_server, sink):
    proc, url, line = gunicorn_server
    assert line == f"mock-remd ready on {url}"
    reqs = [register_request() for _ in range(120)]

    def send(req):
        r = requests.post(url + "/port/emdr", data=register_envelope(req), headers={"Content-Type": content_type("1.2")},
                          timeout=30)
        return sync_status(r)

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(send, reqs))
    assert statuses == ["success"] * len(reqs)
    sink.wait_count(len(reqs), timeout=60)
    counts = collections.Counter(r.relates_to for r in sink.results)
    assert len(counts) == len(reqs) and set(counts.values()) == {1}
    assert sink.requests_seen == len(reqs)
    ids = [r.emdr_id for r in sink.results]
    assert len(set(ids)) == len(ids)
    # both workers served: the journal names two different processes' requests is not visible, but the
    # store must show every document registered exactly once
    docs = requests.get(url + "/_admin/documents", params={"status": "registered", "limit": 1000}).json()
    assert docs["total"] == len(reqs)


def test_sigterm_stops_cleanly_without_losing_accepted_work(gunicorn_server, sink, tmp_path):
    proc, url, _ = gunicorn_server
    req = register_request()
    requests.put(url + "/_admin/systems/demo", json={"client_entity_id": DEMO_CLIENT, "callback_url": sink.url,
                                                      "organizations": [DEMO_ORG]})
    r = requests.post(url + "/port/emdr", data=register_envelope(req), headers={"Content-Type": content_type("1.2")})
    assert sync_status(r) == "success"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    # whatever was accepted is either delivered or still in the store for the next start
    from mock_remd.store.repository import Store

    store = Store(f"sqlite:///{tmp_path / 'remd.db'}")
    doc = store.documents.get(req.local_uid)
    assert doc is not None
    if doc.status == "pending":
        assert store.count_pending_work().jobs >= 1
    else:
        assert doc.status == "registered"
