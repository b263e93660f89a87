"""The callback leg of scenario rules, end to end to a real callback receiver: delay and the flush clock
(also across a restart), forced outcome, repeat, skip, wrong correlation, malformed, two-phase ФРЭМД."""

from __future__ import annotations

import datetime as dt

import pytest
from remd_requests import DEMO_CLIENT, DEMO_ORG, register_request, sync_status
from scenario_harness import running_mock, systems_for, wait_until

from mock_remd.client.sink import CallbackSink
from mock_remd.config import Settings
from mock_remd.core.emdr_id import EMDR_ID_RE
from mock_remd.server.threaded import ThreadedServer

HOUR = "name: hour\nrules:\n  - match: {operation: registerDocument}\n    callback: {delay_ms: 3600000}\n"


def test_an_hour_late_callback_is_delivered_at_once_by_flush(mock):
    mock.use(HOUR)
    resp, req = mock.send()
    assert sync_status(resp) == "success"
    mock.processed(req.local_uid)
    [delivery] = mock.deliveries(req.message_id)
    due = dt.datetime.fromisoformat(delivery["due_at"].replace("Z", "+00:00"))
    if due.tzinfo is None:
        due = due.replace(tzinfo=dt.UTC)
    assert due - dt.datetime.now(dt.UTC) > dt.timedelta(minutes=55)
    assert delivery["status"] == "pending" and mock.sink.results == []
    assert mock.flush() >= 1
    result = mock.sink.wait_for(req.message_id, timeout=5)
    assert result.status == "success" and result.emdr_id


def test_delayed_callback_survives_a_restart(tmp_path):
    db = f"sqlite:///{tmp_path / 'remd.db'}"
    with CallbackSink() as sink:
        values = {"db_url": db, "port": 0, "validation": "none", "signatures": "off", "systems": systems_for(sink)}
        first = ThreadedServer(Settings.load(values, environ={})).start()
        try:
            from scenario_harness import Harness

            h = Harness(first, sink)
            h.use(HOUR)
            _, req = h.send()
            h.processed(req.local_uid)
            assert h.deliveries(req.message_id)[0]["status"] == "pending"
        finally:
            first.stop()
        assert sink.results == []
        second = ThreadedServer(Settings.load(values, environ={})).start()
        try:
            h = Harness(second, sink)
            assert h.deliveries(req.message_id)[0]["status"] == "pending"
            h.flush()
            result = sink.wait_for(req.message_id, timeout=5)
            assert result.status == "success" and result.local_uid == req.local_uid
            wait_until(lambda: h.deliveries(req.message_id)[0]["status"] == "delivered", 5, "delivered status")
        finally:
            second.stop()


def test_forced_error_with_catalogue_or_given_messages(mock):
    mock.use(
        "name: reject\nrules:\n"
        "  - match: {document_number: '^A'}\n    callback: {status: error, errors: [{code: PERSON_NOT_FOUND}]}\n"
        "  - match: {document_number: '^B'}\n"
        "    callback: {errors: [{code: VALIDATION_ERROR, message: 'Ошибка валидации СЭМД: свой текст'}]}\n"
        "  - match: {document_number: '^C'}\n    callback: {status: error}\n"
    )
    _, a = mock.send(document_number="A1")
    _, b = mock.send(document_number="B1")
    _, c = mock.send(document_number="C1")
    ra = mock.sink.wait_for(a.message_id)
    assert ra.status == "error" and ra.errors == [{"code": "PERSON_NOT_FOUND", "message": "Сотрудник не найден в ФРМР"}]
    rb = mock.sink.wait_for(b.message_id)
    assert rb.errors == [{"code": "VALIDATION_ERROR", "message": "Ошибка валидации СЭМД: свой текст"}]
    rc = mock.sink.wait_for(c.message_id)
    assert rc.status == "error" and rc.error_codes == ["VALIDATION_ERROR"]
    assert mock.document(a.local_uid)["status"] == "rejected"


def test_forced_success_overrides_validation():
    with running_mock(validation="xml") as h:
        h.use("name: ok\nrules:\n  - match: {document_number: '^OK'}\n    callback: {status: success}\n")
        _, normal = h.send(register_request(content=b"not xml at all"))
        _, forced = h.send(register_request(content=b"not xml at all", document_number="OK-1"))
        assert h.sink.wait_for(normal.message_id).status == "error"
        result = h.sink.wait_for(forced.message_id)
        assert result.status == "success" and result.emdr_id


def test_repeat_sends_identical_results(mock):
    mock.use("name: thrice\nrules:\n  - callback: {repeat: 3}\n")
    _, req = mock.send()
    results = mock.sink.wait_count(3)
    assert [r.relates_to for r in results] == [req.message_id.removeprefix("urn:uuid:")] * 3
    assert len({r.emdr_id for r in results}) == 1
    assert len(mock.deliveries(req.message_id)) == 3


def test_skip_registers_without_a_callback(mock):
    mock.use("name: lost\nrules:\n  - callback: {skip: true}\n")
    _, req = mock.send()
    doc = mock.processed(req.local_uid)
    assert doc["status"] == "registered" and doc["emdr_id"]
    assert mock.deliveries(req.message_id) == [] and mock.deliveries(local_uid=req.local_uid) == []


