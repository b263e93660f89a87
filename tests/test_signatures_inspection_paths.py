"""The short paths of the signature inspection give what the general ones give: pybase64's validating
decoder against ``b64decode(validate=True)`` after removing whitespace, the SEQUENCE check against asn1crypto's
``core.load``, primitive OCTET STRINGs and the usual UTCTime signingTime against asn1crypto's reading; on containers OpenSSL's GOST engine
made (DER, BER with indefinite lengths, base64 with line breaks) and on arbitrary bytes."""

from __future__ import annotations

import base64
import binascii
import subprocess

import pytest
from _openssl_pki import ber_indefinite
from asn1crypto import core
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mock_remd.validation.signatures import cms
from mock_remd.validation.signatures.cms import SignatureProblem, decode_base64, inspect_signature


def _reference_base64(text: str | bytes) -> bytes | None:
    """The reading before the strict one-pass path: whitespace removed, then ``validate=True``."""
    raw = text.encode("ascii", "replace") if isinstance(text, str) else text
    raw = raw.translate(None, b" \t\n\r\x0b\x0c")
    if not raw:
        return None
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return None


def _decoded(text: str | bytes) -> bytes | None:
    try:
        return decode_base64(text)
    except SignatureProblem:
        return None


@pytest.fixture(scope="module")
def containers(openssl_pki, tmp_path_factory):
    doc = tmp_path_factory.mktemp("paths") / "doc.xml"
    doc.write_bytes(b"<ClinicalDocument/>")
    der = openssl_pki.sign(doc, "doctor256", doc.with_suffix(".p7s"), "-md", "md_gost12_256", "-cades")
    return {"der": der, "ber": ber_indefinite(der, 4)}


def test_openssl_base64_with_line_breaks(containers, tmp_path):
    """``openssl base64`` wraps at 64 columns: the general path reads it, to the same bytes."""
    src = tmp_path / "sig.der"
    src.write_bytes(containers["der"])
    wrapped = subprocess.run(["openssl", "base64", "-in", str(src)], check=True, capture_output=True).stdout
    assert b"\n" in wrapped.strip()
    assert decode_base64(wrapped) == decode_base64(wrapped.decode()) == containers["der"]
    assert decode_base64(base64.b64encode(containers["der"])) == containers["der"]


_B64_TEXT = st.text(alphabet="ABCQUJDRAz09+/=\n\r \t\x0b\x0c-_?é", max_size=24)


@settings(max_examples=300, deadline=None)
@given(_B64_TEXT)
@example("QUJD=")
@example("QQ===")
@example("QQ==QQ==")
@example("=QUJD")
@example("QU=JD")
@example("Q===")
@example("QUJ=")
@example("")
@example("QUJ\nD")
@example("QUI=")
@example("QUJDRA==QUJD")
@example("QUJDRA" * 40)
@example("QUJDRA" * 40 + "==")
def test_strict_base64_reads_as_the_general_path(text):
    assert _decoded(text) == _reference_base64(text)
    assert _decoded(text.encode("utf-8")) == _reference_base64(text.encode("utf-8"))


def _reference_is_sequence(der: bytes) -> bool | None:
    """asn1crypto's reading (None: it refuses the bytes; False: not a SEQUENCE with members, which
    includes a SET whose members asn1crypto cannot count)."""
    try:
        value = core.load(der, strict=True)
    except (ValueError, TypeError, OverflowError):
        return None
    try:
        return isinstance(value, core.Sequence) and len(value) >= 1
    except ValueError:
        return False


def test_a_set_instead_of_content_info_is_the_wrong_format():
    """Counting the members of a SET raised out of the inspection (an incident) before."""
    with pytest.raises(SignatureProblem) as problem:
        inspect_signature(base64.b64encode(b"\x31\x03\x06\x01\x00"))
    assert problem.value.code == "WRONG_SIGNATURE_FORMAT"


def _is_sequence(der: bytes) -> bool | None:
    try:
        return cms._is_sequence(der, cms._Tree())
    except SignatureProblem:
        return None


@pytest.mark.parametrize("form", ["der", "ber"])
def test_sequence_check_agrees_with_asn1crypto(containers, form):
    """Every first octet of an OpenSSL container, a SEQUENCE holding nothing, and truncations: the
    same answer as asn1crypto whenever its structure walk accepts the bytes."""
    der = containers[form]
    cases = [bytes([first]) + der[1:] for first in range(256)]
    cases += [b"\x30\x00", b"\x30\x80\x00\x00", der[:-1], der + b"\x00"]
    for data in cases:
        mine = _is_sequence(data)
        if mine is not None:
            assert mine == _reference_is_sequence(data), data[:4].hex()
    assert _is_sequence(der) is True


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40))
@example(b"\x30\x03\x02\x01\x01")
@example(b"\x30\x80\x02\x01\x01\x00\x00")
def test_sequence_check_agrees_with_asn1crypto_on_any_bytes(data):
    mine = _is_sequence(data)
    if mine is not None:
        assert mine == _reference_is_sequence(data)


