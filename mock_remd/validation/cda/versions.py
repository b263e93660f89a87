"""A document's place in its version chain, as its CDA header states it.

``setId`` names the set of versions of one document, ``versionNumber`` its number in the set, and
``relatedDocument/parentDocument`` (HL7 CDA R2) the documents it replaces (``RPLC``), appends to
(``APND``) or transforms (``XFRM``). A parent is named by ``id`` (the MIS's ``.51`` id) and may carry
a second ``id`` rooted at :data:`REMD_NUMBER_ROOT` with its registry number (emdrId), as
``inFulfillmentOf`` and ``LINKDOCS`` references do (semd.md §1.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from mock_remd.validation.cda.access import ChildIndex, attr, child, children, has_null_flavor, is_cda_root
from mock_remd.xmlsafe import UnsafeXmlError, XmlTooLargeError, parse_bytes, strip_bom

#: ``id/@root`` of a reference by REMD registration number (emdrId)
REMD_NUMBER_ROOT = "1.2.643.5.1.13.13.17.1.1"


@dataclass(frozen=True)
class ParentDocument:
    """One ``relatedDocument``: its ``@typeCode`` and what it says of the parent."""

    type_code: str
    local_ids: tuple[str, ...] = ()
    emdr_ids: tuple[str, ...] = ()
    set_id: str = ""
    version_number: int | None = None

    def names(self, target: str) -> bool:
        """True when ``target`` (a localUid or an emdrId) is one of this parent's ids."""
        t = target.strip().casefold()
        return any(t == v.casefold() for v in (*self.local_ids, *self.emdr_ids))


@dataclass(frozen=True)
class DocumentIdentity:
    """The header facts versioning needs (empty values when the header does not give them)."""

    local_uid: str = ""
    set_root: str = ""
    set_extension: str = ""
    version_raw: str = ""
    parents: tuple[ParentDocument, ...] = field(default_factory=tuple)

    @property
    def set_id(self) -> str:
        """``root|extension`` of ``setId`` (empty when absent)."""
        return f"{self.set_root}|{self.set_extension}" if (self.set_root or self.set_extension) else ""

    @property
    def version_number(self) -> int | None:
        """``versionNumber/@value`` as a positive integer; None when absent or not a number."""
        return _positive(self.version_raw)


def _positive(raw: str) -> int | None:
    try:
        value = int(raw.strip())
    except ValueError:
        return None
    return value if value > 0 else None


def _set_id(el: etree._Element | None) -> str:
    if el is None or has_null_flavor(el):
        return ""
    return f"{attr(el, 'root')}|{attr(el, 'extension')}"


def read_identity(root: etree._Element | None, index: ChildIndex | None = None) -> DocumentIdentity | None:
    """The version facts of a parsed ``ClinicalDocument``; None when ``root`` is not a CDA document.

    ``index``: the document's children as its other readers have read them (each parent read once)."""
    if not is_cda_root(root):
        return None
    first, every = (index.child, index.children) if index is not None else (child, children)
    set_el = first(root, "setId")
    parents = []
    for rel in every(root, "relatedDocument"):
        parent = first(rel, "parentDocument")
        if parent is None:
            continue
        ids = [i for i in every(parent, "id") if not has_null_flavor(i) and attr(i, "extension")]
        parents.append(ParentDocument(
            type_code=attr(rel, "typeCode").upper(),
            local_ids=tuple(attr(i, "extension") for i in ids if attr(i, "root") != REMD_NUMBER_ROOT),
            emdr_ids=tuple(attr(i, "extension") for i in ids if attr(i, "root") == REMD_NUMBER_ROOT),
            set_id=_set_id(first(parent, "setId")),
            version_number=_positive(attr(first(parent, "versionNumber"), "value")),
        ))
    return DocumentIdentity(
        local_uid=attr(first(root, "id"), "extension"),
        set_root="" if set_el is None else attr(set_el, "root"),
        set_extension="" if set_el is None else attr(set_el, "extension"),
        version_raw=attr(first(root, "versionNumber"), "value"),
        parents=tuple(parents),
    )


def identity_of_bytes(content: bytes | None, *, max_bytes: int) -> DocumentIdentity | None:
    """:func:`read_identity` of raw document bytes (safe parse); None when they are not a CDA document."""
    if not content:
        return None
    try:
        return read_identity(parse_bytes(strip_bom(content), max_bytes=max_bytes))
    except (etree.XMLSyntaxError, UnsafeXmlError, XmlTooLargeError, ValueError):
        return None
