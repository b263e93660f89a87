"""Namespace-aware access to a CDA tree and registry-style element paths."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from lxml import etree

from mock_remd.catalog.findings import text as finding_text

HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

#: prefix -> namespace for XPath and for ``prefix:Name`` lookups; ``hl7`` is the CDA default namespace.
NS: dict[str, str] = {
    "hl7": HL7,
    "xsi": XSI,
    "identity": "urn:hl7-ru:identity",
    "address": "urn:hl7-ru:address",
    "fias": "urn:hl7-ru:fias",
    "medService": "urn:hl7-ru:medService",
    "PII": "urn:hl7-ru:PII",
}
#: namespace -> the prefix used when writing paths (CDA elements get none)
PREFIX_BY_NS: dict[str, str] = {ns: p for p, ns in NS.items() if p not in ("hl7", "xsi")}

#: the SNILS OID used as ``id/@root`` for persons
SNILS_ROOT = "1.2.643.100.3"


def is_cda_root(root: etree._Element | None) -> bool:
    """True for a ``ClinicalDocument`` in the CDA namespace (what the document layers can read)."""
    return root is not None and root.tag == f"{{{HL7}}}ClinicalDocument"


NOT_CDA_REASON = finding_text("skip.not_cda")


@functools.lru_cache(maxsize=1024)
def qname(name: str) -> str:
    """Clark notation for ``name`` (``code`` → ``{urn:hl7-org:v3}code``, ``identity:Series`` → identity ns)."""
    if ":" in name:
        prefix, local = name.split(":", 1)
        return f"{{{NS[prefix]}}}{local}"
    return f"{{{HL7}}}{name}"


class _ClarkTags(dict[str, str]):
    """name -> Clark tag (:func:`qname`), kept for the names asked (bounded as qname's cache is): a
    lookup is a plain dict read, cheaper than qname's lru_cache."""

    def __missing__(self, name: str) -> str:
        tag = qname(name)
        if len(self) < 1024:
            self[name] = tag
        return tag


#: name -> Clark tag, for :class:`ChildIndex` lookups: ``CLARK["identity:Series"]``
CLARK = _ClarkTags()
#: what :class:`ChildIndex` gives for no children (immutable: it is shared)
NO_CHILDREN: tuple[etree._Element, ...] = ()
#: the tag map of ``None`` (no parent, no children); never filled
_NO_PARENT: dict[object, list[etree._Element]] = {}


def children(el: etree._Element | None, name: str) -> list[etree._Element]:
    """Direct children of ``el`` called ``name`` (CDA namespace unless prefixed)."""
    if el is None:
        return []
    return list(el.iterchildren(qname(name)))


def child(el: etree._Element | None, *names: str) -> etree._Element | None:
    """Follow a chain of first children (``child(root, "recordTarget", "patientRole")``); None when absent."""
    cur = el
    for name in names:
        if cur is None:
            return None
        cur = next(cur.iterchildren(qname(name)), None)
    return cur


def attr(el: etree._Element | None, name: str) -> str:
    """An attribute value, stripped; empty when the element or the attribute is absent."""
    if el is None:
        return ""
    return (el.get(name) or "").strip()


class ChildIndex(dict):
    """The element children of the parents asked about, by Clark tag, read once per parent.

    :func:`children` and :func:`child` answer each question with a tag-filtered lxml iteration, whose
    tag matcher is built anew every time (~7k instructions a call); the checks of one document ask the
    same parents (the root above all) dozens of times. Made for one reading of a tree nobody changes
    meanwhile; it keeps the elements it has handed out alive while it lives.

    The index is a dict ``parent -> {Clark tag: [children]}`` that reads a parent on its first lookup,
    so the hottest readers ask it without a Python call: ``index[parent].get(CLARK[name], NO_CHILDREN)``
    is :meth:`children`. The lists are shared: do not change them.
    """

    def __missing__(self, el: etree._Element | None) -> dict[object, list[etree._Element]]:
        if el is None:
            return _NO_PARENT
        by_tag: dict[object, list[etree._Element]] = {}
        for kid in el:  # comments and PIs too: their tag is a function, never a name asked for
            tag = kid.tag  # a new string each time lxml is asked
            found = by_tag.get(tag)
            if found is None:
                by_tag[tag] = [kid]
            else:
                found.append(kid)
        self[el] = by_tag
        return by_tag

    def children(self, el: etree._Element | None, name: str) -> Sequence[etree._Element]:
        """What :func:`children` gives (document order); shared: do not change it."""
        return self[el].get(CLARK[name], NO_CHILDREN)

    def tagged(self, el: etree._Element | None, tag: str) -> Sequence[etree._Element]:
        """The element children of ``el`` whose tag is ``tag`` (Clark notation, or a name without a
        namespace), in document order; shared: do not change it."""
        return self[el].get(tag, NO_CHILDREN)

    def child(self, el: etree._Element | None, *names: str) -> etree._Element | None:
        """What :func:`child` gives: the first child of each name in turn, or None."""
        cur = el
        for name in names:
            if cur is None:
                return None
            found = self[cur].get(CLARK[name])
            cur = found[0] if found else None
        return cur


def text(el: etree._Element | None) -> str:
    """All text inside ``el`` with whitespace collapsed; empty for None."""
    if el is None:
        return ""
    if not len(el):  # no children (comments and PIs count): its own text is all of it
        own = el.text
        return " ".join(own.split()) if own else ""
    return " ".join("".join(el.itertext()).split())


def has_text(el: etree._Element | None) -> bool:
    """True when :func:`text` of ``el`` is not empty (some text inside is not whitespace)."""
    if el is None:
        return False
    if not len(el):
        own = el.text
        return bool(own) and not own.isspace()
    return any(not chunk.isspace() for chunk in el.itertext() if chunk)


def has_null_flavor(el: etree._Element | None) -> bool:
    """True when ``el`` carries ``@nullFlavor``."""
    return el is not None and el.get("nullFlavor") is not None


def local_label(el: etree._Element) -> str:
    """The element's name as paths write it: ``recordTarget`` or ``identity:IdentityDoc``."""
    q = etree.QName(el)
    prefix = PREFIX_BY_NS.get(q.namespace or "")
    return f"{prefix}:{q.localname}" if prefix else q.localname


def node_path(el: etree._Element) -> str:
    """The registry's ``Путь``: ``/ClinicalDocument[1]/recordTarget[1]/patientRole[1]/id[2]``."""
    steps: list[str] = []
    cur: etree._Element | None = el
    while cur is not None and isinstance(cur.tag, str):
        parent = cur.getparent()
        if parent is None:
            index = 1
        else:
            index = 1 + sum(1 for sib in cur.itersiblings(preceding=True) if sib.tag == cur.tag)
        steps.append(f"{local_label(cur)}[{index}]")
        cur = parent
    return "/" + "/".join(reversed(steps))
