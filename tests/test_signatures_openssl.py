"""The signature layer on certificates and CMS made by OpenSSL's GOST engine (tests/_openssl_pki.py), not by us.

Shapes: GOST 2012-256 (CryptoPro-A with digest parameters, tc26-A without) and 512 (A, C) keys; CAs
with ОГРН/ИНН ЮЛ in their own name (ИНН ЮЛ as UTF8String), a GOST 2001 CA signing with GOST 94, an
intermediate CA; critical keyUsage, critical issuerSignTool and certificatePolicies, subjectSignTool,
qcStatements, AIA, CRL DP; signers by issuerAndSerialNumber and by subjectKeyIdentifier; CAdES-BES
(``-cades``: signingCertificateV2), CAdES-T and X Long Type 1 unsigned attributes, whole chains and
unrelated extra certificates, BER indefinite lengths.
"""

from __future__ import annotations

import base64

import pytest
from _openssl_pki import DOCTOR, ber_indefinite, with_cades_x_long
from _signatures_testing import codes, request, run

from mock_remd.domain.model import Person
from mock_remd.gost import certs, names, oids
from mock_remd.validation.signatures.cms import inspect_signature

CREATED = "2024-03-15T11:30:00+03:00"
DOC = b'<?xml version="1.0" encoding="UTF-8"?>\n<ClinicalDocument xmlns="urn:hl7-org:v3"><id extension="OSSL-1"/></ClinicalDocument>\n'
PERSON = Person(snils=DOCTOR["snils"], surname=DOCTOR["surname"], name="Андрей", patronymic="Петрович")


@pytest.fixture(scope="module")
def doc_path(openssl_pki, tmp_path_factory):
    path = tmp_path_factory.mktemp("ossl-doc") / "doc.xml"
    path.write_bytes(DOC)
    return path


def _b64(der: bytes) -> str:
    return base64.b64encode(der).decode()


def _sign(pki, doc_path, signer: str, *options: str) -> bytes:
    bits = 512 if "512" in signer else 256
    out = doc_path.parent / f"{signer}-{abs(hash(options))}.p7s"
    return pki.sign(doc_path, signer, out, "-md", f"md_gost12_{bits}", *options)


def _check(pki, personal: bytes, org: bytes, level: str = "crypto", content: bytes = DOC):
    return run(content, request([(PERSON, _b64(personal))], _b64(org), created=CREATED), level,
               trusted_ca=pki.path("trusted.pem"))


@pytest.fixture(scope="module")
def org_sig(openssl_pki, doc_path):
    return _sign(openssl_pki, doc_path, "org256")


# --- certificates -----------------------------------------------------------------------------------
def test_certificates_read_with_russian_attributes_in_their_string_types(openssl_pki):
    org = certs.read_certificate(inspect_signature(_b64(_sign_org512(openssl_pki))).cert.der)
    assert org.subject_info.ogrn == "1025006035580" and org.subject_info.inn_le == "5047001330"
    assert org.issuer.get(names.OGRN) == "1027700071530" and org.issuer.get(names.INN_LE) == "7717107991"
    assert "ИНН ЮЛ=7717107991" in org.issuer.human_friendly
    doctor = certs.read_certificate(_der(openssl_pki.cert("doctor256")))
    assert doctor.subject_info.snils == DOCTOR["snils"] and doctor.subject_info.inn == "504700215497"
    assert doctor.key_usage == {"digital_signature", "non_repudiation", "key_encipherment", "data_encipherment"}
    assert doctor.public_key.paramset == "1.2.643.2.2.35.1"
    assert certs.read_certificate(_der(openssl_pki.cert("doctor256tc"))).signature_algorithm == oids.SIG_2001


def _der(pem_bytes: bytes) -> bytes:
    from asn1crypto import pem

    return pem.unarmor(pem_bytes)[2]


def _sign_org512(pki):
    doc = pki.root / "org-doc.xml"
    doc.write_bytes(DOC)
    return pki.sign(doc, "org512", pki.root / "org512.p7s", "-md", "md_gost12_512")


# --- every signer certificate, the usual CMS ----------------------------------------------------------
@pytest.mark.parametrize(
    "signer, options",
    [
        ("doctor256", ()),  # CryptoPro-A key (parameters with digest set), CA 2012-256
        ("doctor256tc", ()),  # tc26 paramSetA key (no digest set), CA signing with GOST 2001 / GOST 94
        ("doctor512", ()),  # 512 paramSetA
        ("doctor512c", ("-certfile", "chain.pem")),  # 512 paramSetC under an intermediate CA, whole chain
    ],
)
def test_openssl_signers_pass_every_check_at_crypto_level(openssl_pki, doc_path, org_sig, signer, options):
    report = _check(openssl_pki, _sign(openssl_pki, doc_path, signer, *options), org_sig)
    assert report.passed, report.findings
    assert report.details["signatures"][0]["snils"] == DOCTOR["snils"]
    assert report.details["signatures"][1]["ogrn"] == "1025006035580"
    assert "unverified_chain_links" not in report.details  # the GOST 94 link was checked (OpenSSL)


@pytest.mark.parametrize(
    "options",
    [
        ("-cades",),  # CAdES-BES: signingCertificateV2 among the signed attributes
        ("-keyid",),  # signer identified by subjectKeyIdentifier
        ("-nosmimecap",),
        ("-certfile", "unrelated.pem"),  # certificates of other people and CAs in the container
        ("-certfile", "chain.pem", "-cades", "-keyid"),
    ],
)
def test_cms_shapes_made_by_openssl_pass(openssl_pki, doc_path, org_sig, options):
    assert _check(openssl_pki, _sign(openssl_pki, doc_path, "doctor256", *options), org_sig).passed


