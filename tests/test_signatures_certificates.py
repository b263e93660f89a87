"""Certificates as CAs issue them, built with the project's pure-Python builder (OpenSSL-made ones are in
test_signatures_openssl.py): the cases issue 12 reported, and what a certificate that cannot be read gets."""

from __future__ import annotations

import base64
import datetime as dt

from _signatures_testing import DOC, codes, doctor_person, request, run, signed
from asn1crypto import core, x509

from mock_remd.gost import oids, tlv
from mock_remd.gost.keys import GostPrivateKey
from mock_remd.signing import sign_detached, test_ca
from mock_remd.signing.keys import dump_certificate, dump_private_key
from mock_remd.signing.pki import build_certificate

UTC = dt.UTC
START, END = dt.datetime(2020, 1, 1, tzinfo=UTC), dt.datetime(2040, 1, 1, tzinfo=UTC)


def _name(*attributes: tuple[str, core.Asn1Value]) -> x509.Name:
    rdns = b"".join(tlv.encode(0x31, tlv.encode(0x30, core.ObjectIdentifier(oid).dump() + value.dump()))
                    for oid, value in attributes)
    return x509.Name.load(tlv.encode(0x30, rdns))


def _ca(ogrn: core.Asn1Value, inn_le: core.Asn1Value):
    key = GostPrivateKey.generate(oids.PARAMSET_256_A)
    name = _name(("2.5.4.6", core.PrintableString("RU")), ("2.5.4.3", core.UTF8String("УЦ с ИНН и ОГРН")),
                 (oids.OGRN, ogrn), (oids.INN_LE, inn_le))
    cert = build_certificate(subject=name, public_key=key.public_key(), issuer_key=key, not_before=START,
                             not_after=END, ca=True)
    return key, cert


def _doctor(ca_key, ca_cert, snils: core.Asn1Value, inn: core.Asn1Value):
    key = GostPrivateKey.generate(oids.PARAMSET_256_B)
    name = _name(("2.5.4.3", core.UTF8String("Тестов Иван Петрович")), ("2.5.4.4", core.UTF8String("Тестов")),
                 ("2.5.4.42", core.BMPString("Иван Петрович")), (oids.SNILS, snils), (oids.INN, inn))
    cert = build_certificate(subject=name, public_key=key.public_key(), issuer_key=ca_key, issuer_cert=ca_cert,
                             not_before=START, not_after=END)
    return dump_private_key(key), dump_certificate(cert)


def test_utf8_snils_inn_and_a_ca_with_its_own_utf8_ogrn_inn_pass_with_the_chain(tmp_path):
    """Issue 12 class 1 as reported: ИНН/ОГРН/СНИЛС written as UTF8String (OpenSSL ``utf8only``, CryptoPro's
    test CA) in the holder's and the CA's names — the layer used to fail with an asn1crypto parse error."""
    ca_key, ca_cert = _ca(core.UTF8String("1027700071530"), core.PrintableString("7717107991"))
    key_pem, cert_pem = _doctor(ca_key, ca_cert, core.UTF8String("11223344595"), core.PrintableString("500100732259"))
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(dump_certificate(ca_cert) + test_ca().cert_pem)  # the organisation's is the built-in CA
    sig = base64.b64encode(sign_detached(DOC, key_pem, cert_pem)).decode()
    report = run(DOC, request([(doctor_person(), sig)], signed(who="org"), created=dt.datetime.now(UTC).isoformat()),
                 "crypto", trusted_ca=bundle)
    assert report.passed, report.findings
    assert report.details["signatures"][0]["snils"] == "11223344595"


def test_issuer_written_in_other_string_types_than_the_ca_subject_still_chains(tmp_path):
    """RFC 5280 name comparison: the leaf names its CA with NumericString where the CA wrote UTF8String."""
    ca_key, ca_cert = _ca(core.UTF8String("1027700071530"), core.UTF8String("7717107991"))
    key = GostPrivateKey.generate(oids.PARAMSET_256_B)
    issuer_as_numeric = _name(("2.5.4.6", core.PrintableString("RU")), ("2.5.4.3", core.UTF8String("уц с инн и огрн")),
                              (oids.OGRN, core.NumericString("1027700071530")),
                              (oids.INN_LE, core.NumericString("7717107991")))
    fake_ca = x509.Certificate.load(tlv.encoded(ca_cert))
    subject = _name(("2.5.4.3", core.UTF8String("Тестов Иван Петрович")), (oids.SNILS, core.NumericString("11223344595")))
    leaf = build_certificate(subject=subject, public_key=key.public_key(), issuer_key=ca_key,
                             issuer_cert=_with_subject(fake_ca, issuer_as_numeric), not_before=START, not_after=END,
                             authority_key_id=ca_cert.key_identifier)
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(dump_certificate(ca_cert) + test_ca().cert_pem)  # the organisation's is the built-in CA
    sig = base64.b64encode(sign_detached(DOC, dump_private_key(key), dump_certificate(leaf))).decode()
    req = request([(doctor_person(), sig)], signed(who="org"), created=dt.datetime.now(UTC).isoformat())
    assert codes(run(DOC, req, "crypto", trusted_ca=bundle)) == []


def _with_subject(cert: x509.Certificate, name: x509.Name) -> x509.Certificate:
    """A stand-in issuer certificate with another subject encoding (only its subject is used)."""
    key = GostPrivateKey.generate(oids.PARAMSET_256_A)
    return build_certificate(subject=name, public_key=key.public_key(), issuer_key=key, not_before=START,
                             not_after=END, ca=True)


def test_certificate_with_a_broken_extension_is_a_decoding_error_naming_slot_and_part():
    ca_key, ca_cert = _ca(core.NumericString("1027700071530"), core.NumericString("7717107991"))
    key_pem, cert_pem = _doctor(ca_key, ca_cert, core.NumericString("11223344595"), core.NumericString("500100732259"))
    der = bytearray(tlv.encoded(x509.Certificate.load(base64.b64decode(b"".join(cert_pem.splitlines()[1:-1])))))
    usage = der.find(bytes.fromhex("0603551d0f"))  # keyUsage extnID; its value follows: BOOLEAN, OCTET STRING
    octet = der.index(b"\x04", usage + 5)
    der[octet + 2] = 0x05  # the BIT STRING inside becomes a NULL: keyUsage cannot be read
    sig = base64.b64encode(sign_detached(DOC, key_pem, dump_certificate(x509.Certificate.load(bytes(der))))).decode()
    report = run(DOC, request([(doctor_person(), sig)], signed(who="org")))
    assert codes(report) == ["SIGNATURE_DECODING_ERROR"]
    assert report.findings[0].message == ("ЭП сотрудника (СНИЛС 11223344595): не прочитан сертификат №1 из контейнера ЭП: "
                                          "расширение «Использование ключа» (keyUsage)")
