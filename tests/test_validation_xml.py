"""Layer ``xml``: a document that is not UTF-8 is refused as such wherever the bad bytes are.

The layer lets libxml2 find bytes that are not UTF-8 in a document it reads as UTF-8 and decodes
the others itself; either way the finding is the one a check of the bytes before parsing gives
(``xml-encoding`` naming the first bad byte). Inputs: the shared official example, with bytes
changed, and re-encoded as UTF-16 and windows-1251.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_remd.validation.caches import ValidationCaches
from mock_remd.validation.context import DocumentContext, ValidationSettings
from mock_remd.validation.layers.xml_layer import XmlLayer

SETTINGS = ValidationSettings()
LAYER = XmlLayer(SETTINGS)
#: not UTF-8 (a lone byte, overlong forms, a surrogate, beyond U+10FFFF, a cut sequence), and U+FFFE
#: (UTF-8, but not an XML character)
BAD = [b"\xff", b"\x80", b"\xc0\x80", b"\xe0\x80\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc3", b"\xef\xbf\xbe"]


def _run(content: bytes):
    ctx = DocumentContext(content=content, settings=SETTINGS, caches=ValidationCaches())
    return LAYER.run(ctx), ctx


def _check(content: bytes) -> None:
    report, ctx = _run(content)
    data = content[3:] if content.startswith(b"\xef\xbb\xbf") else content
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        assert [(f.rule, f.message) for f in report.findings] == [
            ("xml-encoding", f"Ошибка валидации СЭМД: документ не в кодировке UTF-8 (байт {exc.start})")]
        assert ctx.root is None
    else:
        assert all(f.rule != "xml-encoding" for f in report.findings)


def _places(doc: bytes) -> dict[str, int]:
    """Offsets in the example: in text, in an attribute value, in a comment, after the root, in the declaration."""
    return {
        "text": doc.index(b"</title>"),
        "attribute": doc.index(b'extension="') + len(b'extension="'),
        "comment": doc.index(b"<!--") + 4 if b"<!--" in doc else doc.index(b"<ClinicalDocument"),
        "after root": len(doc.rstrip()),
        "declaration": doc.index(b"?>"),
        "start": 0,
    }


@pytest.mark.parametrize("bad", BAD)
def test_bytes_that_are_not_utf8_anywhere_in_the_example(valid_119_bytes, bad):
    for at in _places(valid_119_bytes).values():
        _check(valid_119_bytes[:at] + bad + valid_119_bytes[at:])


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_the_example_in_other_unicode_forms(valid_119_bytes, codec):
    _check(valid_119_bytes.decode("utf-8").encode(codec))


def test_a_declared_single_byte_encoding_is_not_utf8(valid_119_bytes):
    text = valid_119_bytes.decode("utf-8").replace('encoding="UTF-8"', 'encoding="windows-1251"')
    _check(text.encode("cp1251"))
    report, ctx = _run(text.encode("cp1251"))
    assert [f.rule for f in report.findings] == ["xml-encoding"]


def test_ascii_under_a_declared_single_byte_encoding_passes():
    report, ctx = _run(b'<?xml version="1.0" encoding="ISO-8859-1"?><ClinicalDocument xmlns="urn:hl7-org:v3"/>')
    assert report.passed and ctx.root is not None


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(edits=st.lists(st.tuples(st.integers(0, 10**6), st.binary(min_size=1, max_size=4)), min_size=1, max_size=3))
def test_bytes_inserted_anywhere(valid_119_bytes, edits):
    data = valid_119_bytes
    for position, inserted in edits:
        at = position % (len(data) + 1)
        data = data[:at] + inserted + data[at:]
    _check(data)
