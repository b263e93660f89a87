"""The asynchronous leg with real validation: official packs, signatures, request↔document checks,
through the SOAP endpoint and the result callback."""

from __future__ import annotations

import uuid

import pytest
import requests
from remd_requests import DEMO_CLIENT, DEMO_ORG, post

from mock_remd.client.document import build_request, read_facts
from mock_remd.client.signers import SignerSet
from mock_remd.soap.builders import register_envelope


@pytest.fixture
def validating_server(make_server, packs_dir, tmp_path):
    return make_server(validation="all", signatures="digest", packs_dir=str(packs_dir), cache_dir=str(tmp_path / "cache"))


def _with_uuid(content: bytes) -> tuple[bytes, str]:
    """The document with its id/@extension (and setId) turned into a fresh UUID, as localUid must be."""
    uid = str(uuid.uuid4())
    return content.replace(b'extension="CONS-2024-000123"', f'extension="{uid}"'.encode()), uid


def _send(srv, content: bytes, patient_snils: str = "") -> tuple[str, str]:
    facts = read_facts(content)
    req = build_request(facts, content, SignerSet(), system="demo", client_entity_id=DEMO_CLIENT,
                        organization=DEMO_ORG, kind="119", message_id=f"urn:uuid:{uuid.uuid4()}")
    if patient_snils:  # a request-level SNILS error would be refused synchronously
        req.patient.snils = patient_snils
    resp = post(srv.soap_url, register_envelope(req))
    assert "<ns3:status>success</ns3:status>" in resp.text, resp.text
    return req.message_id, req.local_uid


def test_official_valid_example_signed_passes_every_layer(validating_server, sink, valid_119_bytes):
    content, uid = _with_uuid(valid_119_bytes)
    message_id, local_uid = _send(validating_server, content)
    result = sink.wait_for(message_id, timeout=60)
    assert result.status == "success", result.errors
    doc = requests.get(f"{validating_server.url}/_admin/documents/{local_uid}").json()
    layers = {layer["name"]: layer for layer in doc["layers"]}
    for name in ("xml", "kind", "header", "xsd", "schematron", "cross", "signatures"):
        assert layers[name]["ran"] and layers[name]["passed"], (name, layers[name])
    assert not layers["nsi"]["ran"] and layers["nsi"]["reason"]  # no dictionaries configured
    assert layers["signatures"]["details"]["level"] == "digest"


def test_invalid_document_gets_validation_error_callback(validating_server, sink, examples_dir):
    content, _ = _with_uuid((examples_dir / "consultation-119-invalid-schematron.xml").read_bytes())
    message_id, local_uid = _send(validating_server, content, patient_snils="11223344595")
    result = sink.wait_for(message_id, timeout=60)
    assert result.status == "error"
    assert "VALIDATION_ERROR" in result.error_codes
    assert any("СНИЛС" in e["message"] and "отличается" in e["message"] for e in result.errors)  # cross layer
    messages = [e["message"] for e in result.errors]
    assert any(m.startswith("Ошибка валидации Schematron: У1-15") and ". Путь: /ClinicalDocument[1]" in m
               for m in messages), messages
    doc = requests.get(f"{validating_server.url}/_admin/documents/{local_uid}").json()
    assert doc["status"] == "rejected" and doc["emdr_id"] is None
    schematron = next(layer for layer in doc["layers"] if layer["name"] == "schematron")
    assert {"У1-15", "Main05-1"} <= {f["rule"] for f in schematron["findings"]}
    assert all(f["path"] and f["line"] for f in schematron["findings"])


def test_xsd_errors_come_back_with_line_and_element(validating_server, sink, examples_dir):
    content, _ = _with_uuid((examples_dir / "consultation-119-invalid-xsd.xml").read_bytes())
    message_id, _ = _send(validating_server, content)
    result = sink.wait_for(message_id, timeout=60)
    xsd = [e["message"] for e in result.errors if e["message"].startswith("Ошибка валидации СЭМД: cvc-")]
    assert len(xsd) == 3 and any("title" in m for m in xsd)


def test_document_changed_after_signing_is_digest_mismatch(validating_server, sink, valid_119_bytes):
    content, _ = _with_uuid(valid_119_bytes)
    facts = read_facts(content)
    req = build_request(facts, content, SignerSet(), system="demo", client_entity_id=DEMO_CLIENT,
                        organization=DEMO_ORG, message_id=f"urn:uuid:{uuid.uuid4()}")
    from mock_remd.soap.builders import attachment

    req.document = attachment(content.replace("врача-кардиолога".encode(), "врача-терапевта".encode()))
    resp = post(validating_server.soap_url, register_envelope(req))
    assert "<ns3:status>success</ns3:status>" in resp.text
    result = sink.wait_for(req.message_id, timeout=60)
    assert result.status == "error" and "DIGEST_MISMATCH" in result.error_codes


def test_callback_carries_the_schematron_text_where_header_rules_found_the_same(validating_server, sink):
    from mock_remd.generator import generate

    doc = generate("119", seed=5, invalid="missing-information-recipient")
    req = doc.request
    req.message_id = f"urn:uuid:{uuid.uuid4()}"
    post(validating_server.soap_url, register_envelope(req))
    result = sink.wait_for(req.message_id, timeout=60)
    messages = [e["message"] for e in result.errors]
    assert any(m.startswith("Ошибка валидации Schematron: Main05-1") for m in messages), messages
    assert not any(m.startswith("Ошибка валидации СЭМД: Элемент ClinicalDocument должен иметь 1 элемент informationRecipient")
                   for m in messages)
    stored = requests.get(f"{validating_server.url}/_admin/documents/{req.local_uid}").json()
    header = next(layer for layer in stored["layers"] if layer["name"] == "header")
    assert [f["rule"] for f in header["findings"]] == ["H-informationRecipient"]  # kept in the record
