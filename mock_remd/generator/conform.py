"""Fit a generated document to a kind's official XSD (the pack installed for it).

The generic header is written first (it satisfies the shared Main/Core rules); then the tree is walked
alongside the kind's XSD content model: children the model has no place for are dropped, required ones
that are missing are synthesised (fixed and enumerated values from the XSD, typical HL7 values
otherwise), fixed attribute values and enumerations are applied, prohibited attributes removed. What
the XSD cannot say (Schematron rules on bodies) stays the kind builder's job.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import warnings
from pathlib import Path
from typing import Any

from lxml import etree

log = logging.getLogger(__name__)

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_schemas: dict[Path, Any] = {}
_lock = threading.Lock()
#: a synthesised branch deeper than this stops (recursive HL7 models)
MAX_DEPTH = 12


def load(xsd: Path) -> Any | None:
    """The pack's XSD as an ``xmlschema`` schema (lax: packs libxml2 refuses load too), cached."""
    with _lock:
        if xsd not in _schemas:
            try:
                import xmlschema

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    _schemas[xsd] = xmlschema.XMLSchema(str(xsd), allow="local", defuse="always", validation="lax")
            except Exception:  # a pack xmlschema cannot read: the document stays as generated
                log.warning("the generator cannot read %s; the document is not fitted to it", xsd)
                _schemas[xsd] = None
        return _schemas[xsd]


def conform(doc: etree._Element, xsd: Path, *, today: dt.date | None = None) -> etree._Element:
    """Fit ``doc`` (a ``ClinicalDocument``) to ``xsd`` in place; returns it."""
    schema = load(xsd)
    if schema is None:
        return doc
    element = schema.elements.get("ClinicalDocument") or next(
        (e for e in schema.elements.values() if e.local_name == "ClinicalDocument"), None)
    if element is None:
        return doc
    _Fitter(schema, today or dt.date.today()).fit(doc, element.type, 0)
    return doc


