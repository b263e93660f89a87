"""MOCK_REMD_CHECK_WSSE: the message-level GOST XMLDSig is checked at the endpoint when present."""

from __future__ import annotations

from remd_requests import post, register_request, sync_status

from mock_remd.signing import test_organisation
from mock_remd.signing.wsse import sign_envelope
from mock_remd.soap.builders import register_envelope


def test_signed_request_accepted_tampered_refused_unsigned_passes(make_server, sink):
    srv = make_server(check_wsse=True)
    org = test_organisation()
    req = register_request()
    signed = sign_envelope(register_envelope(req), org.key_pem, org.cert_pem)
    assert b"Security" in signed and b"SignatureValue" in signed
    resp = post(srv.soap_url, signed)
    assert sync_status(resp) == "success", resp.text
    assert sink.wait_for(req.message_id).status == "success"

    other = register_request()
    tampered = sign_envelope(register_envelope(other), org.key_pem, org.cert_pem).replace(
        b"<ser:kind>119</ser:kind>", b"<ser:kind>186</ser:kind>")  # the body changed after signing
    assert b"<ser:kind>186</ser:kind>" in tampered
    resp = post(srv.soap_url, tampered)
    assert resp.status_code == 400
    assert "soap:Sender" in resp.text and "wsse:Security" in resp.text

    plain = register_request()
    assert sync_status(post(srv.soap_url, register_envelope(plain))) == "success"  # checked only when present


def test_check_is_off_by_default(make_server):
    srv = make_server()
    org = test_organisation()
    other = register_request()
    signed = sign_envelope(register_envelope(other), org.key_pem, org.cert_pem)
    tampered = signed.replace(b"<ser:kind>119</ser:kind>", b"<ser:kind>119 </ser:kind>")  # body changed after signing
    assert tampered != signed
    assert sync_status(post(srv.soap_url, tampered)) == "success"
