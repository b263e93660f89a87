"""Property tests (hypothesis) of the signature layer on generated certificates and CMS containers.

Certificates: subject and issuer attributes in random string types (ИНН/ОГРН/СНИЛС included, issuers
with their own ИНН/ОГРН), random extension sets (known, unknown, critical or not), 256/512 keys on the
parameter sets signers use. CMS: random signed-attribute sets (present, missing, duplicated, unknown,
wrong), unsigned attributes, either signer identifier, either signature-algorithm OID style, extra
certificates; and random damage to valid containers. Whatever comes in, the layer answers a pass or
specific registry codes, never raises, and no message carries exception text; a container built right
passes. OpenSSL-made inputs go through the same checks in tests/test_signatures_openssl.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from functools import cache

import pytest
from _signatures_testing import request, run
from asn1crypto import algos, cms, core, tsp, x509
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st

from mock_remd.catalog.classifier import CLASSIFIER
from mock_remd.domain.model import Person
from mock_remd.gost import certs, oids, streebog, tlv
from mock_remd.gost.keys import GostPrivateKey
from mock_remd.signing import test_ca, test_organisation

UTC = dt.UTC
DOC = b'<?xml version="1.0" encoding="UTF-8"?>\n<ClinicalDocument xmlns="urn:hl7-org:v3"><id extension="P-1"/></ClinicalDocument>\n'
CREATED = "2025-03-11T11:05:00+03:00"
SIGNED_AT = dt.datetime(2025, 3, 11, 8, 5, tzinfo=UTC)
PERSON = Person(snils="11223344595", surname="Тестов", name="Иван", patronymic="Петрович")
REGISTRY_CODES = {code for _id, code, _text, _contour in CLASSIFIER}
LEAKS = ("Traceback", 'File "', "Error(", "Exception", "asn1crypto", "lxml", "sqlalchemy", "gostcrypto",
         "hypothesis", "KeyError", "ValueError", "TypeError")
#: the codes the signature layer may answer (all of them registry codes)
LAYER_CODES = {
    "SIGNATURE_DECODING_ERROR", "WRONG_SIGNATURE_FORMAT", "MULTIPLE_SIGNERS", "NO_END_ENTITY_CERTIFICATE",
    "UNKNOWN_ALGORITHM", "DOC_DATE_MISMATCH_CERT_NOT_BEFORE", "DOC_DATE_MISMATCH_CERT_NOT_AFTER",
    "INVALID_CERT_KEY_USAGE", "VALUE_MISMATCH_METADATA_AND_CERTIFICATE", "SIGNATURE_DUPLICATION",
    "INCONSISTENT_DIGESTS", "DIGEST_MISMATCH", "SIGNATURE_VERIFICATION_ERROR", "NO_SIGNATURE",
    "CANT_BUILD_CERT_CHAIN_TO_ACCREDITED_CA_CERT", "ORG_SIGNATURE_OCCURRENCE_MISMATCH",
}
# shrinking re-runs GOST arithmetic in pure Python for minutes: report the failing example as drawn
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate]
#: the default run's sample (make test); the slow long runs (make slow) draw LONG examples of the same properties
FAST = settings(max_examples=8, deadline=None, phases=_PHASES, suppress_health_check=list(HealthCheck))
CRYPTO = settings(max_examples=8, deadline=None, phases=_PHASES, suppress_health_check=list(HealthCheck))
LONG = settings(max_examples=150, deadline=None, phases=_PHASES, suppress_health_check=list(HealthCheck))


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    length = bytes([n]) if n < 0x80 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag]) + length + content


# --- names --------------------------------------------------------------------------------------------
STRING_TYPES = {
    "utf8": core.UTF8String, "printable": core.PrintableString, "numeric": core.NumericString,
    "teletex": core.TeletexString, "bmp": core.BMPString, "universal": core.UniversalString,
    "ia5": core.IA5String, "visible": core.VisibleString,
}
DIGIT_TYPES = list(STRING_TYPES)
TEXT_TYPES = ["utf8", "bmp", "universal"]  # types that carry Cyrillic


def _attribute(oid: str, kind: str, value: str) -> bytes:
    return _tlv(0x30, core.ObjectIdentifier(oid).dump() + STRING_TYPES[kind](value).dump())


@st.composite
def subject_names(draw, snils: str = PERSON.snils, org: bool = False):
    """(Name DER) of a doctor (SN/G/CN/SNILS/INN) or an organisation (O/CN/ОГРН/ИНН ЮЛ) in random string types."""
    digits = st.sampled_from(DIGIT_TYPES)
    text = st.sampled_from(TEXT_TYPES)
    rdns = [_attribute("2.5.4.6", draw(st.sampled_from(["printable", "utf8"])), "RU")]
    if org:
        name = 'ГБУЗ МО "Тестовая больница"'
        rdns += [_attribute("2.5.4.10", draw(text), name), _attribute("2.5.4.3", draw(text), name),
                 _attribute(oids.OGRN, draw(digits), "1025000000010"), _attribute(oids.INN_LE, draw(digits), "5000000017")]
    else:
        rdns += [_attribute("2.5.4.3", draw(text), "Тестов Иван Петрович"), _attribute("2.5.4.4", draw(text), "Тестов"),
                 _attribute("2.5.4.42", draw(text), "Иван Петрович"), _attribute(oids.SNILS, draw(digits), snils),
                 _attribute(oids.INN, draw(digits), "500100732259")]
    rdns = draw(st.permutations(rdns))
    return _tlv(0x30, b"".join(_tlv(0x31, atv) for atv in rdns))


@st.composite
def issuer_names(draw):
    digits = st.sampled_from(DIGIT_TYPES)
    atvs = [_attribute("2.5.4.3", draw(st.sampled_from(TEXT_TYPES)), "Тестовый УЦ (hypothesis)")]
    if draw(st.booleans()):
        atvs.append(_attribute(oids.OGRN, draw(digits), "1027700071530"))
    if draw(st.booleans()):
        atvs.append(_attribute(oids.INN_LE, draw(digits), "7717107991"))
    if draw(st.booleans()):
        atvs.append(_attribute(oids.INN, draw(digits), "007717107991"))
    return _tlv(0x30, b"".join(_tlv(0x31, atv) for atv in atvs))


# --- keys and certificates ---------------------------------------------------------------------------
PARAMSETS = {256: ["1.2.643.7.1.2.1.1.1", "1.2.643.7.1.2.1.1.2", "1.2.643.2.2.35.1", "1.2.643.2.2.35.3"],
             512: ["1.2.643.7.1.2.1.2.1", "1.2.643.7.1.2.1.2.2", "1.2.643.7.1.2.1.2.3"]}


@cache
def _key(bits: int, paramset: str) -> GostPrivateKey:
    return GostPrivateKey.generate(paramset, bits)


UNKNOWN_EXTENSIONS = {
    "1.2.643.100.111": core.UTF8String('СКЗИ "КриптоПро CSP" (версия 4.0)').dump(),  # subjectSignTool
    "1.2.643.100.112": _tlv(0x30, b"".join(core.UTF8String(t).dump() for t in ("a", "б", "в", "г"))),  # issuerSignTool
    "1.3.6.1.5.5.7.1.3": bytes.fromhex("300A3008060604008E460101"),  # qcStatements
    "1.2.643.100.114": _tlv(0x30, core.UTF8String("ПАК").dump()),
    "1.3.6.1.4.1.311.21.7": bytes.fromhex("300c06042a030405020164020100"),  # MS certificate template
}


_URI = _tlv(0x86, b"http://ca.example.test/ca.crl")
#: extensions asn1crypto knows, given as DER the way CAs write them (read only when the checks need them)
KNOWN_RAW = {
    "2.5.29.32": _tlv(0x30, _tlv(0x30, core.ObjectIdentifier("1.2.643.100.113.1").dump())
                      + _tlv(0x30, core.ObjectIdentifier("1.2.643.100.113.2").dump())),  # certificatePolicies
    "2.5.29.31": _tlv(0x30, _tlv(0x30, _tlv(0xA0, _tlv(0xA0, _URI)))),  # CRL distribution points
    "1.3.6.1.5.5.7.1.1": _tlv(0x30, _tlv(0x30, core.ObjectIdentifier("1.3.6.1.5.5.7.48.2").dump() + _URI)),  # AIA
    "2.5.29.37": _tlv(0x30, core.ObjectIdentifier("1.3.6.1.5.5.7.3.2").dump()
                      + core.ObjectIdentifier("1.2.643.2.2.34.6").dump()),  # extendedKeyUsage
}


def _extension(oid: str, critical: bool, value: bytes) -> bytes:
    flag = core.Boolean(True).dump() if critical else b""
    return _tlv(0x30, core.ObjectIdentifier(oid).dump() + flag + core.OctetString(value).dump())


@st.composite
def extension_sets(draw, key_id: bytes, issuer_key_id: bytes):
    """Random Extensions (DER, in random order, critical or not) and whether the key may sign."""
    exts = []
    usage = draw(st.sets(st.sampled_from(["digital_signature", "non_repudiation", "key_encipherment",
                                          "data_encipherment", "key_agreement"]), min_size=1))
    if draw(st.integers(0, 3)) > 0:
        usage |= {"digital_signature"}
    has_usage = draw(st.integers(0, 5)) > 0
    if has_usage:
        exts.append(_extension("2.5.29.15", draw(st.booleans()), x509.KeyUsage(usage).dump()))
    if draw(st.integers(0, 3)) > 0:
        exts.append(_extension("2.5.29.14", False, core.OctetString(key_id).dump()))
    if draw(st.booleans()):
        exts.append(_extension("2.5.29.35", False, x509.AuthorityKeyIdentifier({"key_identifier": issuer_key_id}).dump()))
    if draw(st.booleans()):
        exts.append(_extension("2.5.29.19", draw(st.booleans()), x509.BasicConstraints({"ca": False}).dump()))
    for oid in draw(st.sets(st.sampled_from(sorted(KNOWN_RAW)))):
        exts.append(_extension(oid, draw(st.booleans()), KNOWN_RAW[oid]))
    for oid in draw(st.sets(st.sampled_from(sorted(UNKNOWN_EXTENSIONS)))):
        exts.append(_extension(oid, draw(st.booleans()), UNKNOWN_EXTENSIONS[oid]))
    exts = draw(st.permutations(exts))
    signs = has_usage and bool(usage & {"digital_signature", "non_repudiation"})
    return _tlv(0x30, b"".join(exts)), signs


def _key_id(spki_der: bytes) -> bytes:
    return hashlib.sha1(spki_der).digest()


@st.composite
def certificates(draw, org: bool = False, crypto: bool = False):
    """(key, certificate DER, whether the key may sign) issued by the built-in test CA key (really signed
    only for ``crypto``: below that level nobody checks a certificate signature, and pure-Python GOST
    arithmetic is what makes examples slow)."""
    bits = draw(st.sampled_from([256, 512]))
    key = _key(bits, draw(st.sampled_from(PARAMSETS[bits])))
    public = key.public_key()
    ca = test_ca()
    ca_key = ca.private_key
    exts, signs = draw(extension_sets(_key_id(public.spki_der()), ca.certificate.key_identifier))
    algorithm = oids.AlgorithmIdentifier({"algorithm": oids.SIG_256}).dump()
    not_after = x509.Time(name=draw(st.sampled_from(["utc_time", "general_time"])), value=dt.datetime(2040, 1, 1, tzinfo=UTC))
    validity = _tlv(0x30, x509.Time(name="utc_time", value=dt.datetime(2020, 1, 1, tzinfo=UTC)).dump() + not_after.dump())
    tbs = _tlv(0x30, b"".join([
        _tlv(0xA0, core.Integer(2).dump()), core.Integer(draw(st.integers(min_value=1, max_value=2**159))).dump(),
        algorithm, draw(issuer_names()), validity, draw(subject_names(org=org)), public.spki_der(),
        _tlv(0xA3, exts),
    ]))
    signature = ca_key.sign(streebog.digest(tbs, ca_key.bits)) if crypto else draw(st.binary(min_size=64, max_size=64))
    cert_der = _tlv(0x30, tbs + algorithm + core.OctetBitString(signature).dump())
    return key, cert_der, signs


# --- CMS ----------------------------------------------------------------------------------------------
def load_certificates(pem_bytes: bytes) -> bytes:
    from asn1crypto import pem

    return pem.unarmor(pem_bytes)[2]


def _attr(kind: str, *values: core.Asn1Value) -> cms.CMSAttribute:
    return cms.CMSAttribute({"type": kind, "values": list(values)})


@st.composite
def containers(draw, org: bool = False, crypto: bool = False):
    """(base64 CMS, expected to pass) with random signed/unsigned attributes (a real signature for ``crypto``)."""
    key, cert_der, signs = draw(certificates(org=org, crypto=crypto))
    info = certs.read_certificate(cert_der)
    bits = key.bits
    digest_oid = oids.DIGEST_256 if bits == 256 else oids.DIGEST_512
    good = signs
    attrs = []
    if draw(st.integers(0, 5)) > 0:
        attrs.append(_attr("content_type", cms.ContentType("data")))
    time_kind = draw(st.sampled_from(["utc_time", "utc_time", "generalized_time", "generalized_time", None]))
    if time_kind:
        attrs.append(_attr("signing_time", cms.Time(name=time_kind, value=SIGNED_AT)))
    else:
        good = False  # the registry wants the signing time
    digest_kind = draw(st.sampled_from(["right"] * 8 + ["wrong", "missing"]))
    if digest_kind != "missing":
        md = streebog.digest(DOC, bits) if digest_kind == "right" else bytes(bits // 8)
        attrs.append(_attr("message_digest", core.OctetString(md)))
    good = good and digest_kind == "right"
    if draw(st.booleans()):
        attrs.append(_attr("signing_certificate_v2", tsp.SigningCertificateV2({"certs": [{
            "hash_algorithm": {"algorithm": digest_oid}, "cert_hash": streebog.digest(cert_der, bits)}]})))
    for oid in draw(st.sets(st.sampled_from(["1.2.643.100.999", "1.2.840.113549.1.9.15", "1.3.6.1.4.1.311.2.1.12"]))):
        values = core.UTF8String("значение").dump() + core.Integer(draw(st.integers(0, 9))).dump()
        attrs.append(cms.CMSAttribute.load(_tlv(0x30, core.ObjectIdentifier(oid).dump() + _tlv(0x31, values))))
    if draw(st.integers(0, 9)) == 0 and attrs:
        attrs.append(attrs[0])  # a duplicated attribute
    attrs.sort(key=lambda a: a.dump())
    signed_attrs = cms.CMSAttributes(attrs)
    if crypto:
        signature = key.sign(streebog.digest(signed_attrs.dump(), bits))
    else:
        signature = draw(st.binary(min_size=bits // 4, max_size=bits // 4))
    if draw(st.integers(0, 9)) == 0:
        signature = bytes(len(signature))
        good = False
    sid_kind = draw(st.sampled_from(["issuer_and_serial_number", "subject_key_identifier"]))
    if sid_kind == "subject_key_identifier":
        assume(info.key_id is not None)
        sid = cms.SignerIdentifier(name="subject_key_identifier", value=info.key_id)
    else:
        sid = cms.SignerIdentifier(name="issuer_and_serial_number",
                                   value={"issuer": x509.Name.load(info.issuer.der), "serial_number": info.serial})
    sig_style = draw(st.sampled_from(["key", "signature"]))
    sig_oid = {("key", 256): oids.KEY_256, ("key", 512): oids.KEY_512,
               ("signature", 256): oids.SIG_256, ("signature", 512): oids.SIG_512}[(sig_style, bits)]
    signer = {
        "version": "v3" if sid_kind == "subject_key_identifier" else "v1",
        "sid": sid,
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": digest_oid}),
        "signed_attrs": signed_attrs,
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": sig_oid}),
        "signature": signature,
    }
    if draw(st.booleans()):  # CAdES-T-like: an unsigned time-stamp token (content not checked)
        token = cms.ContentInfo({"content_type": "data", "content": core.OctetString(b"token")})
        signer["unsigned_attrs"] = cms.CMSAttributes([_attr("signature_time_stamp_token", token)])
    extra = [test_ca().cert_pem] if draw(st.booleans()) else []
    extra += [test_organisation().cert_pem] if draw(st.booleans()) and not org else []
    order = [cert_der, *(load_certificates(pem_bytes) for pem_bytes in extra)]
    if draw(st.booleans()):
        order.reverse()
    digest_set = _tlv(0x31, algos.DigestAlgorithm({"algorithm": digest_oid}).dump())
    encap = cms.EncapsulatedContentInfo({"content_type": "data"}).dump()
    signed_data = _tlv(0x30, core.Integer(1).dump() + digest_set + encap + _tlv(0xA0, b"".join(order))
                       + _tlv(0x31, cms.SignerInfo(signer).dump()))
    der = _tlv(0x30, cms.ContentType("signed_data").dump() + _tlv(0xA0, signed_data))
    return base64.b64encode(der).decode(), good


@cache
def _org_signature() -> str:
    from mock_remd.signing import sign_detached

    ident = test_organisation()
    return base64.b64encode(sign_detached(DOC, ident.key_pem, ident.cert_pem, signing_time=SIGNED_AT)).decode()


def _assert_clean(report) -> None:
    for finding in report.findings:
        assert finding.code in LAYER_CODES and finding.code in REGISTRY_CODES, finding
        assert not any(leak in finding.message for leak in LEAKS), finding.message
        assert finding.message.startswith(("ЭП сотрудника", "ЭП МО")) or finding.code in (
            "INCONSISTENT_DIGESTS", "NO_SIGNATURE", "ORG_SIGNATURE_OCCURRENCE_MISMATCH"), finding.message


def _check_container(data: tuple[str, bool], level: str) -> None:
    b64, good = data
    report = run(DOC, request([(PERSON, b64)], _org_signature(), created=CREATED), level)
    _assert_clean(report)
    if good:
        assert report.passed, report.findings


# --- the properties -----------------------------------------------------------------------------------
@FAST
@given(data=containers(), level=st.sampled_from(["structure", "digest"]))
def test_generated_doctor_signatures_pass_or_get_registry_codes(data, level):
    _check_container(data, level)


@CRYPTO
@given(data=containers(crypto=True))
def test_generated_signatures_verify_at_crypto_level(data):
    _check_container(data, "crypto")


@FAST
@given(data=containers(org=True))
def test_generated_organisation_signatures_pass_or_get_registry_codes(data):
    b64, good = data
    report = run(DOC, request([(PERSON, _doctor_signature())], b64, created=CREATED), "digest")
    _assert_clean(report)
    if good:
        assert report.passed, report.findings


@pytest.mark.slow
@LONG
@given(data=containers(org=True))
def test_generated_organisation_signatures_long_run(data):
    test_generated_organisation_signatures_pass_or_get_registry_codes.hypothesis.inner_test(data)


@cache
def _doctor_signature() -> str:
    from mock_remd.signing import sign_detached, test_doctor

    ident = test_doctor()
    return base64.b64encode(sign_detached(DOC, ident.key_pem, ident.cert_pem, signing_time=SIGNED_AT)).decode()


def _damaged(der: bytes, cuts: list[tuple[int, int]]) -> bytes:
    data = bytearray(der)
    for position, value in cuts:
        data[position % len(data)] = value
    return bytes(data)


@FAST
@given(cuts=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4),
       truncate=st.one_of(st.none(), st.integers(1, 3000)))
# found by CI's sample: the certificate's curve OID damaged into one neither OpenSSL nor gostcrypto knows
@example(cuts=[(903, 117), (619, 167), (175324, 163)], truncate=None)
def test_damaged_containers_get_registry_codes_and_plain_messages(cuts, truncate):
    der = base64.b64decode(_doctor_signature())
    damaged = _damaged(der, cuts)
    if truncate is not None:
        damaged = damaged[: truncate % len(damaged)]
    report = run(DOC, request([(PERSON, base64.b64encode(damaged).decode())], _org_signature(), created=CREATED),
                 "crypto")
    _assert_clean(report)


@pytest.mark.slow
@LONG
@given(data=containers(), level=st.sampled_from(["structure", "digest"]))
def test_generated_signatures_long_run(data, level):
    _check_container(data, level)


@pytest.mark.slow
@LONG
@given(cuts=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8))
def test_damaged_containers_long_run(cuts):
    damaged = _damaged(base64.b64decode(_doctor_signature()), cuts)
    report = run(DOC, request([(PERSON, base64.b64encode(damaged).decode())], _org_signature(), created=CREATED),
                 "digest")
    _assert_clean(report)


def test_certificates_whose_lengths_end_in_0x80_are_read_as_sent():
    """asn1crypto re-encodes a parsed value whose length octets end in 0x80 when asked to dump it (it
    takes them for BER); the checks never ask — they cut bytes out with the tag-length parser — so a
    certificate whose TBSCertificate or whole encoding has such a length reads and verifies like any other."""
    from mock_remd.signing import sign_detached
    from mock_remd.signing.keys import dump_certificate, dump_private_key
    from mock_remd.signing.pki import build_certificate, build_name

    key = _key(256, PARAMSETS[256][0])

    def name(pad: int):
        return build_name(country_name="RU", organization_name="x" * pad, common_name="Тестов Иван Петрович",
                          surname="Тестов", given_name="Иван Петрович", snils=PERSON.snils)

    def issue(pad: int):
        return build_certificate(
            subject=name(pad), public_key=key.public_key(), issuer_key=test_ca().private_key,
            issuer_cert=test_ca().certificate, serial=7,
            not_before=dt.datetime(2020, 1, 1, tzinfo=UTC), not_after=dt.datetime(2040, 1, 1, tzinfo=UTC))

    base = tlv.encoded(issue(1))
    for which in (0, 1):  # 0: the whole certificate, 1: its TBSCertificate
        element = base if which == 0 else tlv.children(base)[0]
        fixed = len(tlv.contents(element)) - len(name(1).dump())
        # the subject's size moves both lengths; find one that ends in 0x80 (header sizes settle past 255)
        pad = next(p for p in range(1, 600) if (fixed + len(name(p).dump())) % 256 == 0x80 and p > 1)
        der = tlv.encoded(issue(pad))
        element = der if which == 0 else tlv.children(der)[0]
        if len(tlv.contents(element)) % 256 != 0x80:  # a length-octet count changed on the way: one step more
            pad = next(p for p in range(pad + 1, 600) if (len(tlv.contents(
                tlv.encoded(issue(p)) if which == 0 else tlv.children(tlv.encoded(issue(p)))[0]))) % 256 == 0x80)
            der = tlv.encoded(issue(pad))
            element = der if which == 0 else tlv.children(der)[0]
        assert len(tlv.contents(element)) % 256 == 0x80
        info = certs.read_certificate(der)
        assert info.subject_info.snils == PERSON.snils and info.tbs_der == tlv.children(der)[0]
        sig = sign_detached(DOC, dump_private_key(key), dump_certificate(x509.Certificate.load(der)), signing_time=SIGNED_AT)
        report = run(DOC, request([(PERSON, base64.b64encode(sig).decode())], _org_signature(), created=CREATED), "crypto")
        assert report.passed, report.findings