def test_wrong_correlation_id(mock):
    zero = "00000000-0000-0000-0000-000000000000"
    mock.use(f"name: wrong\nrules:\n  - callback: {{relates_to: '{zero}'}}\n")
    _, req = mock.send()
    result = mock.sink.wait_for(zero)
    assert result.local_uid == req.local_uid
    assert zero in result.header_relates_to and req.message_id not in result.raw.decode()


def test_malformed_callback(mock):
    mock.use("name: broken\nrules:\n  - callback: {malformed: true}\n")
    _, req = mock.send()
    result = mock.sink.wait_until(lambda r: not r.well_formed, timeout=10, what="a malformed callback")
    assert result.raw and result.relates_to == ""
    [delivery] = mock.deliveries(local_uid=req.local_uid)
    assert "malformed" in delivery["note"]


def _fremd(mock, on: bool) -> None:
    body = {"client_entity_id": DEMO_CLIENT, "organizations": [DEMO_ORG], "callback_url": mock.sink.url,
            "send_to_fremd": on}
    assert mock.api("PUT", "/systems/demo", json=body).status_code == 200


def test_send_to_fremd_gives_a_regional_then_a_federal_result(mock):
    _fremd(mock, True)
    _, req = mock.send()
    mock.processed(req.local_uid)
    mock.flush()  # the federal result is due a second after the regional one
    results = mock.sink.wait_count(2)
    by_stage = {r.stage: r for r in results}
    assert set(by_stage) == {"regional", "federal"}
    assert by_stage["regional"].status == by_stage["federal"].status == "success"
    assert by_stage["regional"].emdr_id == by_stage["federal"].emdr_id
    notes = sorted(d["note"] for d in mock.deliveries(req.message_id))
    assert notes == ["federal", "regional"]


def test_federal_rejection_and_silence(mock):
    _fremd(mock, True)
    mock.use(
        "name: fremd\nrules:\n"
        "  - match: {document_number: '^R'}\n"
        "    callback: {fremd: {status: error, errors: [{code: VALIDATION_ERROR, message: 'ФРЭМД: отказ'}]}}\n"
        "  - match: {document_number: '^S'}\n    callback: {fremd: {skip: true}}\n"
    )
    _, rejected = mock.send(document_number="R1")
    _, silent = mock.send(document_number="S1")
    mock.processed(rejected.local_uid)
    mock.processed(silent.local_uid)
    mock.flush()
    federal = mock.sink.wait_until(lambda r: r.stage == "federal")
    assert federal.relates_to == rejected.message_id.removeprefix("urn:uuid:")
    assert federal.status == "error" and federal.errors[0]["message"] == "ФРЭМД: отказ" and not federal.emdr_id
    regional = mock.sink.wait_for(silent.message_id)
    assert regional.stage == "regional" and regional.status == "success"
    assert len(mock.deliveries(silent.message_id)) == 1
    # the region still registered the federally rejected document
    assert mock.document(rejected.local_uid)["status"] == "registered"


def test_fremd_rule_makes_any_system_two_phase(mock):
    mock.use("name: two\nrules:\n  - callback: {fremd: {delay_ms: 0}}\n")
    _, req = mock.send()
    results = mock.sink.wait_count(2)
    assert sorted(r.stage for r in results) == ["federal", "regional"]
    assert all(r.relates_to == req.message_id.removeprefix("urn:uuid:") for r in results)


@pytest.mark.parametrize(
    ("number", "check"),
    [
        ("MOCK:CALLBACK:DUPLICATE", lambda m, req: len(m.sink.wait_count(2)) == 2),
        ("MOCK:CALLBACK:PERSON_NOT_FOUND", lambda m, req: m.sink.wait_for(req.message_id).error_codes == ["PERSON_NOT_FOUND"]),
        ("MOCK:CALLBACK:NEVER", lambda m, req: m.processed(req.local_uid) and m.deliveries(req.message_id) == []),
        ("MOCK:CALLBACK:DELAY:3600000",
         lambda m, req: m.processed(req.local_uid) and m.deliveries(req.message_id)[0]["status"] == "pending"
         and m.sink.results == [] and m.flush() and m.sink.wait_for(req.message_id).status == "success"),
        ("MOCK:FREMD:VALIDATION_ERROR",
         lambda m, req: m.processed(req.local_uid) and m.flush() is not None
         and m.sink.wait_until(lambda r: r.stage == "federal").status == "error"),
    ],
)
def test_callback_magic_values(mock, number, check):
    resp, req = mock.send(document_number=number)
    assert sync_status(resp) == "success"
    assert check(mock, req)


def test_every_callback_of_a_registered_document_carries_its_stored_emdr_id(mock):
    # the callbacks are made before the write and the number is drawn inside it: each must get it
    mock.use("name: many\nrules:\n  - callback: {repeat: 2, foreign_first: true, fremd: {delay_ms: 0}}\n")
    _, req = mock.send()
    doc = mock.processed(req.local_uid)
    mock.flush()
    results = mock.sink.wait_count(5)
    assert EMDR_ID_RE.match(doc["emdr_id"])
    assert {r.emdr_id for r in results} == {doc["emdr_id"]}
    assert sum(r.local_uid == req.local_uid for r in results) == 4
