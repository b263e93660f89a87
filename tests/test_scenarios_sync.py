"""The synchronous leg of scenario rules through a real socket: delay, errors, fault, HTTP status, drops."""

from __future__ import annotations

import time

import pytest
import requests
from remd_requests import register_request, sync_codes, sync_messages, sync_status
from scenario_harness import raw_register


def test_delay_then_normal_answer(mock):
    mock.use("name: slow\nrules:\n  - match: {operation: registerDocument}\n    sync: {delay_ms: 400}\n")
    started = time.monotonic()
    resp, req = mock.send()
    elapsed = time.monotonic() - started
    assert resp.status_code == 200 and sync_status(resp) == "success"
    assert elapsed >= 0.4
    entry = mock.journal(req.message_id)
    assert entry["scenario"]["scenario"] == "slow" and entry["scenario"]["rule"] == 1


def test_errors_use_catalogue_message_unless_given(mock):
    mock.use(
        "name: refuse\nrules:\n"
        "  - match: {document_number: '^A'}\n    sync: {errors: [{code: RATE_LIMIT}]}\n"
        "  - match: {document_number: '^B'}\n    sync: {errors: [{code: NO_SIGNATURE, message: 'своё сообщение'}]}\n"
    )
    resp, req = mock.send(document_number="A-1")
    assert sync_status(resp) == "error" and sync_codes(resp) == ["RATE_LIMIT"]
    assert "превышен лимит запросов" in sync_messages(resp)[0]
    resp, _ = mock.send(document_number="B-1")
    assert sync_codes(resp) == ["NO_SIGNATURE"] and sync_messages(resp) == ["своё сообщение"]
    # nothing was accepted: no document, no callback
    assert mock.document(req.local_uid) is None
    assert mock.journal(req.message_id)["sync_status"] == "error"


def test_fault_in_the_request_soap_version(mock):
    mock.use("name: f\nrules:\n  - sync: {fault: {code: Receiver, reason: 'Сервис недоступен'}}\n")
    resp, _ = mock.send()
    assert resp.status_code == 500
    assert "soap:Receiver" in resp.text and "Сервис недоступен" in resp.text
    resp, _ = mock.send(version="1.1")
    assert resp.status_code == 500 and "Server" in resp.text and "faultstring" in resp.text


def test_http_status_replaces_the_answer(mock):
    mock.use("name: down\nrules:\n  - sync: {http_status: 503}\n")
    resp, req = mock.send()
    assert resp.status_code == 503 and b"Envelope" not in resp.content
    entry = mock.journal(req.message_id)
    assert entry["http_status"] == 503 and entry["sync_status"] == "http:503"


DROPS = "name: drops\nrules:\n" + "".join(
    f"  - match: {{document_number: '^{mode}$'}}\n    sync: {{drop: {mode}}}\n" for mode in ("reset", "empty", "garbage", "close")
)


@pytest.mark.parametrize("mode", ["reset", "empty", "garbage", "close"])
def test_drops_on_the_wire_then_keeps_serving(mock, mode):
    mock.use(DROPS)
    host, port = "127.0.0.1", mock.server.port
    received, ended = raw_register(host, port, register_request(document_number=mode))
    if mode == "reset":
        assert ended == "reset" and received == b""
    elif mode == "empty":
        assert (ended, received) == ("eof", b"")
    elif mode == "garbage":
        assert ended == "eof" and len(received) == 512 and not received.startswith(b"HTTP/")
    else:
        head, _, body = received.partition(b"\r\n\r\n")
        assert ended == "eof" and head.startswith(b"HTTP/1.1 200") and b"Content-Length: 4096" in head
        assert len(body) < 4096  # the promised body never comes
    # the server keeps serving, and the journal says what happened
    assert requests.get(mock.url + "/health", timeout=5).json() == {"status": "ok"}
    resp, _ = mock.send(document_number="normal")
    assert sync_status(resp) == "success"
    items = mock.api("GET", "/requests?limit=5").json()["items"]
    dropped = [i for i in items if i["sync_status"] == f"drop:{mode}"]
    # no HTTP answer was sent (or, for close, never completed): the journal does not claim one
    assert len(dropped) == 1 and dropped[0]["http_status"] is None
    assert [i["http_status"] for i in items if i["sync_status"] == "success"] == [200]


def test_requests_client_sees_each_drop_as_a_connection_error(mock):
    mock.use(DROPS)
    for mode in ("reset", "empty", "garbage", "close"):
        # requests reports a truncated body (close) as ChunkedEncodingError, the others as ConnectionError
        with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            mock.send(document_number=mode)


def test_search_and_get_are_subject_to_rules(mock):
    mock.use(
        "name: lookups\nrules:\n"
        "  - match: {operation: searchRegistryItem}\n    sync: {errors: [{code: RATE_LIMIT}]}\n"
        "  - match: {operation: getRegistryItem}\n    sync: {http_status: 502}\n"
    )
    resp = mock.search()
    assert sync_status(resp) == "error" and sync_codes(resp) == ["RATE_LIMIT"]
    assert mock.get_item("1.50.26.05.000000001").status_code == 502
    resp, _ = mock.send()
    assert sync_status(resp) == "success"
    journal = mock.api("GET", "/requests?limit=5").json()["items"]
    by_op = {i["operation"]: i for i in journal}
    assert by_op["searchRegistryItem"]["scenario"]["rule"] == 1
    assert by_op["getRegistryItem"]["http_status"] == 502
    assert by_op["registerDocument"]["scenario"] is None
