"""What the CMS inspection remembers of a signer's certificates (the certificates field's structure
walk, the SignerIdentifier, signed attributes nobody reads) gives what a fresh reading gives, is
bounded, keeps distinct certificates apart and remembers no fault; on containers OpenSSL's GOST
engine made (tests/_openssl_pki.py)."""

from __future__ import annotations

import base64
import dataclasses

import pytest
from _openssl_pki import ber_indefinite

from mock_remd.gost import memo, oids, tlv
from mock_remd.validation.signatures import cms
from mock_remd.validation.signatures.cms import SignatureProblem, inspect_signature

SHAPES = [
    ("doctor256", ("-cades",)),
    ("doctor256", ("-cades", "-keyid")),
    ("doctor512c", ("-certfile", "chain.pem", "-cades")),
    ("org256", ("-certfile", "unrelated.pem")),
    ("doctor256tc", ()),
]


def _forget() -> None:
    cms._shared_part_walk.cache_clear()
    cms._signer_id.cache_clear()
    cms._UNREAD_ATTRIBUTES.clear()


@pytest.fixture(scope="module")
def containers(openssl_pki, tmp_path_factory):
    work = tmp_path_factory.mktemp("memo")
    found = {}
    for n, (signer, options) in enumerate(SHAPES):
        doc = work / f"doc{n}.xml"
        doc.write_bytes(b"<ClinicalDocument>%d</ClinicalDocument>" % n)
        bits = 512 if "512" in signer else 256
        der = openssl_pki.sign(doc, signer, work / f"sig{n}.p7s", "-md", f"md_gost12_{bits}", *options)
        found[(signer, options)] = der
    return found


def _fields(der: bytes) -> dict:
    sig = inspect_signature(base64.b64encode(der))
    return {f.name: getattr(sig, f.name) for f in dataclasses.fields(sig)}


@pytest.mark.parametrize("form", ["der", "ber"])
def test_remembered_reading_equals_a_fresh_one(containers, form):
    """Each container read with nothing remembered, then again after every other one was read:
    the same InspectedSignature field by field."""
    shaped = {key: der if form == "der" else ber_indefinite(der, 4) for key, der in containers.items()}
    fresh = {}
    for key, der in shaped.items():
        _forget()
        fresh[key] = _fields(der)
    for _ in range(2):
        for key, der in shaped.items():
            assert _fields(der) == fresh[key], key
    assert cms._shared_part_walk.cache_info().hits > 0
    assert cms._signer_id.cache_info().hits > 0
    assert len(cms._UNREAD_ATTRIBUTES) > 0


def test_distinct_certificates_never_share_an_entry(containers):
    _forget()
    signers = {}
    for (signer, _options), der in containers.items():
        sig = inspect_signature(base64.b64encode(der))
        signers.setdefault(signer, set()).add(sig.cert.der)
    assert all(len(ders) == 1 for ders in signers.values())
    assert len({next(iter(d)) for d in signers.values()}) == len(signers)  # one certificate per signer, all distinct
    walks = cms._shared_part_walk.cache_info()
    assert walks.currsize == walks.misses  # each certificates field walked once, under its own bytes
    for der in containers.values():
        field = _certificates_field(der)
        remembered, walk = cms._shared_part_walk(field)
        assert remembered == field
        by_bytes = {element: kids for element, kids in walk.values()}
        assert all(id(element) == key for key, (element, _kids) in walk.items())
        assert by_bytes[field] == tlv.children(field)
        assert set(by_bytes) == {field, *tlv.children(field)}


def test_memories_are_bounded():
    assert cms._shared_part_walk.cache_info().maxsize == 256
    assert cms._signer_id.cache_info().maxsize == 2048
    assert cms._UNREAD_ATTRIBUTES.size == 1024
    kept = memo.BoundedSet(3)
    for key in range(10):
        kept.add(key)
    assert len(kept) == 3 and all(k in kept for k in (7, 8, 9)) and 6 not in kept
    kept.add(8)
    assert len(kept) == 3
    with pytest.raises(ValueError):
        memo.BoundedSet(0)


def _certificates_field(der: bytes) -> bytes:
    tree = cms._Tree()
    tree.check(der)
    signed = tree.children(tree.children(tree.children(der)[1])[0])
    return next(p for p in signed if p[0] == 0xA0)


def _replace_once(der: bytes, old: bytes, new: bytes) -> bytes:
    assert der.count(old) >= 1
    return der.replace(old, new, 1)


