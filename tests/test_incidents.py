"""Faults of ours become answers from the catalogue with an incident id, never exception text.

A layer that raises (a test-only layer put in the pipeline's layer table of this process), a getDocumentFile
target that does not answer, a database table that is gone and a poison document in a batch: each is seen
through every user-facing output — SOAP answer, callback, admin API, dashboard page, CLI output.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import time

import pytest
import requests
from exception_text import assert_clean
from remd_requests import DEMO_CLIENT, DEMO_ORG, register, register_request, sync_status
from sqlalchemy import text, update

from mock_remd.cli.main import main as cli_main
from mock_remd.config import Settings
from mock_remd.server.threaded import ThreadedServer
from mock_remd.store import schema as t
from mock_remd.validation import report

INCIDENT = re.compile(r"internal error ([0-9a-f]{8})$")


class BrokenLayer:
    """A layer with a bug: it raises with library-looking text that must never reach a user."""

    name = "header"

    def __init__(self, settings) -> None:
        self.settings = settings

    def run(self, ctx):
        raise ValueError('Traceback (most recent call last): File "/x/lxml/etree.py" KeyError(1) sqlalchemy.exc')


@pytest.fixture
def broken_header(monkeypatch):
    """Our own pipeline's layer table, in this test process only: the header layer is :class:`BrokenLayer`."""
    monkeypatch.setitem(report.LAYERS, "header", f"{__name__}:BrokenLayer")


