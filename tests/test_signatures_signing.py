"""The signing package: keys, the test PKI, ``sign_detached``, ``mock-remd sign`` and OpenSSL interop."""

from __future__ import annotations

import base64
import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from _signatures_testing import DOC, TESTKEYS, b64, codes, doctor_person, request, run, signed

from mock_remd.cli.main import main as cli
from mock_remd.gost import certs, oids
from mock_remd.gost.keys import GostPrivateKey
from mock_remd.signing import issue_doctor_cert, sign_detached, test_ca, test_doctor, test_organisation
from mock_remd.signing.keys import dump_private_key, load_certificate, load_private_key
from mock_remd.validation.signatures import verify
from mock_remd.validation.signatures.cms import inspect_signature

UTC = dt.UTC


def _has_gost_engine() -> bool:
    if not shutil.which("openssl"):
        return False
    return subprocess.run(["openssl", "engine", "gost"], capture_output=True).returncode == 0


needs_engine = pytest.mark.skipif(not _has_gost_engine(), reason="openssl GOST engine (libengine-gost-openssl) missing")


def _openssl(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)


# --- keys and the test PKI ------------------------------------------------------------------------
def test_private_key_pem_round_trips_and_matches_the_certificate():
    key = test_doctor().private_key
    assert load_private_key(dump_private_key(key)) == key
    cert_key = verify.public_key(test_doctor().certificate)
    assert cert_key == key.public_key()
    assert cert_key.paramset == oids.PARAMSET_256_B


def test_builtin_certificates_are_issued_by_the_test_ca_and_marked_as_test_keys():
    ca = test_ca().certificate
    assert verify.verify_certificate(ca, ca)
    for ident in (test_doctor(), test_organisation()):
        assert verify.verify_certificate(ident.certificate, ca)
        assert ident.key_pem.startswith(b"TEST KEY")
    doctor = certs.subject_info(test_doctor().certificate)
    assert (doctor.snils, doctor.surname, doctor.given_name) == ("11223344595", "Тестов", "Иван Петрович")
    assert len(doctor.inn) == 12 and not doctor.ogrn
    org = certs.subject_info(test_organisation().certificate)
    assert org.ogrn == "1025000000010" and org.inn_le == "5000000017"


def test_verify_certificate_fails_for_a_foreign_issuer():
    assert not verify.verify_certificate(test_doctor().certificate, test_doctor().certificate)


def test_issue_doctor_cert_for_a_generated_doctor():
    start = dt.datetime(2024, 1, 1, tzinfo=UTC)
    key_pem, cert_pem = issue_doctor_cert("123-456-789 64", "Сидорова", "Анна", "Ильинична", start, start.replace(year=2027))
    cert = load_certificate(cert_pem)
    info = certs.subject_info(cert)
    assert (info.snils, info.surname, info.given_name, info.common_name) == (
        "12345678964", "Сидорова", "Анна Ильинична", "Сидорова Анна Ильинична"
    )
    assert certs.validity(cert) == (start, start.replace(year=2027))
    assert verify.verify_certificate(cert, test_ca().certificate)
    sig = b64(sign_detached(DOC, key_pem, cert_pem))
    person = doctor_person(snils="12345678964", surname="Сидорова", name="Анна", patronymic="Ильинична")
    report = run(DOC, request([(person, sig)], signed(who="org")), "crypto", trusted_ca=TESTKEYS / "ca.pem")
    assert report.passed, report.findings


def test_sign_detached_builds_a_cades_bes_like_container():
    sig = inspect_signature(signed())
    names = [a["type"].native for a in sig.signer["signed_attrs"]]
    assert set(names) == {"content_type", "signing_time", "message_digest", "signing_certificate_v2"}
    assert sig.signing_time == dt.datetime(2025, 3, 11, 8, 5, tzinfo=UTC)
    assert sig.certificate.dump() == test_doctor().certificate.dump()
    assert verify.verify_signer(sig)


# --- command line ---------------------------------------------------------------------------------
def test_cli_sign_writes_base64_that_the_layer_accepts(tmp_path):
    doc = tmp_path / "doc.xml"
    doc.write_bytes(DOC)
    assert cli(["sign", str(doc)]) == 0
    data = (tmp_path / "doc.xml.sig").read_text()
    assert cli(["sign", str(doc), "--org", "--der", "--out", str(tmp_path / "org.der")]) == 0
    org = b64((tmp_path / "org.der").read_bytes())
    assert run(DOC, request([(doctor_person(), data.strip())], org), "crypto").passed


