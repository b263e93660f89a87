"""gost.tlv splits with asn1crypto's private positional parser; its public-parser fallback (for a release
without it) must cut the same elements and refuse the same faults, on containers OpenSSL made."""

from __future__ import annotations

import pytest
from _openssl_pki import ber_indefinite

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
