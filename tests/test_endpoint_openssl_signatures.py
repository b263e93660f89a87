"""End to end through the real server: the official example of kind 119 signed by OpenSSL's GOST engine
with certificates of an OpenSSL-made PKI (tests/_openssl_pki.py), every layer on, signatures at level
``crypto`` with the OpenSSL CA list trusted: success callback, emdrId, and searchRegistryItem finds it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid

import pytest
import requests
from _openssl_pki import DOCTOR
from remd_requests import DEMO_CLIENT, DEMO_ORG, post

from mock_remd.client.document import build_request, read_facts
from mock_remd.client.signers import SignerSet
from mock_remd.soap.builders import attachment, get_item_envelope, register_envelope, search_envelope

#: what a user-facing text must never carry (issue 12)
LEAKS = ("Traceback", 'File "', "Error(", "Exception", "asn1crypto", "lxml", "sqlalchemy", "gostcrypto")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("schematron-cache")


@pytest.fixture
def crypto_server(make_server, packs_dir, cache_dir, openssl_pki):
    return make_server(validation="all", signatures="crypto", trusted_ca=str(openssl_pki.path("trusted.pem")),
                       packs_dir=str(packs_dir), cache_dir=str(cache_dir))


def _document(valid_119_bytes: bytes) -> tuple[bytes, str]:
    uid = str(uuid.uuid4())
    return valid_119_bytes.replace(b'extension="CONS-2024-000123"', f'extension="{uid}"'.encode()), uid


def _register(srv, pki, tmp_path, content: bytes, doctor: tuple[str, ...], org: tuple[str, ...]):
    """Sign ``content`` with OpenSSL (``doctor``/``org`` = signer name + ``openssl cms`` options) and send it."""
    doc = tmp_path / "doc.xml"
    doc.write_bytes(content)
    facts = read_facts(content)
    assert [d.snils for d in facts.doctors] == [DOCTOR["snils"]]
    req = build_request(facts, content, SignerSet(org_signature=False), system="demo", client_entity_id=DEMO_CLIENT,
                        organization=DEMO_ORG, kind="119", message_id=f"urn:uuid:{uuid.uuid4()}")

    def sign(name: str, *options: str) -> bytes:
        md = "md_gost12_512" if "512" in name else "md_gost12_256"
        return pki.sign(doc, name, tmp_path / f"{name}.p7s", "-md", md, *options)

    req.personal_signs[0].signature = attachment(sign(*doctor))
    req.org_signature = attachment(sign(*org))
    resp = post(srv.soap_url, register_envelope(req))
    assert "<ns3:status>success</ns3:status>" in resp.text, resp.text
    return req


@pytest.mark.parametrize(
    "doctor, org",
    [
        (("doctor256",), ("org256",)),  # 256-bit keys, CryptoPro-A and -B parameter sets
        (("doctor512",), ("org512",)),  # 512-bit keys
        (("doctor256tc", "-keyid"), ("org256", "-cades")),  # GOST 2001 CA; signer by SKI; CAdES-BES
        (("doctor512c", "-certfile", "chain.pem", "-cades"), ("org256", "-certfile", "unrelated.pem")),
    ],
    ids=["256", "512", "ca2001-keyid-cades", "chain-and-extra-certs"],
)
def test_openssl_signed_official_example_registers(crypto_server, sink, openssl_pki, tmp_path, valid_119_bytes,
                                                   doctor, org):
    content, uid = _document(valid_119_bytes)
    req = _register(crypto_server, openssl_pki, tmp_path, content, doctor, org)
    result = sink.wait_for(req.message_id, timeout=60)
    assert result.status == "success", result.errors
    assert re.fullmatch(r"[\d.]+", result.emdr_id), result.emdr_id
    stored = requests.get(f"{crypto_server.url}/_admin/documents/{uid}", timeout=10).json()
    layer = next(layer for layer in stored["layers"] if layer["name"] == "signatures")
    assert layer["ran"] and layer["passed"] and layer["details"]["level"] == "crypto", layer
    found = post(crypto_server.soap_url, search_envelope({"kind": "119"}, client_entity_id=DEMO_CLIENT))
    assert uid in found.text and result.emdr_id in found.text


def test_attached_openssl_signature_is_refused_with_the_slot_named(crypto_server, sink, openssl_pki, tmp_path,
                                                                    valid_119_bytes):
    content, _ = _document(valid_119_bytes)
    req = _register(crypto_server, openssl_pki, tmp_path, content, ("doctor256", "-nodetach"), ("org256",))
    result = sink.wait_for(req.message_id, timeout=60)
    assert result.status == "error" and result.error_codes == ["WRONG_SIGNATURE_FORMAT"], result.errors
    message = result.errors[0]["message"]
    assert f"СНИЛС {DOCTOR['snils']}" in message and "присоединённая" in message
    assert not any(leak in message for leak in LEAKS)


def test_duplicate_and_get_registry_item_work_for_an_openssl_signed_document(crypto_server, sink, openssl_pki,
                                                                             tmp_path, valid_119_bytes):
    """What waits for a registered document (issue 12): a second localUid is NOT_UNIQUE_PROVIDED_ID,
    getRegistryItem finds the first."""
    content, uid = _document(valid_119_bytes)
    first = _register(crypto_server, openssl_pki, tmp_path, content, ("doctor512",), ("org256",))
    emdr_id = sink.wait_for(first.message_id, timeout=60).emdr_id
    assert emdr_id
    doc = tmp_path / "doc.xml"
    again = build_request(read_facts(content), content, SignerSet(org_signature=False), system="demo",
                          client_entity_id=DEMO_CLIENT, organization=DEMO_ORG, kind="119",
                          message_id=f"urn:uuid:{uuid.uuid4()}")
    again.personal_signs[0].signature = attachment(openssl_pki.sign(doc, "doctor256", tmp_path / "again.p7s"))
    again.org_signature = attachment(openssl_pki.sign(doc, "org256", tmp_path / "again-org.p7s"))
    dup = post(crypto_server.soap_url, register_envelope(again))
    assert "NOT_UNIQUE_PROVIDED_ID" in dup.text, dup.text
    item = post(crypto_server.soap_url, get_item_envelope(emdr_id, client_entity_id=DEMO_CLIENT))
    assert f"<ns3:localUid>{uid}</ns3:localUid>" in item.text


def test_cli_validate_accepts_an_openssl_signed_document(openssl_pki, tmp_path, valid_119_bytes, packs_dir):
    """``mock-remd validate --request`` on the same inputs: exit 0, no traceback (it used to exit 1 with one)."""
    content, _ = _document(valid_119_bytes)
    doc = tmp_path / "doc.xml"
    doc.write_bytes(content)
    req = build_request(read_facts(content), content, SignerSet(org_signature=False), system="demo",
                        client_entity_id=DEMO_CLIENT, organization=DEMO_ORG, kind="119",
                        message_id=f"urn:uuid:{uuid.uuid4()}")
    req.personal_signs[0].signature = attachment(openssl_pki.sign(doc, "doctor256", tmp_path / "d.p7s", "-cades"))
    req.org_signature = attachment(openssl_pki.sign(doc, "org512", tmp_path / "o.p7s", "-md", "md_gost12_512"))
    request_file = tmp_path / "request.xml"
    request_file.write_bytes(register_envelope(req))
    out = subprocess.run(
        [sys.executable, "-m", "mock_remd", "validate", str(doc), "--request", str(request_file), "--layers",
         "xml,kind,header,cross,signatures", "--signatures", "crypto", "--format", "json"],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    layer = next(layer for layer in report["layers"] if layer["name"] == "signatures")
    assert layer["ran"] and layer["passed"]
    assert not any(leak in out.stdout + out.stderr for leak in LEAKS)