def test_cli_sign_with_explicit_key_and_unusable_input(tmp_path):
    doc = tmp_path / "doc.xml"
    doc.write_bytes(DOC)
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    key.write_bytes(test_doctor().key_pem)
    cert.write_bytes(test_doctor().cert_pem)
    assert cli(["sign", str(doc), "--key", str(key), "--cert", str(cert), "--out", str(tmp_path / "s")]) == 0
    assert inspect_signature((tmp_path / "s").read_text()).certificate.dump() == test_doctor().certificate.dump()
    assert cli(["sign", str(tmp_path / "missing.xml")]) == 2
    assert cli(["sign", str(doc), "--key", str(key)]) == 2
    assert cli(["sign", str(doc), "--key", str(cert), "--cert", str(cert)]) == 2


# --- OpenSSL interop ------------------------------------------------------------------------------
@needs_engine
def test_openssl_verifies_our_signature_and_rejects_a_tampered_document(tmp_path):
    (tmp_path / "doc.xml").write_bytes(DOC)
    (tmp_path / "bad.xml").write_bytes(DOC.replace(b"T-1", b"T-9"))
    (tmp_path / "doc.sig").write_bytes(base64.b64decode(signed()))
    args = ["cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER", "-in", "doc.sig",
            "-CAfile", str(TESTKEYS / "ca.pem"), "-out", "/dev/null"]
    ok = _openssl(*args, "-content", "doc.xml", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    bad = _openssl(*args, "-content", "bad.xml", cwd=tmp_path)
    assert bad.returncode != 0


@needs_engine
def test_openssl_keys_sign_with_our_signer_and_openssl_signatures_pass_our_layer(tmp_path):
    gen = _openssl("genpkey", "-engine", "gost", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A",
                   "-out", "k.pem", cwd=tmp_path)
    assert gen.returncode == 0, gen.stderr
    subj = "/C=RU/CN=Тестов Иван Петрович/SN=Тестов/GN=Иван Петрович/1.2.643.100.3=11223344595"
    req = _openssl("req", "-engine", "gost", "-new", "-x509", "-utf8", "-key", "k.pem", "-subj", subj, "-days", "3650",
                   "-set_serial", "7", "-addext", "keyUsage=digitalSignature,nonRepudiation", "-out", "c.pem", cwd=tmp_path)
    assert req.returncode == 0, req.stderr
    key_pem, cert_pem = (tmp_path / "k.pem").read_bytes(), (tmp_path / "c.pem").read_bytes()
    assert load_private_key(key_pem).paramset == "1.2.643.2.2.35.1"  # what "paramset:A" means to the engine

    # our signer with an OpenSSL key, verified by OpenSSL
    (tmp_path / "doc.xml").write_bytes(DOC)
    (tmp_path / "ours.sig").write_bytes(sign_detached(DOC, key_pem, cert_pem))
    check = _openssl("cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER", "-in", "ours.sig",
                     "-content", "doc.xml", "-CAfile", "c.pem", "-out", "/dev/null", cwd=tmp_path)
    assert check.returncode == 0, check.stderr

    # OpenSSL's signature (key OID as the signature algorithm), checked by our layer at crypto level
    made = _openssl("cms", "-sign", "-engine", "gost", "-binary", "-in", "doc.xml", "-signer", "c.pem", "-inkey", "k.pem",
                    "-md", "md_gost12_256", "-outform", "DER", "-out", "theirs.sig", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    theirs = b64((tmp_path / "theirs.sig").read_bytes())
    assert inspect_signature(theirs).signature_oid == oids.KEY_256
    created = dt.datetime.now(UTC).isoformat()
    report = run(DOC, request([(doctor_person(), theirs)], signed(DOC, "org"), created=created), "crypto")
    assert report.passed, report.findings
    tampered = DOC.replace(b"T-1", b"T-9")
    report = run(tampered, request([(doctor_person(), theirs)], signed(DOC, "org"), created=created), "crypto")
    assert codes(report) == ["DIGEST_MISMATCH"]


def test_generated_512_bit_key_round_trips():
    key = GostPrivateKey.generate(oids.PARAMSET_512_A, 512)
    again = load_private_key(dump_private_key(key))
    assert again == key and again.bits == 512
