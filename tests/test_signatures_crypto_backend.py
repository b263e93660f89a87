"""Signature values verified by OpenSSL's GOST engine (ctypes), with the pure-Python fallback kept and reported."""

from __future__ import annotations

import pytest
from _openssl_pki import gost_engine_available
from _signatures_testing import DOC, codes, doctor_512, doctor_person, mutate, request, run, signed
from asn1crypto import core

from mock_remd.config import Settings, register_gost_backends
from mock_remd.gost import certs, openssl_gost, streebog
from mock_remd.signing import sign_detached, test_ca, test_doctor
from mock_remd.validation.signatures import verify
from mock_remd.validation.signatures.cms import inspect_signature

needs_engine = pytest.mark.skipif(not gost_engine_available(), reason="OpenSSL GOST engine (libengine-gost-openssl) missing")
TAMPERED = DOC.replace(b"T-1", b"T-9")


@pytest.fixture(params=["openssl", "gostcrypto"])
def backend(request):
    """Run the test with each backend (a fresh engine state; the real one is restored afterwards)."""
    if request.param == "openssl" and not gost_engine_available():
        pytest.skip("OpenSSL GOST engine (libengine-gost-openssl) missing")
    openssl_gost.configure("gostcrypto" if request.param == "gostcrypto" else "auto")
    yield request.param
    openssl_gost.configure("auto")


def _forged() -> str:
    """A valid signature whose messageDigest was rewritten to match the tampered document."""
    def patch(sd):
        for attr in sd["signer_infos"][0]["signed_attrs"]:
            if attr["type"].native == "message_digest":
                attr["values"] = [core.OctetString(streebog.digest(TAMPERED))]

    return mutate(signed(), patch)


def test_valid_passes_and_tampered_fails_at_crypto_level(backend):
    report = run(DOC, request([(doctor_person(), signed())], signed(who="org")), "crypto")
    assert report.passed, report.findings
    assert report.details["crypto_backend"] == backend
    forged = run(TAMPERED, request([(doctor_person(), _forged())], signed(TAMPERED, "org")), "crypto")
    assert codes(forged) == ["SIGNATURE_VERIFICATION_ERROR"]
    assert codes(run(TAMPERED, request([(doctor_person(), _forged())], signed(TAMPERED, "org")), "digest")) == []


def test_512_bit_signature_and_certificate_chain_verify(backend):
    from _signatures_testing import TESTKEYS, b64

    ident = doctor_512()
    sig = b64(sign_detached(DOC, ident.key_pem, ident.cert_pem))
    report = run(DOC, request([(doctor_person(), sig)], signed(who="org")), "crypto", trusted_ca=TESTKEYS / "ca.pem")
    assert report.passed, report.findings


@needs_engine
def test_openssl_and_gostcrypto_agree_on_good_and_bad_values():
    sig = inspect_signature(signed())
    cert = sig.cert
    digest = streebog.digest(sig.signed_attrs_der, 256)
    for i in range(0, 64, 7):
        bad = bytearray(sig.signature)
        bad[i] ^= 0x40
        for value in (sig.signature, bytes(bad), sig.signature[:-1], b""):
            assert openssl_gost.verify(cert.spki_der, digest, value) is cert.public_key.verify(digest, value)
    ca = certs.read_certificate(test_ca().certificate.dump())
    doctor = certs.read_certificate(test_doctor().certificate.dump())
    assert verify.verify_certificate(doctor, ca) is True
    assert openssl_gost.verify(ca.spki_der, streebog.digest(doctor.tbs_der), doctor.signature_value) is True


def test_fallback_is_reported_with_its_reason():
    register_gost_backends(Settings.load({}, environ={"MOCK_REMD_GOST_VERIFY": "gostcrypto"}))
    try:
        assert verify.backend_name() == "gostcrypto"
        assert "MOCK_REMD_GOST_VERIFY" in openssl_gost.backend_warning()
    finally:
        register_gost_backends(Settings.load({}, environ={}))
