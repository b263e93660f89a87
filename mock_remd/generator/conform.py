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
import re
import threading
import warnings
from pathlib import Path
from typing import Any

from lxml import etree

log = logging.getLogger(__name__)

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
#: marks an element this module made up (a placeholder a later step may replace); see :func:`unmark`
SYNTHESISED = "{urn:mock-remd:generator}synthesised"
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
        #: child -> the particle it was matched to, where one name has several particles (typed sections)
        self.assigned: dict[Any, Any] = {}
        #: id(type) -> its fixed/enumerated codes (see _signature), for this fitting
        self.signatures: dict[int, list] = {}

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
        if getattr(xsd_type, "abstract", False) and node.get(XSI_TYPE) in (None, "ST"):
            node.set(XSI_TYPE, _concrete(node))  # e.g. observation/value of type ANY, added by a later step
        xsd_type = self._type_of(node, xsd_type)
        self._attributes(node, xsd_type)
        if not getattr(xsd_type, "is_complex", lambda: False)():
            self._simple_text(node, xsd_type)
            return
        content = xsd_type.content
        if not hasattr(content, "model"):  # simple content
            self._simple_text(node, content)
            return
        if not getattr(xsd_type, "mixed", False) and node.text and node.text.strip():
            node.text = None  # element-only content: a value written as text by a later step goes

        children = self._in_model_order([c for c in node if isinstance(c.tag, str)], content)
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
            elif value is not None and not enum:
                fitted = _fit_pattern(value, attr.type)
                if fitted != value:
                    node.set(name, fitted)
            elif value is None and attr.use == "required":
                node.set(name, enum[0] if enum else self._attr_default(attr.local_name or name, node))
        if attrs and None not in attrs and not getattr(attrs, "any_attribute", None):  # None: a wildcard
            allowed = {n for n in attrs if n is not None}
            for name in list(node.attrib):
                if name not in allowed and name != SYNTHESISED and not name.startswith(
                        "{http://www.w3.org/2001/XMLSchema-instance}"):
                    del node.attrib[name]

    def _simple_text(self, node: etree._Element, simple: Any) -> None:
        enum = _enumeration(simple)
        if enum and (node.text or "") not in enum:
            node.text = enum[0]
        elif not enum and node.text and not len(node):
            node.text = _fit_pattern(node.text, simple)

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
        if name is None:  # xs:any: the namespaces it allows
            return _wildcard_allows(particle, node.tag)
        return node.tag == name

    def _consume(self, group: Any, queue: list, out: list, parent: etree._Element, depth: int) -> None:
        if group.model == "choice":
            limit = group.max_occurs if group.max_occurs is not None else 10**6
            taken = 0
            while queue and taken < limit:  # a repeated choice (HL7 names: family, given, …) keeps them all
                fitting = [p for p in group if self._matches(p, queue[0])]
                if taken == 0 and queue[0].get(SYNTHESISED) is not None:  # a placeholder yields to
                    fitting = list(group)  # an option holding elements written on purpose
                option = _best_option(fitting, queue) if taken == 0 else next(iter(fitting), None)
                while option is not None and queue and not self._matches(option, queue[0]):
                    queue.pop(0)
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
        while queue and taken < limit and (queue[0].tag == name if name is not None else
                                           _wildcard_allows(p, queue[0].tag)) and \
                self.assigned.get(queue[0], p) is p:
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
        node.set(SYNTHESISED, "1")
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
            if not len(node) and not (set(node.attrib) - {XSI_TYPE, SYNTHESISED}) and not node.text:
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


def _fit_pattern(value: str, simple: Any) -> str:
    """``value``, or one close to it that the simple type's pattern facets accept: the last OID arc
    replaced by one the pattern names (``….15|….16``), else the shortest string the pattern accepts."""
    from mock_remd.generator.rules import regex_example

    patterns = getattr(simple, "patterns", None)
    if not patterns or not hasattr(simple, "is_valid"):
        return value
    try:
        if simple.is_valid(value):
            return value
    except Exception:  # a type xmlschema cannot check values of: leave the value
        return value
    candidates = []
    for regexp in getattr(patterns, "regexps", ()):
        for arc in re.findall(r"\.(\d+)(?:\||$)", regexp):
            candidates.append(value.rsplit(".", 1)[0] + "." + arc)
        candidates.append(regex_example(regexp))
    for candidate in candidates:
        try:
            if candidate and simple.is_valid(candidate):
                return candidate
        except Exception:
            continue
    return value


def _concrete(node: etree._Element) -> str:
    """The HL7 data type a value of abstract type ANY is written as, from what it carries."""
    if node.get("code") is not None or node.get("codeSystem") is not None:
        return "CD"
    if node.get("unit") is not None:
        return "PQ"
    return "ST"


