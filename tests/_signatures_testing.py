"""Helpers for the signature tests: small documents, requests, cached test keys and CMS surgery."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from functools import cache
from pathlib import Path

from asn1crypto import cms

from mock_remd.domain.model import Attachment, Doctor, Person, PersonalSign, RegisterRequest
from mock_remd.gost import oids
from mock_remd.gost.keys import GostPrivateKey
from mock_remd.signing import sign_detached, test_ca, test_doctor, test_organisation
from mock_remd.signing.keys import dump_certificate, dump_private_key
from mock_remd.signing.pki import build_certificate, build_name, issue_doctor_cert
from mock_remd.signing.testkeys import DOCTOR, TestIdentity
from mock_remd.validation.caches import ValidationCaches
from mock_remd.validation.context import DocumentContext, ValidationSettings
from mock_remd.validation.layers.signatures_layer import SignaturesLayer
from mock_remd.validation.report import LayerReport

UTC = dt.UTC
DOC = b'<?xml version="1.0" encoding="UTF-8"?>\n<ClinicalDocument xmlns="urn:hl7-org:v3"><id extension="T-1"/></ClinicalDocument>\n'
OTHER_DOC = DOC.replace(b"T-1", b"T-2")
CREATED = "2025-03-11T11:05:00+03:00"
TESTKEYS = Path(__file__).resolve().parent.parent / "mock_remd" / "signing" / "testkeys"


def b64(der: bytes) -> str:
    return base64.b64encode(der).decode()


@cache
def signed(content: bytes = DOC, who: str = "doctor", signature_oid: str | None = None) -> str:
    """base64 of a detached signature of ``content`` by the built-in TEST doctor or organisation."""
    ident = test_doctor() if who == "doctor" else test_organisation()
    return b64(sign_detached(content, ident.key_pem, ident.cert_pem, signature_oid=signature_oid,
                             signing_time=dt.datetime(2025, 3, 11, 8, 5, tzinfo=UTC)))


def doctor_person(**changes: str) -> Person:
    values = {k: DOCTOR[k] for k in ("snils", "surname", "name", "patronymic")}
    values.update(changes)
    return Person(**values)


def request(
    personal: list[tuple[Person, str | None]] | None = None,
    org: str | None = None,
    *,
    kind: str = "119",
    created: str = CREATED,
) -> RegisterRequest:
    """A request with the given personal signatures ((person, base64)) and organisation signature."""
    if personal is None:
        personal = [(doctor_person(), signed())]
    return RegisterRequest(
        kind=kind,
        creation_date_time=created,
        personal_signs=[
            PersonalSign(doctor=Doctor(role="1", person=p), signature=Attachment(s) if s is not None else None)
            for p, s in personal
        ],
        org_signature=Attachment(org) if org is not None else None,
    )


def valid_request(**kw) -> RegisterRequest:
    return request([(doctor_person(), signed())], signed(who="org"), **kw)


def run(content: bytes, req: RegisterRequest | None, level: str = "digest", trusted_ca: Path | None = None,
        settings: ValidationSettings | None = None) -> LayerReport:
    settings = settings or ValidationSettings(signatures=level, trusted_ca=trusted_ca)
    return SignaturesLayer(settings).run(DocumentContext(content=content, settings=settings, request=req,
                                                          caches=ValidationCaches()))


def codes(report: LayerReport) -> list[str]:
    return sorted({f.code for f in report.findings})


def mutate(b64_sig: str, change: Callable[[cms.SignedData], None]) -> str:
    """Re-encode a signature after ``change`` edited its SignedData (asn1crypto objects)."""
    info = cms.ContentInfo.load(base64.b64decode(b64_sig))
    change(info["content"])
    return b64(info.dump())


@cache
def doctor_with(**cert_kw) -> TestIdentity:
    """A doctor certificate for the built-in doctor's name/SNILS with changed issue options (reuses its key)."""
    key_pem, cert_pem = issue_doctor_cert(
        DOCTOR["snils"], DOCTOR["surname"], DOCTOR["name"], DOCTOR["patronymic"],
        key_pem=test_doctor().key_pem, **dict(cert_kw),
    )
    return TestIdentity(key_pem, cert_pem)


@cache
def other_ca() -> TestIdentity:
    """A second, untrusted test CA."""
    key = GostPrivateKey.generate(oids.PARAMSET_256_B)
    cert = build_certificate(
        subject=build_name(country_name="RU", common_name="Чужой УЦ (TEST)"), public_key=key.public_key(),
        issuer_key=key, not_before=dt.datetime(2020, 1, 1, tzinfo=UTC), not_after=dt.datetime(2040, 1, 1, tzinfo=UTC),
        ca=True,
    )
    return TestIdentity(dump_private_key(key), dump_certificate(cert))


@cache
def forged_doctor() -> TestIdentity:
    """A doctor certificate naming the built-in test CA as issuer but signed by another key."""
    ca_cert = test_ca().certificate
    cert = build_certificate(
        subject=test_doctor().certificate.subject, public_key=test_doctor().private_key.public_key(),
        issuer_key=other_ca().private_key, issuer_cert=ca_cert, authority_key_id=ca_cert.key_identifier,
        not_before=dt.datetime(2020, 1, 1, tzinfo=UTC), not_after=dt.datetime(2040, 1, 1, tzinfo=UTC),
    )
    return TestIdentity(test_doctor().key_pem, dump_certificate(cert))


@cache
def doctor_512() -> TestIdentity:
    """The built-in doctor's identity on a 512-bit key (tc26 paramSetA), issued by the test CA."""
    key = GostPrivateKey.generate(oids.PARAMSET_512_A, 512)
    key_pem, cert_pem = issue_doctor_cert(
        DOCTOR["snils"], DOCTOR["surname"], DOCTOR["name"], DOCTOR["patronymic"], key_pem=dump_private_key(key),
        not_before=dt.datetime(2020, 1, 1, tzinfo=UTC), not_after=dt.datetime(2040, 1, 1, tzinfo=UTC),
    )
    return TestIdentity(key_pem, cert_pem)