def _document(srv, local_uid: str, status: str = "", timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        doc = requests.get(f"{srv.url}/_admin/documents/{local_uid}", timeout=5).json()
        if doc.get("status") not in ("pending", None) and (not status or doc["status"] == status):
            return doc
        assert time.monotonic() < deadline, f"document {local_uid} still {doc.get('status')}"
        time.sleep(0.05)


def _check_everywhere(srv, local_uid: str, *answers) -> tuple[str, str]:
    """Admin API record and dashboard page of ``local_uid`` (and the given answers) carry no exception text."""
    for i, a in enumerate(answers):
        assert_clean(a, f"answer {i}")
    doc = requests.get(f"{srv.url}/_admin/documents/{local_uid}", timeout=5)
    assert_clean(doc.text, "admin API document")
    page = requests.get(f"{srv.url}/documents/{local_uid}", timeout=5)
    assert page.status_code == 200
    assert_clean(page.text, "dashboard document page")
    return doc.text, page.text


def test_broken_layer_accept_registers_from_the_layers_that_ran(make_server, sink, broken_header, caplog):
    srv = make_server(validation="xml,header")
    caplog.set_level(logging.ERROR, logger="mock_remd.incidents")
    resp, req = register(srv)
    assert sync_status(resp) == "success"
    result = sink.wait_for(req.message_id)
    assert result.status == "success" and result.emdr_id
    doc = _document(srv, req.local_uid)
    header = next(lr for lr in doc["layers"] if lr["name"] == "header")
    assert header["ran"] is False
    m = INCIDENT.match(header["reason"])
    assert m, header["reason"]
    incident = m.group(1)
    # the log has the traceback under the same id
    record = next(r for r in caplog.records if incident in r.getMessage())
    assert record.exc_info is not None
    admin, page = _check_everywhere(srv, req.local_uid, resp.content, result.raw)
    assert f"internal error {incident}" in admin and incident in page


def test_broken_layer_reject_answers_xml_validator_error_with_the_incident_only(make_server, sink, broken_header):
    srv = make_server(validation="xml,header", on_internal_error="reject")
    resp, req = register(srv)
    result = sink.wait_for(req.message_id)
    assert result.status == "error"
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error["code"] == "XML_VALIDATOR_ERROR"
    m = re.fullmatch(r"Внутренняя ошибка валидации СЭМД \(инцидент ([0-9a-f]{8})\)", error["message"])
    assert m, error["message"]
    doc = _document(srv, req.local_uid)
    assert doc["status"] == "rejected"
    header = next(lr for lr in doc["layers"] if lr["name"] == "header")
    assert header["ran"] is False and header["reason"] == f"internal error {m.group(1)}"
    _check_everywhere(srv, req.local_uid, resp.content, result.raw)


def test_on_internal_error_setting_is_checked():
    from mock_remd.config import ConfigError

    with pytest.raises(ConfigError, match="MOCK_REMD_ON_INTERNAL_ERROR"):
        Settings.load({"on_internal_error": "maybe"}, environ={}).check()
    assert Settings.load({}, environ={"MOCK_REMD_ON_INTERNAL_ERROR": "reject"}).on_internal_error == "reject"


def test_cli_validate_with_a_broken_layer_prints_no_exception_text(broken_header, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    doc = tmp_path / "doc.xml"
    doc.write_bytes(b'<ClinicalDocument xmlns="urn:hl7-org:v3"><title>x</title></ClinicalDocument>')
    for fmt in ("text", "json", "junit"):
        code = cli_main(["validate", str(doc), "--layers", "xml,header", "--format", fmt])
        out = capsys.readouterr()
        assert code == 0, out
        assert_clean(out.out + out.err, f"validate --format {fmt}")
        assert re.search(r"internal error [0-9a-f]{8}", out.out), out.out
    report = json.loads((cli_main(["validate", str(doc), "--layers", "xml,header", "--format", "json"]), capsys.readouterr().out)[1])
    assert next(lr for lr in report["layers"] if lr["name"] == "header")["ran"] is False
    # the traceback went to the incident log, not the terminal
    assert "Traceback" in (tmp_path / ".mock-remd" / "incidents.log").read_text()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_pull_target_is_one_sentence_naming_the_address(make_server, sink):
    port = _closed_port()
    systems = [{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": sink.url,
                "document_url": f"http://127.0.0.1:{port}/mis/files", "organizations": [DEMO_ORG]}]
    srv = make_server(systems=systems, pull_timeout=2)
    resp, req = register(srv, register_request(document=None))
    assert sync_status(resp) == "success"
    result = sink.wait_for(req.message_id)
    assert result.error_codes == ["MIS_NOT_AVAILABLE"]
    message = result.errors[0]["message"]
    assert f"127.0.0.1:{port}" in message and "не ответил" in message, message
    _check_everywhere(srv, req.local_uid, resp.content, result.raw)


def test_unreachable_callback_target_attempts_are_sentences(make_server, sink):
    port = _closed_port()
    systems = [{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": f"http://127.0.0.1:{port}/cb",
                "organizations": [DEMO_ORG]}]
    srv = make_server(systems=systems, callback_backoff="0.05")
    _, req = register(srv)
    deadline = time.monotonic() + 10
    while True:
        items = requests.get(f"{srv.url}/_admin/callbacks", params={"relates_to": req.message_id}, timeout=5).json()["items"]
        if items and items[0]["status"] == "dead":
            break
        assert time.monotonic() < deadline, items
        time.sleep(0.05)
    body = requests.get(f"{srv.url}/_admin/callbacks", params={"relates_to": req.message_id}, timeout=5).text
    assert_clean(body, "admin API callbacks")
    assert f"127.0.0.1:{port}" in items[0]["attempts"][0]["error"]


def test_database_fault_in_the_admin_api_is_an_incident_not_a_text(make_server):
    srv = make_server()
    with srv.runtime.store.db.engine.begin() as c:
        c.execute(text("DROP TABLE outbox"))
    resp = requests.get(f"{srv.url}/_admin/callbacks", timeout=5)
    assert resp.status_code in (500, 503)
    body = resp.json()
    assert body["error"] == "внутренняя ошибка" and re.fullmatch(r"[0-9a-f]{8}", body["incident"])
    assert_clean(resp.text, "admin API 5xx")
    ready = requests.get(f"{srv.url}/ready", timeout=5)
    assert_clean(ready.text, "/ready")


def test_unreadable_trusted_ca_is_a_server_fault_on_ready(tmp_path, sink):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    srv = ThreadedServer(Settings.load({"db_url": "sqlite://", "port": 0, "trusted_ca": str(ca), "validation": "signatures",
                                        "signatures": "structure"}, environ={})).start()
    try:
        ca.unlink()
        ready = requests.get(f"{srv.url}/ready", timeout=5)
        details = ready.json()["details"]
        assert any("MOCK_REMD_TRUSTED_CA" in f and "не читается" in f for f in details["server_faults"]), details
        details = requests.get(f"{srv.url}/ready", headers={"Accept-Language": "en"}, timeout=5).json()["details"]
        assert "the trusted CA list MOCK_REMD_TRUSTED_CA [" in " ".join(details["server_faults"]), details
        assert_clean(ready.text, "/ready")
    finally:
        srv.stop()


def test_seeding_conflict_names_the_duplicate(make_server):
    srv = make_server()
    item = {"local_uid": "seed-1", "kind": "119", "organization": DEMO_ORG, "emdr_id": "1.50.26.01.000000777",
            "registration_date_time": "2026-01-10T10:00:00+03:00"}
    assert requests.post(f"{srv.url}/_admin/documents", json=[item], timeout=5).status_code == 201
    again = requests.post(f"{srv.url}/_admin/documents", json=[{**item, "local_uid": "seed-2"}], timeout=5)
    assert again.status_code == 409 and "1.50.26.01.000000777" in again.json()["error"]
    twice = requests.post(f"{srv.url}/_admin/documents", json=[{**item, "local_uid": "s3", "emdr_id": None},
                                                                {**item, "local_uid": "S3", "emdr_id": None}], timeout=5)
    assert twice.status_code == 409 and "S3" in twice.json()["error"]
    for resp in (again, twice):
        assert_clean(resp.text, "seeding 409")


def test_poison_document_in_a_batch_does_not_hold_back_the_others(tmp_path, sink):
    """One document whose outcome cannot be written (a stored callback delay no timedelta can hold, as an
    older version accepted) sits in a batch with 15 good ones: the good ones get their callbacks at once,
    the poison one is set aside as ``failed`` with an incident id and an XML_VALIDATOR_ERROR callback."""
    systems = [{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": sink.url,
                "organizations": [DEMO_ORG]}]
    settings = Settings.load({"db_url": f"sqlite:///{tmp_path}/poison.db", "port": 0, "validation": "none",
                              "signatures": "off", "callback_backoff": "0.05", "systems": systems}, environ={})
    srv = ThreadedServer(settings, background=False).start()
    try:
        good = [register(srv)[1] for _ in range(15)]
        _, poison = register(srv)
        behaviour = {"sync": {}, "callback": {"delay_ms": 10**30}, "source": {"test": "poison"}}
        with srv.runtime.store.db.engine.begin() as c:
            c.execute(update(t.documents).where(t.documents.c.local_uid == poison.local_uid).values(behaviour=behaviour))
        started = time.monotonic()
        srv.runtime.start_background()
        for req in good:
            assert sink.wait_for(req.message_id, timeout=10).status == "success"
        assert time.monotonic() - started < 10
        result = sink.wait_for(poison.message_id, timeout=10)
        assert result.error_codes == ["XML_VALIDATOR_ERROR"]
        doc = _document(srv, poison.local_uid, "failed")
        assert re.fullmatch(r"[0-9a-f]{8}", doc["incident"]) and doc["incident"] in result.errors[0]["message"]
        listed = requests.get(f"{srv.url}/_admin/documents", params={"status": "failed"}, timeout=5).json()
        assert [d["local_uid"] for d in listed["items"]] == [poison.local_uid]
        page = requests.get(f"{srv.url}/documents/{poison.local_uid}", timeout=5).text
        assert doc["incident"] in page
        _check_everywhere(srv, poison.local_uid, result.raw)
    finally:
        srv.stop()


def test_database_fault_in_the_soap_endpoint_is_a_receiver_fault_with_an_incident(make_server):
    srv = make_server()
    with srv.runtime.store.db.engine.begin() as c:
        c.execute(text("DROP TABLE requests"))
    resp, _ = register(srv)
    assert resp.status_code == 500 and "soap:Receiver" in resp.text
    assert re.search(r"Внутренняя ошибка \(инцидент [0-9a-f]{8}\)", resp.text), resp.text
    assert_clean(resp.text, "SOAP 500")
