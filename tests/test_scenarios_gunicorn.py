"""Socket-level drops under the real server (gunicorn, ``mock-remd serve``), the library loaded from
``MOCK_REMD_SCENARIOS_DIR``; the server keeps serving afterwards and logs no tracebacks."""

from __future__ import annotations

import pytest
import requests
import yaml
from instances import start_serve, stop, wait_ready
from remd_requests import DEMO_CLIENT, DEMO_ORG, register_request
from scenario_harness import raw_register

from mock_remd.soap.builders import content_type, register_envelope

DROPS = """\
name: wire
description: one drop per documentNumber
rules:
""" + "".join(
    f"  - match: {{document_number: '^{m}$'}}\n    sync: {{drop: {m}}}\n" for m in ("reset", "empty", "garbage", "close")
)


@pytest.fixture(scope="module")
def real_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gunicorn-scenarios")
    scenarios = tmp / "scenarios"
    scenarios.mkdir()
    (scenarios / "wire.yaml").write_text(DROPS, encoding="utf-8")
    config = tmp / "remd.yaml"
    config.write_text(yaml.safe_dump({"systems": [{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT,
                                                    "organizations": [DEMO_ORG]}]}))
    stderr = tmp / "stderr.log"
    proc, url = start_serve(f"sqlite:///{tmp / 'remd.db'}", config, stderr,
                            env={"MOCK_REMD_SCENARIOS_DIR": str(scenarios)})
    try:
        wait_ready(proc, url, stderr, timeout=30)
        yield url, int(url.rsplit(":", 1)[1]), stderr
    finally:
        stop(proc)


def test_drops_on_the_wire_under_gunicorn(real_server):
    url, port, stderr = real_server
    listing = requests.get(url + "/_admin/scenarios", timeout=5).json()
    assert "wire" in {i["name"] for i in listing["items"]}
    assert requests.put(url + "/_admin/scenarios/active", json={"names": ["wire"]}, timeout=5).status_code == 200

    assert raw_register("127.0.0.1", port, register_request(document_number="reset")) == (b"", "reset")
    assert raw_register("127.0.0.1", port, register_request(document_number="empty")) == (b"", "eof")
    garbage, ended = raw_register("127.0.0.1", port, register_request(document_number="garbage"))
    assert ended == "eof" and len(garbage) == 512 and not garbage.startswith(b"HTTP/")
    closed, ended = raw_register("127.0.0.1", port, register_request(document_number="close"))
    assert ended == "eof" and closed.startswith(b"HTTP/1.1 200") and closed.endswith(b"\r\n\r\n")
    # the magic value does the same without a scenario rule
    assert raw_register("127.0.0.1", port, register_request(document_number="MOCK:DROP:reset")) == (b"", "reset")

    # still serving: health, a normal registration, and the journal records each drop
    assert requests.get(url + "/health", timeout=5).json() == {"status": "ok"}
    req = register_request()
    resp = requests.post(url + "/port/emdr", data=register_envelope(req), timeout=10,
                         headers={"Content-Type": content_type("1.2")})
    assert resp.status_code == 200 and "<ns3:status>success</ns3:status>" in resp.text
    journal = requests.get(url + "/_admin/requests?limit=10", timeout=5).json()["items"]
    labels = [i["sync_status"] for i in journal]
    for mode in ("reset", "empty", "garbage", "close"):
        assert f"drop:{mode}" in labels
    log = stderr.read_text(errors="replace")
    assert "Traceback" not in log and "Socket error" not in log, log
