"""Every file of the scenario library (``scenarios/*.yaml``) played end to end against a real server."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
import requests
from remd_requests import register_request, sync_codes, sync_messages, sync_status
from scenario_harness import Harness, raw_register, running_mock

LIBRARY = Path(__file__).resolve().parent.parent / "scenarios"


def play(mock: Harness, name: str) -> None:
    mock.activate(name)


def rule_of(mock: Harness, message_id: str) -> str | None:
    scenario = mock.journal(message_id)["scenario"]
    return scenario.get("rule_name") or scenario.get("rule") if scenario else None


def _due_in(delivery: dict) -> dt.timedelta:
    due = dt.datetime.fromisoformat(delivery["due_at"].replace("Z", "+00:00"))
    due = due if due.tzinfo else due.replace(tzinfo=dt.UTC)
    return due - dt.datetime.now(dt.UTC)


def test_happy_path(mock):
    play(mock, "happy-path")
    started = time.monotonic()
    resp, req = mock.send()
    assert sync_status(resp) == "success" and time.monotonic() - started >= 0.3
    mock.processed(req.local_uid)
    [delivery] = mock.deliveries(req.message_id)
    assert delivery["status"] == "pending" and dt.timedelta(seconds=2) < _due_in(delivery) <= dt.timedelta(seconds=4)
    mock.flush()
    assert mock.sink.wait_for(req.message_id).status == "success"
    assert rule_of(mock, req.message_id) == "register-accepted"
    assert mock.search().status_code == 200


def test_rate_limit_burst(mock):
    play(mock, "rate-limit-burst")
    outcomes = [sync_codes(mock.send()[0]) for _ in range(6)]
    assert outcomes == [[], [], ["RATE_LIMIT"], ["RATE_LIMIT"], ["RATE_LIMIT"], []]


def test_rate_limit_retry_succeeds(mock):
    play(mock, "rate-limit-retry-succeeds")
    req = register_request()
    resp, _ = mock.send(req)
    assert sync_codes(resp) == ["RATE_LIMIT"] and "превышен лимит запросов" in sync_messages(resp)[0]
    req.message_id = "urn:uuid:0b1c2d3e-0000-4000-8000-00000000000a"
    resp, _ = mock.send(req)  # the retry of the same document is accepted
    assert sync_status(resp) == "success"
    mock.processed(req.local_uid)
    assert _due_in(mock.deliveries(req.message_id)[0]) > dt.timedelta(seconds=50)
    mock.flush()
    assert mock.sink.wait_for(req.message_id).status == "success"
    assert sync_codes(mock.send()[0]) == ["RATE_LIMIT"]  # another document starts its own story


def test_registry_down_503(mock):
    play(mock, "registry-down-503")
    assert mock.send()[0].status_code == 503
    assert mock.search().status_code == 503
    assert mock.get_item("1.50.26.05.000000001").status_code == 503


def test_registry_timeout(mock):
    play(mock, "registry-timeout")
    with pytest.raises(requests.exceptions.ReadTimeout):
        mock.send(timeout=0.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(mock.soap_url, timeout=0.3, data=_search_body(), headers={"Content-Type": "application/soap+xml"})
    assert requests.get(mock.url + "/health", timeout=5).status_code == 200


def _search_body() -> bytes:
    from remd_requests import DEMO_CLIENT

    from mock_remd.soap.builders import search_envelope

    return search_envelope({}, client_entity_id=DEMO_CLIENT)


def test_registry_flaky_network(mock):
    play(mock, "registry-flaky-network")
    port = mock.server.port
    ends = [raw_register("127.0.0.1", port, register_request()) for _ in range(5)]
    assert ends[0] == (b"", "reset")
    assert ends[1] == (b"", "eof")
    assert ends[2][1] == "eof" and len(ends[2][0]) == 512
    assert ends[3][1] == "eof" and ends[3][0].startswith(b"HTTP/1.1 200") and ends[3][0].endswith(b"\r\n\r\n")
    assert ends[4][1] == "eof" and b"<ns3:status>success</ns3:status>" in ends[4][0]


def test_soap_faults(mock):
    play(mock, "soap-faults")
    resp, _ = mock.send()
    assert resp.status_code == 500 and "soap:Receiver" in resp.text and "Повторите запрос позднее" in resp.text
    resp = mock.search()
    assert resp.status_code == 400 and "soap:Sender" in resp.text


FAMILIES = {
    "errors-signatures": [
        ("X-NOSIG", "sync", "NO_SIGNATURE"),
        ("X-DIGEST", "callback", "DIGEST_MISMATCH"),
        ("X-CHAIN", "callback", "CANT_BUILD_CERT_CHAIN_TO_ACCREDITED_CA_CERT"),
        ("X-EXPIRED", "callback", "DOC_DATE_MISMATCH_CERT_NOT_AFTER"),
        ("X-METADATA", "callback", "VALUE_MISMATCH_METADATA_AND_CERTIFICATE"),
        ("X-FORMAT", "callback", "WRONG_SIGNATURE_FORMAT"),
        ("X-SIGNERS", "callback", "MULTIPLE_SIGNERS"),
        ("X-1", "callback", "SIGNATURE_VERIFICATION_ERROR"),
    ],
    "errors-patient": [
        ("X-NOSNILS", "callback", "NO_SNILS"),
        ("X-OCCURRENCE", "callback", "PATIENT_OCCURRENCE_MISMATCH"),
        ("X-1", "callback", "PATIENT_MPI_MISMATCH"),
    ],
    "errors-doctor-frmr": [
        ("X-POST", "callback", "PERSON_POST_IN_FRMR_MISMATCH"),
        ("X-FRMR", "callback", "VALUE_MISMATCH_METADATA_AND_FRMR"),
        ("X-ROLE", "callback", "POSITION_TO_ROLE_MISMATCH"),
        ("X-FRMO", "callback", "ORG_NOT_FOUND_IN_FRMO"),
        ("X-CARD", "callback", "PERSON_CARD_NOT_FOUND"),
        ("X-1", "callback", "PERSON_NOT_FOUND"),
    ],
    "errors-dictionaries": [
        ("X-OID", "callback", "INVALID_DICTIONARY_OID"),
        ("X-VERSION", "callback", "INVALID_DICTIONARY_VERSION"),
        ("X-NAME", "callback", "INVALID_ELEMENT_VALUE_NAME"),
        ("X-1", "callback", "INVALID_ELEMENT_VALUE_CODE"),
    ],
    "errors-versions": [
        ("X-RESTRICT", "callback", "RESTRICT_NEW_VERSION"),
        ("X-ASSOC", "callback", "NOT_UNIQUE_ASSOCIATION"),
        ("X-LINK", "callback", "CAN_NOT_ASSOCIATE"),
        ("X-1", "callback", "CANT_REG_VERSION"),
    ],
    "errors-duplicates": [
        ("X-ASSOC", "sync", "NOT_UNIQUE_ASSOCIATION"),
        ("X-LINK", "sync", "CAN_NOT_ASSOCIATE"),
        ("X-SIGDUP", "callback", "SIGNATURE_DUPLICATION"),
        ("X-1", "sync", "NOT_UNIQUE_PROVIDED_ID"),
    ],
}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_error_families(mock, name):
    play(mock, name)
    waiting = []
    for number, leg, code in FAMILIES[name]:
        resp, req = mock.send(document_number=number)
        if leg == "sync":
            assert sync_codes(resp) == [code], number
            assert sync_messages(resp)[0]  # a message always comes with the code
        else:
            assert sync_status(resp) == "success", number
            waiting.append((req, code))
    for req, code in waiting:
        result = mock.sink.wait_for(req.message_id)
        assert result.status == "error" and result.error_codes == [code]
        assert result.errors[0]["message"] and "[]" not in result.errors[0]["message"]
        assert mock.document(req.local_uid)["status"] == "rejected"


def test_callback_late(mock):
    play(mock, "callback-late")
    _, req = mock.send()
    mock.processed(req.local_uid)
    assert _due_in(mock.deliveries(req.message_id)[0]) > dt.timedelta(minutes=14)
    assert mock.sink.results == []
    mock.flush()
    assert mock.sink.wait_for(req.message_id).status == "success"


def test_callback_duplicate(mock):
    play(mock, "callback-duplicate")
    _, req = mock.send()
    first, second = mock.sink.wait_count(2)
    assert first.relates_to == second.relates_to == req.message_id.removeprefix("urn:uuid:")
    assert first.emdr_id == second.emdr_id


def test_callback_lost(mock):
    play(mock, "callback-lost")
    _, req = mock.send()
    doc = mock.processed(req.local_uid)
    assert doc["status"] == "registered" and mock.deliveries(req.message_id) == []
    found = mock.search({"kind": "119"})
    assert doc["emdr_id"] in found.text  # the MIS can recover by searching
    assert mock.sink.results == []


def test_callback_malformed(mock):
    play(mock, "callback-malformed")
    mock.send()
    result = mock.sink.wait_until(lambda r: True)
    assert result.well_formed is False


def test_callback_wrong_correlation(mock):
    play(mock, "callback-wrong-correlation")
    _, req = mock.send()
    result = mock.sink.wait_until(lambda r: r.local_uid == req.local_uid)
    assert result.relates_to == "00000000-0000-0000-0000-000000000000"


def test_fremd_two_phase(mock):
    play(mock, "fremd-two-phase")
    _, ok = mock.send(document_number="N-1")
    _, rejected = mock.send(document_number="N-2-FREMD-REJECT")
    _, lost = mock.send(document_number="N-3-FREMD-LOST")
    for req in (ok, rejected, lost):
        mock.processed(req.local_uid)
    federal_due = [d for d in mock.deliveries(ok.message_id) if d["note"] == "federal"]
    assert _due_in(federal_due[0]) > dt.timedelta(seconds=50)
    mock.flush()
    results = mock.sink.wait_count(5)  # 2 + 2 + 1
    by = {(r.relates_to, r.stage): r for r in results}
    mid = {k: v.message_id.removeprefix("urn:uuid:") for k, v in {"ok": ok, "rej": rejected, "lost": lost}.items()}
    assert by[(mid["ok"], "regional")].status == by[(mid["ok"], "federal")].status == "success"
    assert by[(mid["rej"], "regional")].status == "success"
    assert by[(mid["rej"], "federal")].status == "error"
    assert by[(mid["rej"], "federal")].errors[0]["message"].startswith("ФРЭМД:")
    assert (mid["lost"], "regional") in by and (mid["lost"], "federal") not in by


def _chaos_run(mock: Harness, n: int) -> list[str]:
    labels = []
    for _ in range(n):
        req = register_request()
        try:
            mock.send(req, timeout=5)
        except requests.exceptions.ConnectionError:
            pass
        entry = mock.journal(req.message_id)
        labels.append((entry["scenario"] or {}).get("rule_name", "normal"))
    return labels


def test_chaos_is_repeatable_with_its_seed(mock):
    play(mock, "chaos")
    first = _chaos_run(mock, 30)
    mock.activate("chaos")  # counters and rolls start again
    second = _chaos_run(mock, 30)
    assert first == second
    assert "normal" in first and len(set(first)) >= 4


def test_search_unavailable(mock):
    play(mock, "search-unavailable")
    assert sync_codes(mock.search()) == ["RATE_LIMIT"]
    assert mock.get_item("1.50.26.05.000000001").status_code == 502
    assert sync_status(mock.send()[0]) == "success"


def test_every_library_file_has_a_test():
    """Each scenario file is played by a test of this module (named in a ``play`` call or FAMILIES)."""
    source = Path(__file__).read_text(encoding="utf-8")
    played = {name for name in FAMILIES} | {
        part.split('"')[1] for part in source.split("play(mock, ")[1:] if part.startswith('"')
    }
    names = set()
    for f in LIBRARY.glob("*.yaml"):
        from mock_remd.scenarios.lint import compile_text

        scenario, issues = compile_text(f.read_text(encoding="utf-8"), filename=str(f))
        assert scenario is not None, issues
        names.add(scenario.name)
    assert len(names) >= 15
    assert names <= played, f"library files without an end-to-end test: {sorted(names - played)}"


def test_every_library_description_is_a_sentence_in_both_languages():
    """Descriptions show as sentences in the dashboard and ``scenarios list``: each starts with a capital
    letter, in English and in Russian."""
    from mock_remd.scenarios.lint import compile_text

    lowercase = []
    for f in sorted(LIBRARY.glob("*.yaml")):
        scenario, issues = compile_text(f.read_text(encoding="utf-8"), filename=str(f))
        assert scenario is not None, issues
        for lang, desc in (("en", scenario.description), ("ru", scenario.description_ru)):
            if not desc.strip()[:1].isupper():
                lowercase.append(f"{f.name} ({lang}): {desc.strip()[:40]}")
    assert not lowercase, lowercase


def test_library_runs_under_one_server_started_from_the_directory():
    with running_mock(scenarios_dir=str(LIBRARY)) as h:
        names = {i["name"] for i in h.api("GET", "/scenarios").json()["items"]}
        assert {p.stem for p in LIBRARY.glob("*.yaml")} <= names
