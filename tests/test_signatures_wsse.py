"""The message-level ``wsse:Security`` GOST XMLDSig: signed by our helper, checked by ``check_wsse``."""

from __future__ import annotations

import base64

import pytest
from lxml import etree

from mock_remd.signing import test_doctor, test_organisation
from mock_remd.signing.wsse import sign_envelope
from mock_remd.validation.signatures.wsse import DS_NS, WSSE_NS, check_wsse, wsse_enabled

ENVELOPE = b"""<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"
    xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:egisz="http://egisz.rosminzdrav.ru"
    xmlns:ser="http://egisz.rosminzdrav.ru/iehr/emdr/service/">
  <soap:Header>
    <egisz:transportHeader><egisz:authInfo><egisz:clientEntityId>00000000-0000-4000-8000-000000000001</egisz:clientEntityId></egisz:authInfo></egisz:transportHeader>
    <wsa:MessageID>urn:uuid:2f0b6c3e-8d0e-4a31-9a55-0c4b1c2d7e10</wsa:MessageID>
    <wsa:To>http://127.0.0.1:8080/port/emdr</wsa:To>
    <wsa:Action>registerDocument</wsa:Action>
  </soap:Header>
  <soap:Body><ser:registerDocumentRequest><ser:localUid>8a4e9496-88e6-234a-ae69-73505221c008</ser:localUid><ser:kind>119</ser:kind></ser:registerDocumentRequest></soap:Body>
</soap:Envelope>"""


@pytest.fixture(scope="module")
def signed_envelope() -> bytes:
    org = test_organisation()
    return sign_envelope(ENVELOPE, org.key_pem, org.cert_pem)


def _codes(root) -> list[str]:
    return sorted(f.code for f in check_wsse(root))


def test_envelope_without_security_has_nothing_to_check():
    assert check_wsse(etree.fromstring(ENVELOPE)) == []
    assert check_wsse(None) == []


def test_signed_envelope_verifies_and_references_body_timestamp_and_addressing(signed_envelope):
    root = etree.fromstring(signed_envelope)
    assert check_wsse(root) == []
    refs = root.findall(f".//{{{DS_NS}}}Reference")
    assert refs[0].get("URI") == "#body"
    assert len(refs) == 5  # Body, Timestamp, MessageID, To, Action
    assert root.find(f".//{{{WSSE_NS}}}BinarySecurityToken") is not None


def test_tampered_body_fails_its_digest(signed_envelope):
    tampered = signed_envelope.replace(b">119<", b">186<")
    findings = check_wsse(etree.fromstring(tampered))
    assert [f.code for f in findings] == ["SIGNATURE_VERIFICATION_ERROR"]
    assert "#body" in findings[0].message and findings[0].layer == "wsse"


def test_tampered_signature_value_fails(signed_envelope):
    root = etree.fromstring(signed_envelope)
    value = root.find(f".//{{{DS_NS}}}SignatureValue")
    raw = bytearray(base64.b64decode(value.text))
    raw[3] ^= 0x40
    value.text = base64.b64encode(bytes(raw)).decode()
    assert _codes(root) == ["SIGNATURE_VERIFICATION_ERROR"]


def test_certificate_swapped_for_another_key_fails(signed_envelope):
    root = etree.fromstring(signed_envelope)
    token = root.find(f".//{{{WSSE_NS}}}BinarySecurityToken")
    token.text = base64.b64encode(test_doctor().certificate.dump()).decode()
    assert _codes(root) == ["SIGNATURE_VERIFICATION_ERROR"]


def test_non_gost_algorithms_are_unknown_algorithm(signed_envelope):
    root = etree.fromstring(signed_envelope)
    root.find(f".//{{{DS_NS}}}SignatureMethod").set("Algorithm", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
    root.find(f".//{{{DS_NS}}}DigestMethod").set("Algorithm", "http://www.w3.org/2001/04/xmlenc#sha256")
    assert _codes(root) == ["UNKNOWN_ALGORITHM", "UNKNOWN_ALGORITHM"]


def test_reference_to_a_missing_element_is_wrong_format(signed_envelope):
    root = etree.fromstring(signed_envelope)
    root.find(f".//{{{DS_NS}}}Reference").set("URI", "#nowhere")
    assert _codes(root) == ["WRONG_SIGNATURE_FORMAT"]


def test_the_check_is_off_unless_configured():
    assert not wsse_enabled({})
    assert wsse_enabled({"wsse": "on"})