def test_a_fault_is_not_remembered(containers):
    """A certificates field with a broken length is a decoding error every time, and the intact
    container still reads after it."""
    der = containers[("doctor256", ("-cades",))]
    field = _certificates_field(der)
    certificate = tlv.children(field)[0]
    # the certificate's signatureValue claims one octet more than the certificate holds
    value = tlv.children(certificate)[-1]
    assert value[0] == 0x03 and value[1] < 0x7F
    broken_value = value[:1] + bytes([value[1] + 1]) + value[2:]
    broken = _replace_once(der, value, broken_value)
    _forget()
    for attempt in range(2):
        with pytest.raises(SignatureProblem) as problem:
            inspect_signature(base64.b64encode(broken))
        assert problem.value.code == "SIGNATURE_DECODING_ERROR"
        walks = cms._shared_part_walk.cache_info()
        # digestAlgorithms and encapContentInfo are remembered; the broken certificates field never is
        assert (walks.currsize, walks.misses, walks.hits) == (2, 3 + attempt, 2 * attempt)
    broken_field = _replace_once(field, value, broken_value)
    with pytest.raises(ValueError):
        cms._shared_part_walk(broken_field)
    assert inspect_signature(base64.b64encode(der)).cert.subject_info.snils


def test_attributes_that_are_read_are_never_remembered(containers):
    _forget()
    for der in containers.values():
        sig = inspect_signature(base64.b64encode(der))
        inspect_signature(base64.b64encode(der))
        assert sig.message_digest is not None and sig.signing_time is not None
    remembered = list(cms._UNREAD_ATTRIBUTES)
    assert remembered
    read_types = {oids.MESSAGE_DIGEST, oids.SIGNING_TIME}
    for attribute in remembered:
        assert cms._dotted(tlv.children(attribute)[0]) not in read_types


def test_a_broken_unread_attribute_fails_every_time(containers):
    """contentType's value SET claiming more than it holds: refused whether or not the intact
    attribute was seen before (the memory is keyed by the whole attribute's bytes)."""
    der = containers[("doctor256", ("-cades",))]
    _forget()
    inspect_signature(base64.b64encode(der))
    content_type = bytes.fromhex("06092a864886f70d010903")  # the contentType OID
    start = der.index(content_type) - 2
    attribute = tlv.split(der[start:])[0]
    assert attribute in cms._UNREAD_ATTRIBUTES
    values = tlv.children(attribute)[1]
    broken_values = values[:1] + bytes([values[1] + 1]) + values[2:]
    broken = _replace_once(der, attribute, attribute.replace(values, broken_values, 1))
    for _ in range(2):
        with pytest.raises(SignatureProblem) as problem:
            inspect_signature(base64.b64encode(broken))
        assert problem.value.code == "SIGNATURE_DECODING_ERROR"


def test_facts_formatted_once_per_certificate_equal_a_fresh_formatting(containers):
    """CertInfo.summary_facts and SubjectInfo.holder_name(_key), kept on the (remembered) certificate,
    equal what the layer formatted per signature before, for doctors (SN, G) and organisations (CN)."""
    from mock_remd.gost import certs

    for der in containers.values():
        cert = inspect_signature(base64.b64encode(der)).cert
        subject = cert.subject_info
        assert cert.summary_facts == {
            "subject": subject.full_name or subject.common_name, "snils": subject.snils, "ogrn": subject.ogrn,
            "serial": f"{cert.serial:x}", "not_before": cert.not_before.isoformat(),
            "not_after": cert.not_after.isoformat(),
        }
        if subject.surname or subject.given_name:
            expected = (subject.surname, subject.given_name)
        else:
            expected = tuple((subject.common_name.split(maxsplit=1) + ["", ""])[:2])
        assert subject.holder_name == expected
        assert subject.holder_name_key == tuple(certs.normalize_name(n) for n in expected)
    for common_name in ("", "Иванов", "Иванов  Иван Иванович"):
        subject = certs.SubjectInfo(common_name=common_name)
        assert subject.holder_name == tuple((common_name.split(maxsplit=1) + ["", ""])[:2])


def test_the_layer_summary_is_a_copy(containers):
    """A report's signature summary can be changed without touching the certificate's facts."""
    from _signatures_testing import request, run

    from mock_remd.domain.model import Person

    der = containers[("doctor256", ("-cades",))]
    cert = inspect_signature(base64.b64encode(der)).cert
    before = dict(cert.summary_facts)
    report = run(b"<ClinicalDocument/>", request([(Person(snils="00000000000"), base64.b64encode(der).decode())], None),
                 "structure")
    summary = report.details["signatures"][0]
    assert summary["serial"] == before["serial"]
    summary["serial"] = "changed"
    assert cert.summary_facts == before