def _reference_octets(element: bytes) -> bytes | None:
    try:
        value = core.OctetString.load(element).native
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        return None
    return value if isinstance(value, bytes) else None


def _octets(element: bytes) -> bytes | None:
    try:
        return cms._octets(element)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        return None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=12).flatmap(lambda value: st.sampled_from([
    b"\x04" + bytes([len(value)]) + value,
    b"\x24\x80\x04" + bytes([len(value)]) + value + b"\x00\x00",
    b"\x24" + bytes([len(value) + 2, 0x04, len(value)]) + value,
    b"\x03" + bytes([len(value)]) + value,
    b"\x04\x81" + bytes([len(value)]) + value,
    b"\x04" + bytes([len(value) + 1]) + value,
])))
def test_octets_read_as_asn1crypto_reads_them(element):
    assert _octets(element) == _reference_octets(element)


@pytest.mark.parametrize("form", ["der", "ber"])
def test_openssl_container_values(containers, form):
    """messageDigest and the signature value as asn1crypto reads them from the parsed CMS."""
    from asn1crypto import cms as asn1_cms

    sig = inspect_signature(base64.b64encode(containers[form]))
    signer = asn1_cms.ContentInfo.load(containers["der"])["content"]["signer_infos"][0]
    assert sig.signature == signer["signature"].native
    assert sig.message_digest == next(
        a["values"][0].native for a in signer["signed_attrs"] if a["type"].native == "message_digest"
    )


def _reference_signing_time(value: bytes):
    """asn1crypto's reading of a signingTime value (the CHOICE), or None when it refuses it."""
    from asn1crypto import cms as asn1_cms

    try:
        moment = asn1_cms.Time.load(value).native
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        return None
    if not isinstance(moment, cms.dt.datetime):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=cms.dt.UTC)


def _signing_time(value: bytes):
    try:
        return cms._signing_time((value, b""))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        return None


_TIME_TEXT = st.text(alphabet="0123456789Z+-.,٣ ", min_size=11, max_size=17).map(lambda t: t.encode("utf-8"))


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.builds(lambda d: d, st.datetimes(min_value=cms.dt.datetime(1950, 1, 1), max_value=cms.dt.datetime(2049, 12, 31))
              .map(lambda m: m.strftime("%y%m%d%H%M%SZ").encode())),
    _TIME_TEXT,
    st.binary(min_size=13, max_size=13),
).flatmap(lambda text: st.sampled_from([
    b"\x17" + bytes([len(text)]) + text,
    b"\x18" + bytes([len(text)]) + text,
    b"\x17\x81" + bytes([len(text)]) + text,
    b"\x37\x80\x04" + bytes([len(text)]) + text + b"\x00\x00",
])))
@example(b"\x17\x0d" + b"491231235959Z")
@example(b"\x17\x0d" + b"500101000000Z")
@example(b"\x17\x0d" + b"241302000000Z")
@example(b"\x17\x0d" + b"240230000000Z")
@example(b"\x17\x0d" + b"240101000060Z")
@example(b"\x17\x0d" + "24010100000٣Z".encode()[:13])
@example(b"\x17\x0d" + b"2401010000001")
@example(b"\x17\x0d" + b"24010100000+Z")
@example(b"\x17\x0d" + b"240101000000z")
def test_signing_time_read_as_asn1crypto_reads_it(value):
    """The usual UTCTime (YYMMDDhhmmssZ) is read without asn1crypto; any value reads as its CHOICE does."""
    mine = _signing_time(value)
    assert mine == _reference_signing_time(value)
    if mine is not None:
        assert mine.utcoffset() == _reference_signing_time(value).utcoffset()


def test_a_name_value_of_a_type_asn1crypto_cannot_read_is_a_decoding_error(containers):
    """An INSTANCE OF (universal 8) as a name's value: asn1crypto parses it to an object without
    .native, whose AttributeError escaped the inspection (an incident) before; now the certificate
    is unreadable like any other broken name."""
    from mock_remd.gost import names, tlv

    atv = tlv.encode(0x30, bytes.fromhex("0603550403") + tlv.encode(0x08, b"ab"))
    with pytest.raises(names.NameUnreadable):
        names.read_name(tlv.encode(0x30, tlv.encode(0x31, atv)))
    der = containers["der"]
    common_name = bytes.fromhex("0603550403")
    at = der.index(common_name) + len(common_name)  # the issuer's CN in the signer's certificate
    assert der[at] in (0x0C, 0x13)
    broken = der[:at] + b"\x08" + der[at + 1:]
    with pytest.raises(SignatureProblem) as problem:
        inspect_signature(base64.b64encode(broken))
    assert problem.value.code == "SIGNATURE_DECODING_ERROR"
    assert problem.value.detail == "не прочитан сертификат №1 из контейнера ЭП: имя издателя (issuer)"