def _wildcard_allows(particle: Any, tag: str) -> bool:
    check = getattr(particle, "is_matching", None)
    try:
        return bool(check(tag)) if callable(check) else True
    except Exception:  # an xmlschema version without the check: take it, as before
        return True


def _best_option(group: Any, queue: list) -> Any:
    """The option of a choice that keeps the most of ``queue`` (elements written on purpose before
    placeholders; the first on a tie; None if none keeps any): a choice between ``value`` and
    ``value, performer, effectiveTime`` keeps all three."""
    best, score = None, (0, 0)
    for p in group:
        names = set(_model_names(p, [])) if hasattr(p, "model") else {getattr(p, "name", None)}
        kept = queue if None in names else [q for q in queue if q.tag in names]
        n = (sum(1 for q in kept if q.get(SYNTHESISED) is None), len(kept))
        if n > score:
            best, score = p, n
    return best


def unmark(doc: etree._Element) -> None:
    """Remove the placeholder marks :func:`conform` leaves."""
    for node in doc.iter():
        if isinstance(node.tag, str) and node.get(SYNTHESISED) is not None:
            del node.attrib[SYNTHESISED]
    etree.cleanup_namespaces(doc, keep_ns_prefixes=[p for p in doc.nsmap if p])


def _model_names(group: Any, out: list) -> list:
    """Element names of a content model in the order the model lists them (wildcards as None)."""
    for p in group:
        if hasattr(p, "model"):
            _model_names(p, out)
        else:
            out.append(getattr(p, "name", None))
    return out


def _model_particles(group: Any, out: list) -> list:
    for p in group:
        if hasattr(p, "model"):
            _model_particles(p, out)
        else:
            out.append(p)
    return out


def _signature(xsd_type: Any, depth: int = 0, path: tuple = (), memo: dict | None = None) -> list:
    """(path of child names, attribute, allowed values) for the fixed/enumerated attributes of a
    type and its descendants (3 levels): what tells a DOCINFO section's type from a LINKDOCS one."""
    key = id(xsd_type)  # the schema outlives the memo (one fitting)
    if not path and memo is not None and key in memo:
        return memo[key]
    out: list = []
    for name, attr in (getattr(xsd_type, "attributes", None) or {}).items():
        if name is None:
            continue
        allowed = [attr.fixed] if attr.fixed is not None else _enumeration(attr.type)
        if allowed and name in ("code", "codeSystem", "root", "classCode", "moodCode", "typeCode"):
            out.append((path, name, set(allowed)))
    content = getattr(xsd_type, "content", None)
    if depth < 3 and content is not None and hasattr(content, "model"):
        for p in _model_particles(content, []):
            if getattr(p, "name", None):
                out += _signature(p.type, depth + 1, path + (p.name,))
    if not path and memo is not None:
        memo[key] = out
    return out


def _type_score(child: etree._Element, xsd_type: Any, memo: dict) -> int:
    score = 0
    for path, attr, allowed in _signature(xsd_type, memo=memo):
        node = child
        for name in path:
            node = node.find(name) if node is not None else None
        value = node.get(attr) if node is not None else None
        if value is not None:
            score += 2 if value in allowed else -3
    return score


def _assign(self: _Fitter, children: list, content: Any) -> dict:
    particles = _model_particles(content, [])
    by_name: dict = {}
    for i, p in enumerate(particles):
        if getattr(p, "name", None):
            by_name.setdefault(p.name, []).append((i, p))
    rank = {}
    for c in children:
        options = by_name.get(c.tag, [])
        if len(options) > 1:
            scored = [(_type_score(c, p.type, self.signatures), -i, i, p) for i, p in options]
            best = max(scored, key=lambda t: (t[0], t[1]))
            self.assigned[c] = best[3]
            rank[c] = best[2]
    return rank


def _in_model_order(self: _Fitter, children: list, content: Any) -> list:
    """``children`` stably sorted by where their name first appears in the model (an element added at
    the end by a later step moves to its place; unknown names keep their place after the known); where
    one name has several particles of different types (a kind's typed sections), each child goes to
    the particle whose fixed and enumerated codes it carries."""
    names = _model_names(content, [])
    rank = {}
    for i, name in enumerate(names):
        rank.setdefault(name, i)
    wildcard = rank.get(None, len(names))
    typed = _assign(self, children, content)
    return sorted(children, key=lambda c: typed.get(c, rank.get(c.tag, wildcard)))


_Fitter._in_model_order = _in_model_order  # type: ignore[attr-defined]


def _enumeration(simple: Any) -> list[str]:
    enum = getattr(simple, "enumeration", None)
    if enum:
        return [str(v) for v in enum]
    out: list[str] = []
    for member in getattr(simple, "member_types", ()) or ():  # a union: every member's values
        out += [v for v in _enumeration(member) if v not in out]
    return out
