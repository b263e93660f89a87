"""The ``signatures`` layer: every registry code, each level, both OID styles, trusted-CA chains."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from _signatures_testing import (
    DOC,
    OTHER_DOC,
    TESTKEYS,
    b64,
    codes,
    doctor_512,
    doctor_person,
    doctor_with,
    forged_doctor,
    mutate,
    other_ca,
    request,
    run,
    signed,
    valid_request,
)
from asn1crypto import algos, cms, core

from mock_remd.catalog import errors
from mock_remd.catalog.kinds import default_registry
from mock_remd.gost import oids, streebog
from mock_remd.signing import sign_detached, test_doctor
from mock_remd.validation.context import ValidationSettings
from mock_remd.validation.pipeline import Validator

UTC = dt.UTC


# --- the valid case and the levels -----------------------------------------------------------------
@pytest.mark.parametrize("level", ["structure", "digest", "crypto"])
def test_doctor_and_organisation_signatures_pass_at_every_level(level):
    report = run(DOC, valid_request(), level)
    assert report.ran and report.passed, report.findings
    assert report.details["level"] == level
    assert report.details["streebog_backend"] in ("openssl", "gostcrypto")
    assert [s["snils"] for s in report.details["signatures"]] == ["11223344595", ""]


def test_off_level_does_not_run_and_says_so():
    report = run(DOC, request([(doctor_person(), "garbage!")]), "off")
    assert not report.ran and report.passed
    assert report.details["level"] == "off" and "MOCK_REMD_SIGNATURES" in report.reason


def test_without_a_request_the_layer_is_skipped_with_a_reason():
    report = run(DOC, None)
    assert not report.ran
    assert "запрос" in report.reason
    assert report.details["streebog_backend"] == streebog.backend_name()


def test_structure_level_does_not_hash_the_document_but_digest_level_does():
    req = valid_request()
    assert run(OTHER_DOC, req, "structure").passed
    assert codes(run(OTHER_DOC, req, "digest")) == ["DIGEST_MISMATCH"]


def test_pipeline_runs_signatures_even_when_the_document_is_not_xml():
    content = b"not xml at all"
    req = request([(doctor_person(), signed(content))], signed(content, "org"))
    report = Validator(ValidationSettings()).validate(content, req)
    layer = report.layer("signatures")
    assert layer.ran and layer.passed, layer.findings
    assert report.layer("xsd").ran is False


# --- decoding and format -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data, fragment",
    [
        ("это не base64 !!!", "base64"),
        (b64(b"\x30\x82\x10\x00\x06\x09"), "ASN.1"),  # length says 4096, data ends
        (b64(b"-----BEGIN PKCS7-----\nMIIB\n-----END PKCS7-----\n"), "PEM"),
        (b64(signed().encode()), "дважды"),
    ],
)
def test_undecodable_signature_is_signature_decoding_error(data, fragment):
    report = run(DOC, request([(doctor_person(), data)], signed(who="org")))
    assert codes(report) == ["SIGNATURE_DECODING_ERROR"]
    assert fragment in report.findings[0].message
    assert report.findings[0].path == "personalSigns/personalSign[1]/signature/data"


def test_trailing_bytes_after_the_der_are_a_decoding_error():
    data = b64(base64.b64decode(signed()) + b"\x00\x00")
    assert codes(run(DOC, request([(doctor_person(), data)], signed(who="org")))) == ["SIGNATURE_DECODING_ERROR"]


def test_a_certificate_instead_of_a_signature_is_wrong_format():
    cert_der = test_doctor().certificate.dump()
    report = run(DOC, request([(doctor_person(), b64(cert_der))], signed(who="org")))
    assert codes(report) == ["WRONG_SIGNATURE_FORMAT"]


def test_cms_that_is_not_signed_data_is_wrong_format():
    data = b64(cms.ContentInfo({"content_type": "data", "content": core.OctetString(b"x")}).dump())
    report = run(DOC, request([(doctor_person(), data)], signed(who="org")))
    assert codes(report) == ["WRONG_SIGNATURE_FORMAT"]
    assert "SignedData" in report.findings[0].message


def test_attached_signature_is_wrong_format():
    def attach(sd):
        sd["encap_content_info"] = {"content_type": "data", "content": DOC}

    report = run(DOC, request([(doctor_person(), mutate(signed(), attach))], signed(who="org")))
    assert codes(report) == ["WRONG_SIGNATURE_FORMAT"]
    assert "открепленная" in report.findings[0].message


def test_signature_without_signed_attributes_is_wrong_format():
    def strip(sd):
        sd["signer_infos"][0]["signed_attrs"] = None

    report = run(DOC, request([(doctor_person(), mutate(signed(), strip))], signed(who="org")))
    assert codes(report) == ["WRONG_SIGNATURE_FORMAT"]


def test_two_signer_infos_are_multiple_signers():
    org_info = cms.ContentInfo.load(base64.b64decode(signed(who="org")))["content"]

    def add_signer(sd):
        sd["signer_infos"] = cms.SignerInfos([sd["signer_infos"][0], org_info["signer_infos"][0]])

    report = run(DOC, request([(doctor_person(), mutate(signed(), add_signer))], signed(who="org")))
    assert codes(report) == ["MULTIPLE_SIGNERS"]


def test_no_embedded_certificate_is_no_end_entity_certificate():
    def drop(sd):
        sd["certificates"] = None

    report = run(DOC, request([(doctor_person(), mutate(signed(), drop))], signed(who="org")))
    assert codes(report) == ["NO_END_ENTITY_CERTIFICATE"]


def test_certificate_not_matching_the_signer_is_no_end_entity_certificate():
    org_cert = cms.ContentInfo.load(base64.b64decode(signed(who="org")))["content"]["certificates"][0]

    def swap(sd):
        sd["certificates"] = cms.CertificateSet([org_cert])

    report = run(DOC, request([(doctor_person(), mutate(signed(), swap))], signed(who="org")))
    assert codes(report) == ["NO_END_ENTITY_CERTIFICATE"]


def test_same_signature_twice_is_signature_duplication():
    sig = signed()
    report = run(DOC, request([(doctor_person(), sig), (doctor_person(), sig)], signed(who="org")))
    assert codes(report) == ["SIGNATURE_DUPLICATION"]
    assert report.findings[0].path == "personalSigns/personalSign[2]/signature/data"


def test_no_personal_signature_is_no_signature():
    report = run(DOC, request([], signed(who="org")))
    assert codes(report) == ["NO_SIGNATURE"]
    assert report.findings[0].message == errors.message("NO_SIGNATURE")


def test_a_personal_sign_without_data_next_to_others_is_no_signature():
    report = run(DOC, request([(doctor_person(), signed()), (doctor_person(snils="12345678964"), None)], signed(who="org")))
    assert codes(report) == ["NO_SIGNATURE"]


# --- algorithms ---------------------------------------------------------------------------------
@pytest.mark.parametrize("style", [oids.SIG_256, oids.KEY_256])
def test_both_signature_oid_styles_are_accepted(style):
    req = request([(doctor_person(), signed(DOC, "doctor", style))], signed(who="org"))
    report = run(DOC, req, "crypto")
    assert report.passed, report.findings
    assert report.details["signatures"][0]["signature_algorithm"] == style


def test_sha256_digest_algorithm_is_unknown_algorithm():
    def sha(sd):
        sd["signer_infos"][0]["digest_algorithm"] = algos.DigestAlgorithm({"algorithm": "sha256"})

    report = run(DOC, request([(doctor_person(), mutate(signed(), sha))], signed(who="org")), "structure")
    assert codes(report) == ["UNKNOWN_ALGORITHM"]
    assert "34.11-2012" in report.findings[0].message


def test_rsa_signature_algorithm_is_unknown_algorithm():
    def rsa(sd):
        sd["signer_infos"][0]["signature_algorithm"] = algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"})

    report = run(DOC, request([(doctor_person(), mutate(signed(), rsa))], signed(who="org")), "crypto")
    assert codes(report) == ["UNKNOWN_ALGORITHM"]


def test_512_bit_signature_verifies():
    ident = doctor_512()
    sig = b64(sign_detached(DOC, ident.key_pem, ident.cert_pem))
    report = run(DOC, request([(doctor_person(), sig)], signed(who="org")), "crypto")
    assert report.passed, report.findings
    assert report.details["signatures"][0]["digest_algorithm"] == oids.DIGEST_512


# --- certificate ---------------------------------------------------------------------------------
def test_document_created_before_the_certificate_is_not_before():
    report = run(DOC, valid_request(created="2019-06-01T10:00:00+03:00"))
    assert codes(report) == ["DOC_DATE_MISMATCH_CERT_NOT_BEFORE"]
    assert len(report.findings) == 2  # doctor and organisation
    assert "Сертификат МО недействителен на дату создания документа" in report.findings[1].message


def test_document_created_after_the_certificate_is_not_after():
    report = run(DOC, valid_request(created="2046-01-10T10:00:00+03:00"))
    assert codes(report) == ["DOC_DATE_MISMATCH_CERT_NOT_AFTER"]


def test_certificate_without_signing_key_usage_is_invalid_key_usage():
    ident = doctor_with(key_usage=frozenset({"key_encipherment"}),
                        not_before=dt.datetime(2020, 1, 1, tzinfo=UTC), not_after=dt.datetime(2040, 1, 1, tzinfo=UTC))
    sig = b64(sign_detached(DOC, ident.key_pem, ident.cert_pem))
    report = run(DOC, request([(doctor_person(), sig)], signed(who="org")))
    assert codes(report) == ["INVALID_CERT_KEY_USAGE"]


def test_snils_differing_from_the_certificate_is_value_mismatch():
    report = run(DOC, request([(doctor_person(snils="123-456-789 64"), signed())], signed(who="org")))
    assert codes(report) == ["VALUE_MISMATCH_METADATA_AND_CERTIFICATE"]
    assert "СНИЛС [12345678964] в метаданных и [11223344595] в сертификате" in report.findings[0].message


def test_snils_formatting_and_name_case_do_not_matter():
    person = doctor_person(snils="112-233-445 95", surname="ТЕСТОВ", patronymic="петрович")
    assert run(DOC, request([(person, signed())], signed(who="org"))).passed


@pytest.mark.parametrize("field, value", [("surname", "Петров"), ("name", "Пётр"), ("patronymic", "Иванович")])
def test_name_differing_from_the_certificate_is_value_mismatch(field, value):
    report = run(DOC, request([(doctor_person(**{field: value}), signed())], signed(who="org")))
    assert codes(report) == ["VALUE_MISMATCH_METADATA_AND_CERTIFICATE"]
    assert value in report.findings[0].message


def test_organisation_signature_made_with_a_personal_certificate_is_value_mismatch():
    doctor = test_doctor()
    as_org = b64(sign_detached(DOC, doctor.key_pem, doctor.cert_pem))
    report = run(DOC, request([(doctor_person(), signed())], as_org))
    assert codes(report) == ["VALUE_MISMATCH_METADATA_AND_CERTIFICATE"]
    assert report.findings[0].path == "orgSignature/data"
    assert "ОГРН" in report.findings[0].message


# --- organisation signature occurrence ------------------------------------------------------------
def test_missing_organisation_signature_for_a_kind_that_requires_it():
    report = run(DOC, request([(doctor_person(), signed())], None, kind="119"))
    assert codes(report) == ["ORG_SIGNATURE_OCCURRENCE_MISMATCH"]
    assert "[119]" in report.findings[0].message


def test_organisation_signature_for_a_kind_without_it():
    kinds = default_registry().with_overrides(**{"119": {"mo_sign": False}})
    settings = ValidationSettings(kinds=kinds)
    assert codes(run(DOC, valid_request(), settings=settings)) == ["ORG_SIGNATURE_OCCURRENCE_MISMATCH"]
    assert run(DOC, request([(doctor_person(), signed())], None), settings=settings).passed


# --- digests --------------------------------------------------------------------------------------
def test_signatures_over_different_documents_are_inconsistent_digests():
    req = request([(doctor_person(), signed(DOC))], signed(OTHER_DOC, "org"))
    assert codes(run(DOC, req, "structure")) == ["INCONSISTENT_DIGESTS"]
    report = run(DOC, req, "digest")
    assert codes(report) == ["DIGEST_MISMATCH", "INCONSISTENT_DIGESTS"]
    mismatch = next(f for f in report.findings if f.code == "DIGEST_MISMATCH")
    assert mismatch.path == "orgSignature/data"


def test_signatures_of_another_document_are_digest_mismatch():
    report = run(DOC, request([(doctor_person(), signed(OTHER_DOC))], signed(OTHER_DOC, "org")))
    assert codes(report) == ["DIGEST_MISMATCH"]
    assert streebog.digest(DOC).hex() in report.findings[0].message


def test_tampered_document_with_a_patched_message_digest_fails_only_in_crypto():
    """The attack a digest check cannot see: messageDigest rewritten to match the tampered bytes."""
    tampered = DOC.replace(b"T-1", b"T-9")

    def patch(sd):
        for attr in sd["signer_infos"][0]["signed_attrs"]:
            if attr["type"].native == "message_digest":
                attr["values"] = [core.OctetString(streebog.digest(tampered))]

    forged = mutate(signed(), patch)
    req = request([(doctor_person(), forged)], signed(tampered, "org"))
    assert codes(run(tampered, req, "digest")) == []
    report = run(tampered, req, "crypto")
    assert codes(report) == ["SIGNATURE_VERIFICATION_ERROR"]
    assert report.findings[0].path == "personalSigns/personalSign[1]/signature/data"


def test_flipped_bit_in_the_signature_value_is_verification_error():
    def flip(sd):
        value = bytearray(sd["signer_infos"][0]["signature"].native)
        value[5] ^= 0x01
        sd["signer_infos"][0]["signature"] = bytes(value)

    req = request([(doctor_person(), mutate(signed(), flip))], signed(who="org"))
    assert codes(run(DOC, req, "digest")) == []
    assert codes(run(DOC, req, "crypto")) == ["SIGNATURE_VERIFICATION_ERROR"]


# --- trusted CA chain -----------------------------------------------------------------------------
def test_chain_to_the_trusted_test_ca_passes():
    assert run(DOC, valid_request(), "crypto", trusted_ca=TESTKEYS / "ca.pem").passed


def test_no_chain_to_a_trusted_ca_is_cant_build_chain(tmp_path):
    bundle = tmp_path / "trusted.pem"
    bundle.write_bytes(other_ca().cert_pem)
    report = run(DOC, valid_request(), "structure", trusted_ca=bundle)
    assert codes(report) == ["CANT_BUILD_CERT_CHAIN_TO_ACCREDITED_CA_CERT"]
    assert len(report.findings) == 2


def test_forged_issuer_is_caught_by_the_chain_signature_in_crypto_level():
    ident = forged_doctor()
    sig = b64(sign_detached(DOC, ident.key_pem, ident.cert_pem))
    req = request([(doctor_person(), sig)], signed(who="org"))
    assert run(DOC, req, "structure", trusted_ca=TESTKEYS / "ca.pem").passed
    assert codes(run(DOC, req, "crypto", trusted_ca=TESTKEYS / "ca.pem")) == ["CANT_BUILD_CERT_CHAIN_TO_ACCREDITED_CA_CERT"]


def test_without_trusted_ca_self_signed_certificates_are_accepted():
    ca = other_ca()  # self-signed, signs its own document
    sig = b64(sign_detached(DOC, ca.key_pem, ca.cert_pem))
    report = run(DOC, request([(doctor_person(), sig)], signed(who="org")), "crypto")
    # its subject has no SNILS, so only the metadata check complains — no chain is demanded
    assert codes(report) == ["VALUE_MISMATCH_METADATA_AND_CERTIFICATE"]
    assert "[отсутствует] в сертификате" in report.findings[0].message
