"""Synchronous ("coarse") checks: each code, real Russian messages naming element and value, all at once."""

from __future__ import annotations

import base64
import datetime as dt
import os
import uuid
import zlib

import pytest
import requests
from remd_requests import (
    DEMO_CLIENT,
    DEMO_ORG,
    register,
    register_request,
    sync_codes,
    sync_messages,
    sync_status,
)

from mock_remd.domain.model import Attachment


def _errors(srv, **overrides):
    resp, req = register(srv, register_request(**overrides))
    assert resp.status_code == 200
    assert sync_status(resp) == "error", resp.text
    return sync_codes(resp), sync_messages(resp), req


def test_unknown_client_is_no_rmis(make_server):
    srv = make_server()
    codes, messages, _ = _errors(srv, client_entity_id=str(uuid.uuid4()), system="")
    assert codes == ["NO_RMIS"]
    assert "не зарегистрирована" in messages[0]


def test_disabled_system_is_disabled_rmis(make_server, sink):
    srv = make_server(systems=[{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": sink.url,
                                "organizations": [DEMO_ORG], "enabled": False}])
    codes, messages, _ = _errors(srv)
    assert codes == ["DISABLED_RMIS"] and "demo" in messages[0]


def test_missing_required_elements_are_named(make_server):
    srv = make_server()
    codes, messages, _ = _errors(srv, kind="", organization="", creation_date_time="")
    assert codes.count("VALIDATION_ERROR") >= 3
    joined = " ".join(messages)
    for name in ("kind", "organization", "creationDateTime"):
        assert f"обязательный элемент {name}" in joined


def test_local_uid_must_be_uuid(make_server):
    srv = make_server()
    codes, messages, _ = _errors(srv, local_uid="CONS-2024-000123")
    assert "VALIDATION_ERROR" in codes
    assert any("localUid [CONS-2024-000123]" in m and "UUID" in m for m in messages)


def test_bad_oid_is_named(make_server):
    srv = make_server()
    codes, messages, _ = _errors(srv, department="1.2.643.abc")
    assert any("department [1.2.643.abc]" in m and "OID" in m for m in messages)


def test_patient_snils_checksum(make_server):
    srv = make_server()
    req = register_request()
    req.patient.snils = "112-233-445 96"
    resp, _ = register(srv, req)
    assert sync_codes(resp) == ["VALIDATION_ERROR"]
    assert "СНИЛС [112-233-445 96]" in sync_messages(resp)[0] and "контрольное число" in sync_messages(resp)[0]


def test_creation_date_in_future_is_wrong_creation_date(make_server):
    srv = make_server()
    future = (dt.datetime.now(dt.timezone(dt.timedelta(hours=3))) + dt.timedelta(days=2)).replace(microsecond=0)
    codes, messages, _ = _errors(srv, creation_date_time=future.isoformat())
    assert codes == ["WRONG_CREATION_DATE"]
    assert messages == ["Дата создания документа не может быть позднее даты регистрации"]


def test_creation_date_without_offset(make_server):
    srv = make_server()
    codes, messages, _ = _errors(srv, creation_date_time="2024-03-15T11:30:00")
    assert codes == ["VALIDATION_ERROR"] and "часовой пояс" in messages[0]


def test_unknown_kind(make_server):
    srv = make_server()
    codes, messages, _ = _errors(srv, kind="99999")
    assert codes == ["VALIDATION_ERROR"] and "[99999]" in messages[0] and "1520" in messages[0]


def test_kind_outside_its_dates(make_server):
    srv = make_server()
    # kind 13 (death certificate, edition 2) ended on 31.08.2021
    codes, messages, _ = _errors(srv, kind="13")
    assert codes == ["NO_DOCUMENT_KIND_ON_DATE"]
    assert messages == ["Вид документов [13] не актуален на дату создания документа"]


def test_organisation_not_bound_to_system(make_server):
    srv = make_server()
    other = "1.2.643.5.1.13.13.12.2.50.12345"
    codes, messages, _ = _errors(srv, organization=other)
    assert codes == ["VALIDATION_ERROR"]
    assert messages == [f"Организация [{other}] не привязана к РМИС [demo]"]


def test_no_signature(make_server):
    srv = make_server()
    req = register_request()
    req.personal_signs[0].signature = None
    resp, _ = register(srv, req)
    assert sync_codes(resp) == ["NO_SIGNATURE"]


def test_document_checksum_mismatch(make_server):
    srv = make_server()
    req = register_request()
    req.document = Attachment(req.document.data_b64, "12345")
    resp, _ = register(srv, req)
    assert sync_codes(resp) == ["VALIDATION_ERROR"]
    assert "document/checksum [12345]" in sync_messages(resp)[0]


def test_checksum_mismatch_names_the_standard_crc32_of_the_data(make_server):
    """The CRC the answer names is the one the standard library's zlib (another implementation than the
    server's zlib-ng) computes, for documents and signatures of odd sizes (the folding loops' tails)."""
    srv = make_server()
    for size in (1, 15, 16, 63, 64, 4097):
        data = os.urandom(size)
        req = register_request()
        req.document = Attachment(base64.b64encode(data).decode(), "12345")
        req.personal_signs[0].signature = Attachment(base64.b64encode(data[::-1]).decode(), "7")
        resp, _ = register(srv, req)
        messages = " ".join(sync_messages(resp))
        assert f"[{zlib.crc32(data) & 0xFFFFFFFF}]" in messages, messages
        assert f"[{zlib.crc32(data[::-1]) & 0xFFFFFFFF}]" in messages, messages


def test_duplicate_local_uid_names_existing_emdr_id(make_server, sink):
    srv = make_server()
    _, first = register(srv)
    emdr_id = sink.wait_for(first.message_id).emdr_id
    resp, _ = register(srv, register_request(local_uid=first.local_uid.upper()))
    assert sync_codes(resp) == ["NOT_UNIQUE_PROVIDED_ID"]
    assert sync_messages(resp) == [f"Документ с идентификатором '{first.local_uid.upper()}' уже зарегистрирован с номером [{emdr_id}]"]


def test_all_errors_reported_together_and_nothing_stored(make_server, sink):
    srv = make_server()
    req = register_request(local_uid="not-a-uuid", kind="99999", organization="1.2.643.5.1.13.13.12.2.50.1")
    req.patient.snils = "11223344596"
    resp, _ = register(srv, req)
    codes = sync_codes(resp)
    assert len(codes) >= 4, resp.text
    docs = requests.get(f"{srv.url}/_admin/documents").json()
    assert docs["total"] == 0
    journal = requests.get(f"{srv.url}/_admin/requests", params={"local_uid": "not-a-uuid"}).json()["items"]
    assert journal[0]["sync_status"] == "error" and len(journal[0]["errors"]) == len(codes)
    assert sink.results == []


@pytest.mark.parametrize("flag", ["require_system"])
def test_system_element_required_when_the_system_says_so(make_server, sink, flag):
    srv = make_server(systems=[{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": sink.url,
                                "organizations": [DEMO_ORG], flag: True}])
    codes, messages, _ = _errors(srv, system="")
    assert codes == ["VALIDATION_ERROR"] and "system" in messages[0]


def test_system_mnemonic_must_match_the_client(make_server):
    srv = make_server()
    codes, messages, _ = _errors(srv, system="across")
    assert codes == ["VALIDATION_ERROR"] and "[across]" in messages[0]
