"""Safe XML parsing: no entities, no DTD, no network, explicit size limits.

Every parser in the project comes from here, so an XXE or billion-laughs input is refused in one
place. ``huge_tree`` is enabled deliberately (documents of 30 MB exist) and bounded by our own size
limit checked before parsing.
"""

from __future__ import annotations

import threading

from lxml import etree

from mock_remd.catalog.user_messages import say

#: Default upper bound for a request body / a document (bytes).
DEFAULT_MAX_BYTES = 64 * 1024 * 1024

_local = threading.local()


class UnsafeXmlError(ValueError):
    """The input declares a DTD or entities, which we never process."""


class XmlTooLargeError(ValueError):
    """The input is larger than the configured limit (``size`` and ``limit`` in bytes)."""

    def __init__(self, message: str, *, size: int = 0, limit: int = 0) -> None:
        super().__init__(message)
        self.size, self.limit = size, limit


def _parser() -> etree.XMLParser:
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=True,
            remove_blank_text=False,
            collect_ids=False,
        )
        _local.parser = parser
    return parser


def parse_bytes(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse ``data`` into an element tree root, refusing DTDs/entities and oversized input.

    Raises :class:`XmlTooLargeError`, :class:`UnsafeXmlError` or ``lxml.etree.XMLSyntaxError``.
    """
    if len(data) > max_bytes:
        raise XmlTooLargeError(say("ru", "xml.too_large", size=len(data), limit=max_bytes),
                               size=len(data), limit=max_bytes)
    root = etree.fromstring(data, _parser())
    tree = root.getroottree()
    if tree.docinfo.doctype or (tree.docinfo.internalDTD is not None):
        raise UnsafeXmlError(say("ru", "xml.doctype"))
    return root


#: libxml2's wording -> the catalogue's sentence for it (a user never sees libxml2's English or its parser options)
_SYNTAX_PROBLEMS: tuple[tuple[str, str], ...] = (
    ("Excessive depth", "xml.syntax.depth"),
    ("Opening and ending tag mismatch", "xml.syntax.tag_mismatch"),
    ("Premature end of data", "xml.syntax.cut_short"),
    ("EndTag: '</' not found", "xml.syntax.cut_short"),
    ("Document is empty", "xml.syntax.empty"),
    ("Start tag expected", "xml.syntax.no_start_tag"),
    ("Extra content at the end", "xml.syntax.extra_content"),
    ("Input is not proper UTF-8", "xml.syntax.not_utf8"),
    ("not defined", "xml.syntax.prefix"),
    ("xmlParseEntityRef", "xml.syntax.ampersand"),
    ("AttValue", "xml.syntax.unquoted"),
    ("Attribute", "xml.syntax.attributes"),
)


def describe_syntax_error(exc: etree.XMLSyntaxError, lang: str = "ru") -> str:
    """One sentence (Russian, or English for ``lang="en"``) for a not-well-formed input: what is wrong
    and where (no libxml2 text)."""
    msg = str(getattr(exc, "msg", "") or exc)
    what = say(lang, next((key for pattern, key in _SYNTAX_PROBLEMS if pattern in msg), "xml.syntax.other"))
    line, column = getattr(exc, "lineno", None), getattr(exc, "offset", None)
    if line and column:
        return say(lang, "xml.syntax.at_line_column", what=what, line=line, column=column)
    return say(lang, "xml.syntax.at_line", what=what, line=line) if line else what


def strip_bom(data: bytes) -> bytes:
    """Drop a UTF-8 byte order mark."""
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def local_name(el: etree._Element) -> str:
    """Local name of an element (no namespace)."""
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def text_of(el: etree._Element | None) -> str:
    """The element's whole text content, stripped ("" for None)."""
    if el is None:
        return ""
    if not len(el):  # no children (comments and PIs count as children): its text is all of it
        text = el.text
        return text.strip() if text else ""
    return "".join(el.itertext()).strip()