class _Fitter:
    def __init__(self, schema: Any, today: dt.date) -> None:
        self.schema = schema
        self.today = today

    # ---- types -------------------------------------------------------------------------------
    def _type_of(self, node: etree._Element, declared: Any) -> Any:
        xsi = node.get(XSI_TYPE)
        if xsi:
            prefix, _, local = xsi.rpartition(":")
            ns = node.nsmap.get(prefix or None, "urn:hl7-org:v3")
            found = self.schema.maps.types.get(f"{{{ns}}}{local}")
            if found is not None:
                return found
        return declared

    # ---- fitting existing nodes ----------------------------------------------------------------
    def fit(self, node: etree._Element, xsd_type: Any, depth: int) -> None:
        xsd_type = self._type_of(node, xsd_type)
        self._attributes(node, xsd_type)
        if not getattr(xsd_type, "is_complex", lambda: False)():
            self._simple_text(node, xsd_type)
            return
        content = xsd_type.content
        if not hasattr(content, "model"):  # simple content
            self._simple_text(node, content)
            return
        children = [c for c in node if isinstance(c.tag, str)]
        kept = self._group(content, children, node, depth)
        if kept is None:
            return
        for c in children:
            if c not in kept:
                node.remove(c)
        for c in kept:  # the model's order
            node.remove(c) if c.getparent() is node else None
            node.append(c)

    def _attributes(self, node: etree._Element, xsd_type: Any) -> None:
        attrs = getattr(xsd_type, "attributes", None)
        if attrs is None:
            return
        for name, attr in attrs.items():
            if name is None:
                continue
            if attr.use == "prohibited":
                if node.get(name) is not None:
                    del node.attrib[name]
                continue
            fixed = attr.fixed
            if fixed is not None:
                node.set(name, fixed)
                continue
            enum = _enumeration(attr.type)
            value = node.get(name)
            if value is not None and enum and value not in enum:
                node.set(name, enum[0])
            elif value is None and attr.use == "required":
                node.set(name, enum[0] if enum else self._attr_default(attr.local_name or name, node))
        if attrs and not getattr(attrs, "any_attribute", None):
            allowed = {n for n in attrs if n is not None}
            for name in list(node.attrib):
                if name not in allowed and not name.startswith("{http://www.w3.org/2001/XMLSchema-instance}"):
                    del node.attrib[name]

    def _simple_text(self, node: etree._Element, simple: Any) -> None:
        enum = _enumeration(simple)
        if enum and (node.text or "") not in enum:
            node.text = enum[0]

    def _attr_default(self, name: str, node: etree._Element) -> str:
        return {
            "value": self.today.strftime("%Y%m%d"), "code": "1", "codeSystem": "1.2.643.5.1.13.13.11.1522",
            "codeSystemName": "—", "codeSystemVersion": "1.1", "displayName": "—", "root": "1.2.643.5.1.13",
            "extension": "1", "classCode": "OBS", "moodCode": "EVN", "typeCode": "COMP",
        }.get(name, "1")

    # ---- content model ---------------------------------------------------------------------------
    def _group(self, group: Any, children: list, parent: etree._Element, depth: int) -> list | None:
        """The children kept for ``group`` (synthesising required ones), in model order."""
        out: list = []
        queue = list(children)
        self._consume(group, queue, out, parent, depth)
        return out

    def _matches(self, particle: Any, node: etree._Element) -> bool:
        if hasattr(particle, "model"):
            return any(self._matches(p, node) for p in particle)
        name = getattr(particle, "name", None)
        if name is None:  # xs:any
            return True
        return node.tag == name

    def _consume(self, group: Any, queue: list, out: list, parent: etree._Element, depth: int) -> None:
        if group.model == "choice":
            limit = group.max_occurs if group.max_occurs is not None else 10**6
            taken = 0
            while queue and taken < limit:  # a repeated choice (HL7 names: family, given, …) keeps them all
                option = next((p for p in group if self._matches(p, queue[0])), None)
                if option is None:
                    break
                before = len(queue)
                self._particle(option, queue, out, parent, depth)
                taken += 1
                if len(queue) == before:
                    break
            if taken == 0 and group.min_occurs >= 1 and len(group):
                self._particle(group[0], queue, out, parent, depth)
            return
        for i, p in enumerate(group):
            # drop children that belong to no later particle of this group
            later = list(group)[i:]
            while queue and not any(self._matches(q, queue[0]) for q in later):
                queue.pop(0)
            self._particle(p, queue, out, parent, depth)

    def _particle(self, p: Any, queue: list, out: list, parent: etree._Element, depth: int) -> None:
        if hasattr(p, "model"):
            self._consume(p, queue, out, parent, depth)
            return
        name = getattr(p, "name", None)
        taken = 0
        limit = p.max_occurs if p.max_occurs is not None else 10**6
        while queue and taken < limit and (name is None or queue[0].tag == name):
            node = queue.pop(0)
            if name is not None:
                self.fit(node, p.type, depth + 1)
            out.append(node)
            taken += 1
        while taken < p.min_occurs and name is not None and depth < MAX_DEPTH:
            out.append(self.synthesise(p, parent, depth + 1))
            taken += 1

    # ---- new nodes -------------------------------------------------------------------------------
    def synthesise(self, particle: Any, parent: etree._Element, depth: int) -> etree._Element:
        node = etree.SubElement(parent, particle.name)
        parent.remove(node)
        xsd_type = particle.type
        if getattr(xsd_type, "abstract", False):  # e.g. observation/value of type ANY: write a string
            concrete = self.schema.maps.types.get("{urn:hl7-org:v3}ST")
            if concrete is not None:
                node.set(XSI_TYPE, "ST")
                xsd_type = concrete
        if getattr(particle, "fixed", None) is not None:
            node.text = particle.fixed
        self._attributes(node, xsd_type)
        if getattr(xsd_type, "is_complex", lambda: False)():
            content = xsd_type.content
            if hasattr(content, "model"):
                for c in self._group(content, [], node, depth) or []:
                    node.append(c)
            elif node.text is None:
                node.text = self._text_default(content)
            flavor = (xsd_type.attributes or {}).get("nullFlavor")
            if not len(node) and not node.attrib and not node.text:
                if flavor is not None and flavor.use != "prohibited":
                    node.set("nullFlavor", "NI")
                elif getattr(xsd_type, "mixed", False) or xsd_type.has_simple_content():
                    node.text = "—"
        elif node.text is None:
            node.text = self._text_default(xsd_type)
        return node

    def _text_default(self, simple: Any) -> str:
        enum = _enumeration(simple)
        return enum[0] if enum else "—"


def _enumeration(simple: Any) -> list[str]:
    enum = getattr(simple, "enumeration", None)
    if enum:
        return [str(v) for v in enum]
    for member in getattr(simple, "member_types", ()) or ():
        found = _enumeration(member)
        if found:
            return found
    return []
