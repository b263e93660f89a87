"""Safe XML parsing: no entities, no DTD, no network, explicit size limits.

Every parser in the project comes from here, so an XXE or billion-laughs input is refused in one
place. ``huge_tree`` is enabled deliberately (documents of 30 MB exist) and bounded by our own size
limit checked before parsing.
"""

from __future__ import annotations

import threading

from lxml import etree

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
        raise XmlTooLargeError(f"XML размером {len(data)} байт больше допустимых {max_bytes} байт",
                               size=len(data), limit=max_bytes)
    root = etree.fromstring(data, _parser())
    info = root.getroottree().docinfo  # (a new DocInfo on every read of the property)
    if info.doctype or (info.internalDTD is not None):
        raise UnsafeXmlError("объявления DOCTYPE не допускаются")
    return root


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