@pytest.mark.parametrize("signer", ["doctor256", "doctor512"])
def test_cades_t_and_x_long_unsigned_attributes_pass(openssl_pki, doc_path, org_sig, tmp_path, signer):
    extended = with_cades_x_long(openssl_pki, _sign(openssl_pki, doc_path, signer, "-cades"), tmp_path)
    assert len(inspect_signature(_b64(extended)).signer["unsigned_attrs"]) == 6
    report = _check(openssl_pki, extended, org_sig)
    assert report.passed, report.findings


@pytest.mark.parametrize("depth", [4, 8])
def test_ber_indefinite_lengths_pass(openssl_pki, doc_path, org_sig, depth):
    """depth 4: the frame down to certificates and SignerInfo; 8: the signed attributes too (the
    signature then covers their DER re-encoding, RFC 5652 §5.4)."""
    ber = ber_indefinite(_sign(openssl_pki, doc_path, "doctor256", "-cades"), depth)
    assert ber[:2] == b"\x30\x80"
    report = _check(openssl_pki, ber, ber_indefinite(org_sig, depth))
    assert report.passed, report.findings


def test_organisation_512_signature_passes(openssl_pki, doc_path):
    org = _sign(openssl_pki, doc_path, "org512")
    assert _check(openssl_pki, _sign(openssl_pki, doc_path, "doctor512"), org).passed


# --- what the registry refuses, with OpenSSL's signatures ---------------------------------------------
def test_attached_signature_is_wrong_format_naming_the_slot(openssl_pki, doc_path, org_sig):
    report = _check(openssl_pki, _sign(openssl_pki, doc_path, "doctor256", "-nodetach"), org_sig)
    assert codes(report) == ["WRONG_SIGNATURE_FORMAT"]
    assert report.findings[0].message.startswith(f"ЭП сотрудника (СНИЛС {DOCTOR['snils']}): подпись присоединённая")


def test_streamed_attached_ber_signature_is_wrong_format(openssl_pki, doc_path, org_sig):
    streamed = _sign(openssl_pki, doc_path, "doctor512", "-stream", "-nodetach")
    assert streamed[:2] == b"\x30\x80"
    assert codes(_check(openssl_pki, streamed, org_sig)) == ["WRONG_SIGNATURE_FORMAT"]


def test_signature_without_signed_attributes_is_wrong_format(openssl_pki, doc_path, org_sig):
    report = _check(openssl_pki, _sign(openssl_pki, doc_path, "doctor256", "-noattr"), org_sig)
    assert codes(report) == ["WRONG_SIGNATURE_FORMAT"]
    assert "CAdES-BES" in report.findings[0].message


def test_intermediate_missing_from_the_container_is_cant_build_chain(openssl_pki, doc_path, org_sig):
    report = _check(openssl_pki, _sign(openssl_pki, doc_path, "doctor512c"), org_sig, level="structure")
    assert codes(report) == ["CANT_BUILD_CERT_CHAIN_TO_ACCREDITED_CA_CERT"]
    assert "Подчинённый УЦ OpenSSL" in report.findings[0].message


def test_tampered_document_fails_digest_and_crypto(openssl_pki, doc_path, org_sig):
    tampered = DOC.replace(b"OSSL-1", b"OSSL-2")
    personal = _sign(openssl_pki, doc_path, "doctor512")
    for level in ("digest", "crypto"):
        assert "DIGEST_MISMATCH" in codes(_check(openssl_pki, personal, org_sig, level, content=tampered))


def _upper_elements(der: bytes, start: int = 0, depth: int = 0) -> list[tuple[int, int]]:
    """(offset of the length octets, number of them) of every element down to the depth the structure
    check walks (the CMS frame, each certificate and SignerInfo, and their parts)."""
    from asn1crypto import parser

    found: list[tuple[int, int]] = []
    pointer = start
    while pointer < len(der) and (depth or pointer == start):
        _cls, method, _tag, header, contents, trailer = parser.parse(der[pointer:])
        long_form = header[1] & 0x80
        found.append((pointer + 1, 1 + (header[1] & 0x7F if long_form else 0)))
        if method == 1 and depth < 5:
            found += _upper_elements(der[: pointer + len(header) + len(contents)], pointer + len(header), depth + 1)
        pointer += len(header) + len(contents) + len(trailer)
    return found


@pytest.mark.parametrize("depth", [0, 2])
def test_a_length_one_too_long_anywhere_in_the_frame_is_a_decoding_error(openssl_pki, doc_path, org_sig, depth):
    """Every element of the upper levels of an OpenSSL container (definite, or BER indefinite around
    it) that claims one byte more than is there: SIGNATURE_DECODING_ERROR, never an internal error."""
    der = _sign(openssl_pki, doc_path, "doctor256", "-cades")
    der = ber_indefinite(der, depth) if depth else der
    checked = 0
    for offset, size in _upper_elements(der):
        if der[offset] == 0x80 or (size == 1 and der[offset] >= 0x7F):
            continue  # an indefinite length, or one whose next value needs another length octet
        length = int.from_bytes(der[offset + (size > 1): offset + size], "big") + 1
        if length >= 1 << (8 * max(size - 1, 1)):
            continue
        damaged = der[:offset + (size > 1)] + length.to_bytes(max(size - 1, 1), "big") + der[offset + size:]
        report = _check(openssl_pki, damaged, org_sig, level="structure")
        assert report.ran and codes(report) == ["SIGNATURE_DECODING_ERROR"], (offset, report.findings)
        checked += 1
    assert checked >= 20
