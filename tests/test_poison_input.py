"""Values of a request are bounded where they are parsed: out-of-range magic values, over-long fields
and a broken chunked body are client errors (4xx SOAP Fault or a sync VALIDATION_ERROR), never a 500,
on SQLite and on PostgreSQL (whose columns refuse over-long values)."""

from __future__ import annotations

import re
import socket

import pytest
import requests
from conftest import start_server
from exception_text import assert_clean
from pg_database import database_url
from remd_requests import (
    DEMO_CLIENT,
    DEMO_ORG,
    post,
    register,
    register_request,
    sync_codes,
    sync_messages,
    sync_status,
)

from mock_remd.client.sink import CallbackSink
from mock_remd.config import Settings


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(request, tmp_path_factory):
    """One server and its callback sink per backend for the module: each test leaves it healthy (and
    checks so), so a fresh server per test only cost set-up time."""
    with database_url(request.param, tmp_path_factory.mktemp("poison")) as url:
        sink = CallbackSink().start()
        systems = [{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": sink.url,
                    "document_url": sink.document_url, "organizations": [DEMO_ORG]}]
        srv = start_server(systems, db_url=url, callback_backoff="0.05")
        try:
            yield srv, sink
        finally:
            srv.stop()
            sink.stop()


@pytest.fixture
def server(served):
    return served[0]


@pytest.fixture
def sink(served):
    return served[1]


def _healthy(srv, sink) -> None:
    assert requests.get(f"{srv.url}/health", timeout=5).json() == {"status": "ok"}
    resp, req = register(srv)
    assert sync_status(resp) == "success"
    assert sink.wait_for(req.message_id, timeout=10).status == "success"


BAD_MAGIC = [
    ("MOCK:HTTP:-1", "статус HTTP"),
    ("MOCK:HTTP:99", "статус HTTP"),
    ("MOCK:HTTP:" + "9" * 50, "статус HTTP"),
    ("MOCK:DELAY:-1", "задержка ответа"),
    ("MOCK:DELAY:" + "9" * 30, "задержка ответа"),
    ("MOCK:DELAY:abc", "задержка ответа"),
    ("MOCK:CALLBACK:DELAY:" + "9" * 30, "задержка обратного вызова"),
    ("MOCK:CALLBACK:DELAY:86400001", "задержка обратного вызова"),
]


def test_out_of_range_magic_values_are_a_client_fault_naming_the_value(server, sink):
    for value, what in BAD_MAGIC:
        resp, _ = register(server, register_request(document_number=value))
        assert resp.status_code == 400, (value, resp.status_code)
        assert "<soap:Value>soap:Sender</soap:Value>" in resp.text
        reason = re.search(r'<soap:Text xml:lang="ru">(.*?)</soap:Text>', resp.text).group(1)
        assert reason.startswith("VALIDATION_ERROR: ") and "documentNumber" in reason and what in reason, reason
        assert value[:100] in reason
        assert_clean(resp.text, value)
    _healthy(server, sink)


def test_magic_values_within_limits_still_work(server):
    resp, _ = register(server, register_request(document_number="MOCK:HTTP:503"))
    assert resp.status_code == 503
    resp, _ = register(server, register_request(document_number="MOCK:DELAY:0"))
    assert sync_status(resp) == "success"


@pytest.mark.parametrize("field,value", [
    ("document_number", "D" * 300),
    ("kind", "1" * 40),
    ("organization", "1.2." + ".".join(["643"] * 60)),
    ("local_uid", "u" * 300),
])
def test_over_long_fields_are_a_sync_error_naming_the_field(server, sink, field, value):
    resp, _ = register(server, register_request(**{field: value}))
    assert resp.status_code == 200 and sync_status(resp) == "error", resp.text[:500]
    assert "VALIDATION_ERROR" in sync_codes(resp)
    assert any(value[:50] in m for m in sync_messages(resp))
    assert_clean(resp.text, field)
    _healthy(server, sink)


def test_over_long_message_id_is_a_client_fault(server):
    req = register_request(message_id="urn:uuid:" + "a" * 300)
    resp, _ = register(server, req)
    assert resp.status_code == 400 and "wsa:MessageID" in resp.text


def _raw(srv, data: bytes) -> bytes:
    host, port = srv.url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if b"</soap:Envelope>" in b"".join(chunks):
                break
        return b"".join(chunks)


def test_bad_chunk_size_is_a_client_fault(server, sink):
    answer = _raw(server, b"POST /port/emdr HTTP/1.1\r\nHost: x\r\nContent-Type: application/soap+xml\r\n"
                          b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n")
    head = answer.split(b"\r\n", 1)[0]
    assert head.startswith(b"HTTP/1.1 400"), answer[:300]
    assert b"soap:Sender" in answer and b"chunked" in answer
    assert_clean(answer.split(b"\r\n\r\n", 1)[1], "chunked fault")
    _healthy(server, sink)


def test_soap_post_still_answers_after_bad_input(server, sink):
    resp = post(server.soap_url, b"\x00\xff" * 10)
    assert resp.status_code == 400
    _healthy(server, sink)


def test_callback_delays_in_the_settings_are_bounded():
    from mock_remd.config import ConfigError

    for values in ({"callback_backoff": "1,99999999"}, {"callback_backoff": "nan"}, {"callback_delay_ms": "-5"},
                   {"callback_delay_ms": str(10**30)}):
        with pytest.raises(ConfigError) as info:
            Settings.load(values, environ={}).check()
        assert "0" in info.value.text("ru") and "MOCK_REMD_CALLBACK" in info.value.text("ru")


def test_admin_api_values_a_database_cannot_take_are_4xx(server):
    nul = requests.get(f"{server.url}/_admin/callbacks", params={"local_uid": "a\x00b"}, timeout=10)
    assert nul.status_code == 400 and "local_uid" in nul.json()["error"]
    body = requests.put(f"{server.url}/_admin/systems/x", json={"mnemonic": "x", "client_entity_id": "c\x00"}, timeout=10)
    assert body.status_code == 400 and "client_entity_id" in body.json()["error"]
    assert requests.get(f"{server.url}/_admin/callbacks/{10**25}", timeout=10).status_code == 404
    offset = requests.get(f"{server.url}/_admin/documents", params={"offset": str(10**25)}, timeout=10)
    assert offset.status_code == 400 and "offset" in offset.json()["error"]
    for resp in (nul, body, offset):
        assert_clean(resp.text, "admin 4xx")
