"""gost.tlv splits with asn1crypto's private positional parser; its public-parser fallback (for a release
without it) must cut the same elements and refuse the same faults, on containers OpenSSL made. The usual
headers it reads in place give what asn1crypto's parser gives, on those containers and on any bytes."""

from __future__ import annotations

import pytest
from _openssl_pki import ber_indefinite
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mock_remd.gost import tlv


def _walk(data: bytes, depth: int = 0):
    """Every (buffer, position) where an element starts, down through constructed elements."""
    from asn1crypto import parser

    pointer = 0
    while pointer < len(data):
        yield data, pointer
        _cls, method, _tag, header, contents, trailer = parser.parse(data[pointer:])
        if method == 1 and depth < 8:
            yield from _walk(contents, depth + 1)
        pointer += len(header) + len(contents) + len(trailer)


@pytest.fixture(scope="module")
def containers(openssl_pki, tmp_path_factory):
    doc = tmp_path_factory.mktemp("tlv") / "doc.xml"
    doc.write_bytes(b"<ClinicalDocument/>")
    der = openssl_pki.sign(doc, "doctor256", doc.with_suffix(".p7s"), "-md", "md_gost12_256")
    return {"der": der, "ber": ber_indefinite(der, 4)}


@pytest.mark.parametrize("form", ["der", "ber"])
def test_fallback_cuts_the_same_elements(containers, form):
    data = containers[form]
    positions = list(_walk(data))
    assert len(positions) > 30
    for buf, pointer in positions:
        assert tlv._element_end(buf, len(buf), pointer, True) == tlv._element_end_by_copy(buf, len(buf), pointer, True)


@pytest.mark.parametrize("cut", [1, 2, 7, 100])
def test_fallback_refuses_what_the_private_parser_refuses(containers, cut):
    data = containers["der"][:-cut]
    for end in (tlv._element_end, tlv._element_end_by_copy):
        with pytest.raises(ValueError):
            end(data, len(data), 0, True)


@pytest.mark.parametrize("form", ["der", "ber"])
def test_split_parts_gives_each_element_with_its_contents(containers, form):
    """split_parts (one parse per element) = split, then contents of each; the fallback the same."""
    for buf, _pointer in _walk(containers[form]):
        try:
            elements = tlv.split(buf)
        except ValueError:
            continue
        expected = [(e, tlv.contents(e)) for e in elements]
        assert tlv.split_parts(buf) == expected
        found = []
        pointer = 0
        while pointer < len(buf):
            info, end = tlv._element_info_by_copy(buf, len(buf), pointer)
            found.append((buf[pointer:end], info[4]))
            pointer = end
        assert found == expected


@pytest.mark.parametrize("cut", [1, 2, 7, 100])
def test_split_parts_refuses_what_split_refuses(containers, cut):
    data = containers["ber"][:-cut]
    with pytest.raises(ValueError):
        tlv.split(data)
    with pytest.raises(ValueError):
        tlv.split_parts(data)


# --- the usual header read in place (split, split_parts, first) against asn1crypto's parser ----------
def _reference(data: bytes):
    """What asn1crypto's public parser makes of ``data``: the elements with their contents, or the
    ValueError it raises (its text)."""
    from asn1crypto import parser

    out = []
    rest = data
    try:
        while rest:
            _cls, _method, _tag, header, body, trailer = parser.parse(rest)
            size = len(header) + len(body) + len(trailer)
            out.append((rest[:size], body))
            rest = rest[size:]
    except ValueError as exc:
        return ("refused", str(exc))
    return out


def _mine(data: bytes):
    try:
        elements = tlv.split(data)
    except ValueError as exc:
        elements = ("refused", str(exc))
    try:
        parts = tlv.split_parts(data)
    except ValueError as exc:
        assert elements == ("refused", str(exc))
        return elements
    assert [e for e, _ in parts] == elements
    return parts


def _first_reference(data: bytes):
    from asn1crypto import parser

    try:
        _cls, _method, _tag, header, body, trailer = parser.parse(data)
    except ValueError as exc:
        return ("refused", str(exc))
    return body, len(header) + len(body) + len(trailer)


def _first(data: bytes):
    try:
        found = tlv.first(data)
    except ValueError as exc:
        return ("refused", str(exc))
    assert tlv.contents(data) == found[0]
    return found


_IDENTIFIERS = st.sampled_from([0x02, 0x04, 0x06, 0x17, 0x24, 0x30, 0x31, 0x80, 0xA0, 0xA3, 0x1F, 0x3F, 0xBF, 0x00])
_LENGTH_OCTETS = st.one_of(
    st.integers(0, 0x7F).map(lambda n: bytes([n])),
    st.binary(min_size=1, max_size=4).map(lambda b: bytes([0x80 | len(b)]) + b),
    st.sampled_from([b"\x80", b"\x81", b"\x82", b"\x82\x01", b"\x84\x00\x00\x00\x03", b"\x81\x80", b"\x82\x00\x05"]),
)
_ELEMENTS = st.builds(lambda i, n, body: bytes([i]) + n + body, _IDENTIFIERS, _LENGTH_OCTETS,
                      st.binary(max_size=40))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=40), st.lists(_ELEMENTS, max_size=4).map(b"".join)))
@example(b"\x30\x82\x01\x00" + bytes(256))
@example(b"\x04\x81\x80" + bytes(128) + b"\x02\x01\x05")
@example(b"\x30\x80\x02\x01\x01\x00\x00")
@example(b"\x1f\x81\x01\x00")
@example(b"\x30\x83\x00\x00\x02\x00\x00")
@example(b"\x04\x82\x00")
@example(b"\x04\x05abcd")
@example(b"\x02\x01\x00\x04\x81\x05abcd")
@example(b"\x04\x82\x00\x05abcd")
def test_usual_headers_read_as_asn1crypto_reads_them(data):
    """The same elements, contents and end, and the same refusal (ValueError text included), on
    any bytes and on element strings with every length form: short, one to four length octets,
    non-minimal, indefinite, cut off, past the end; high tag numbers go to the parser."""
    assert _mine(data) == _reference(data)
    assert _first(data) == _first_reference(data)


@pytest.mark.parametrize("form", ["der", "ber"])
def test_usual_headers_on_openssl_containers(containers, form):
    for buf, _pointer in _walk(containers[form]):
        assert _mine(buf) == _reference(buf)
        assert _first(buf) == _first_reference(buf)
