"""Fit a generated document to its kind's Schematron, from the pack's own asserts.

The pack's Schematron is run on the draft; every failed ``assert`` (and fired ``report``) is read as a
constraint on its context node and the draft is changed until the constraint holds: a missing
section/entry/element is created (predicates included: ``entry[observation/code[@code='4073']]``
makes the observation and its code), ``count(…)`` is brought into range, fixed and enumerated
values (``@codeSystem=['…','…']``) are written, empty values get plausible ones, ``matches()`` gets
a value matching its pattern, ``report`` tests are made false (an unwanted ``@nullFlavor`` goes).
The kind's XSD is re-applied after each round (:mod:`.conform`), so the result keeps the schema's
order. Everything is decided by the pack and the document's seeded world: the same pack and seed
give the same document. The pack's example document is never read.
"""

from __future__ import annotations

import copy
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from mock_remd.generator.model import World
from mock_remd.generator.xml import V3, XSI

log = logging.getLogger(__name__)

#: rounds of "run the Schematron, repair what failed"; documents settle in 5–15
MAX_ROUNDS = 40
#: HL7 CDA elements that repeat under one parent (a new one may be added beside an existing one)
REPEATABLE = frozenset({
    "component", "entry", "entryRelationship", "id", "templateId", "participant", "performer", "author",
    "telecom", "addr", "translation", "reference", "precondition", "referenceRange", "informant",
    "documentationOf", "relatedDocument", "authorization", "given", "family", "streetAddressLine",
    "participantRole", "specimen", "consumable", "product", "subject", "supply",
    "item", "tr", "td", "paragraph", "content", "list", "row",
})
#: HL7 relationships that hold one act (observation, encounter …) each
HOLDERS = frozenset({"entry", "entryRelationship", "component"})
ACTS = frozenset({"observation", "encounter", "act", "procedure", "substanceAdministration", "supply",
                  "organizer", "section", "observationMedia", "regionOfInterest", "referralOrder"})
#: elements whose @value is a point in time
_TIME_ELEMENTS = frozenset({"effectiveTime", "time", "low", "high", "center", "birthTime", "IssueDate",
                            "deceasedTime", "expirationTime", "validTime"})


@dataclass(frozen=True)
class _Step:
    axis: str  # child | attribute | self | parent
    name: str = ""  # Clark name ("" = any)
    predicates: tuple[Any, ...] = ()
    position: int = 0


@dataclass
class FitReport:
    """What the fitting did: rounds run and the checks still failing at the end."""

    rounds: int = 0
    remaining: list[str] = field(default_factory=list)


class _Fixer:
    """Makes XPath boolean expressions true (or false) on a node by changing the document."""

    def __init__(self, namespaces: dict[str, str], values: _Values) -> None:
        from elementpath.xpath31 import XPath31Parser

        self.ns = {k: v for k, v in namespaces.items() if k}
        self.ns.setdefault("xsi", XSI)
        self.parser = XPath31Parser(namespaces=self.ns, default_namespace=V3)
        self.values = values
        self._tokens: dict[str, Any] = {}
        self.depth = 0

    # ---- evaluation ------------------------------------------------------------------------------
    def token(self, expr: str) -> Any:
        tok = self._tokens.get(expr)
        if tok is None:
            tok = self._tokens[expr] = self.parser.parse(expr)
        return tok

    def _context(self, node: etree._Element) -> Any:
        from elementpath import XPathContext

        return XPathContext(node.getroottree().getroot(), item=node)

    def holds(self, tok: Any, node: etree._Element) -> bool:
        return self.state(tok, node) is True

    def state(self, tok: Any, node: etree._Element) -> bool | None:
        """True/False, or None when evaluating raises (``matches(a, b)`` with ``b`` absent)."""
        try:
            return bool(tok.boolean_value(tok.evaluate(self._context(node))))
        except Exception:
            return None

    def evaluate(self, tok: Any, node: etree._Element) -> list[Any]:
        try:
            out = tok.evaluate(self._context(node))
        except Exception:
            return []
        return _flatten(out)

    def select(self, tok: Any, node: etree._Element) -> list[Any]:
        """Elements, or (element, attribute name) pairs, ``tok`` selects from ``node``."""
        try:
            items = list(tok.select(self._context(node)))
        except Exception:
            return []
        out: list[Any] = []
        for item in items:
            kind = item.__class__.__name__
            if kind.endswith("ElementNode") and isinstance(getattr(item.elem, "tag", None), str):
                out.append(item.elem)
            elif kind.endswith("AttributeNode"):
                parent = getattr(getattr(item, "parent", None), "elem", None)
                if parent is not None:
                    out.append((parent, item.name))
        return out

    # ---- make true ---------------------------------------------------------------------------------
    def make_true(self, tok: Any, node: etree._Element) -> None:
        if self.depth > 12 or self.holds(tok, node):
            return
        self.depth += 1
        try:
            self._make_true(tok, node)
        finally:
            self.depth -= 1

    def _make_true(self, tok: Any, node: etree._Element) -> None:
        sym = tok.symbol
        if sym == "and":
            for child in tok:
                self.make_true(child, node)
        elif sym == "or":
            self._either(tok, node)
        elif sym in ("not", "empty"):
            self.make_false(tok[0], node)
        elif sym in ("exists", "boolean", "(") and len(tok) == 1:
            self.make_true(tok[0], node)
        elif sym == "if":
            branch = tok[1] if self.holds(tok[0], node) else tok[2]
            self.make_true(branch, node)
        elif sym in _COMPARISONS:
            self._compare(tok, node, _COMPARISONS[sym])
        elif sym == "count" and len(tok) == 1:  # a count as a boolean: at least one
            self._count(tok[0], node, 1)
        elif sym == "matches":
            pattern = self.evaluate(tok[1], node)
            flags = self.evaluate(tok[2], node) if len(tok) > 2 else []
            if pattern:
                self._set(tok[0], node, lambda current, target: self.values.matching(
                    str(pattern[0]), str(flags[0]) if flags else "", current, target))
        elif _is_path(tok):
            self.ensure(tok, node)

    def _either(self, tok: Any, node: etree._Element) -> None:
        """The first alternative (in the order written; removals last) that makes the whole true."""
        options = _alternatives(tok)
        if len(options) > 1 and all(o.symbol == "matches" and len(o) == 2 for o in options) and len(
                {o[0].source for o in options}) == 1:  # one value, several formats: the most natural value
            patterns = [str(p) for o in options for p in self.evaluate(o[1], node)[:1]]
            self._set(options[0][0], node, lambda current, target: self.values.matching_any(
                patterns, current, target))
            return
        options.sort(key=lambda t: t.symbol in ("not", "empty"))
        root = node.getroottree().getroot()
        path = _index_path(node)
        for option in options:
            twin = _follow(copy.deepcopy(root), path)
            if twin is None:
                continue
            self.make_true(option, twin)
            if self.holds(tok, twin):
                self.make_true(option, node)
                return
        self.make_true(options[0], node)

    # ---- make false --------------------------------------------------------------------------------
    def make_false(self, tok: Any, node: etree._Element) -> None:
        if self.depth > 12 or self.state(tok, node) is False:
            return
        self.depth += 1
        try:
            self._make_false(tok, node)
        finally:
            self.depth -= 1

    def _make_false(self, tok: Any, node: etree._Element) -> None:
        sym = tok.symbol
        if sym == "or":
            for child in tok:
                self.make_false(child, node)
        elif sym == "and":
            self.make_false(tok[len(tok) - 1], node)
        elif sym == "not":
            self.make_true(tok[0], node)
        elif sym in ("exists", "boolean", "(") and len(tok) == 1:
            self.make_false(tok[0], node)
        elif sym in _COMPARISONS:
            self._compare(tok, node, _NEGATED[_COMPARISONS[sym]])
        elif sym == "matches" and _is_path(tok[1]):  # two values that must differ: both written
            self.ensure(tok[0], node)
            self.ensure(tok[1], node)
        elif sym == "matches":
            self._set(tok[0], node, lambda current, target: self.values.plain(target))
        elif _is_path(tok):
            for item in self.select(tok, node):
                _remove(item)

    # ---- comparisons -------------------------------------------------------------------------------
    def _compare(self, tok: Any, node: etree._Element, op: str) -> None:
        left, right = tok[0], tok[1]
        if _is_constant(left) and not _is_constant(right):
            left, right, op = right, left, _MIRRORED[op]
        targets = [_atom(v) for v in self.evaluate(right, node)]
        if left.symbol == "count" and targets:
            numbers = sorted(int(float(t)) for t in targets if _numeric(t))
            if numbers:
                self._count(left[0], node, _wanted_count(op, numbers, len(self.select(left[0], node))))
            return
        if left.symbol == "string-length" and targets and _numeric(targets[0]):
            length = _wanted_count(op, [int(float(targets[0]))], 0)
            self._set(left[0], node, lambda current, target: self.values.of_length(current, length))
            return
        if left.symbol in ("normalize-space", "string", "data", "number", "xs:decimal", "xs:integer") and len(left) == 1:
            left = left[0]
        if not _is_path(left):
            return
        if op == "=":
            if targets:
                self._set(left, node, lambda current, target: targets[0])
        elif op == "!=":
            bad = {str(t) for t in targets}
            self._set(left, node, lambda current, target: self.values.other_than(bad, target, current))
        elif targets:  # an order comparison: the bound itself satisfies <=, >=; step past it otherwise
            bound = str(targets[0])
            self._set(left, node, lambda current, target: self.values.beyond(bound, op))

    def _count(self, path: Any, node: etree._Element, wanted: int) -> None:
        found = self.select(path, node)
        if len(found) > wanted:
            # placeholders the XSD fitting made go first, then the last ones; a match goes with the
            # branch it hangs on below ``node`` when that branch holds nothing else that matches
            found.sort(key=lambda item: _is_placeholder(item) is False)
            for item in found[:len(found) - wanted]:
                _remove(_branch(item, node, found))
            return
        steps = _steps(path, self.ns)
        if steps is None:
            return
        for _ in range(min(wanted - len(found), 5)):
            self._walk(node, steps, fresh=True)

    def _set(self, path: Any, node: etree._Element, value: Callable[[str, Any], str]) -> None:
        """Give every node ``path`` selects (created if none) the value ``value(current, target)``."""
        items = self.select(path, node) if path.symbol != "." else [node]
        if not items:
            items = self.ensure(path, node)
        for item in items:
            if isinstance(item, tuple):
                elem, attr = item
                elem.set(attr, str(value(elem.get(attr, ""), item)))
            elif isinstance(item, etree._Element):
                _set_text(item, str(value((item.text or "").strip(), item)))

    # ---- creating paths ----------------------------------------------------------------------------
    def ensure(self, path: Any, node: etree._Element) -> list[Any]:
        """Make ``path`` select something from ``node``: reuse what exists, create the rest."""
        found = self.select(path, node)
        if found:
            return found
        steps = _steps(path, self.ns)
        if steps is None:
            return []
        made = self._walk(node, steps, fresh=False)
        return [made] if made is not None else []

    def _walk(self, node: etree._Element, steps: list[_Step], fresh: bool) -> Any:
        step, rest = steps[0], steps[1:]
        if step.axis == "self":
            return self._walk(node, rest, fresh) if rest else node
        if step.axis == "parent":
            parent = node.getparent()
            if parent is None:
                return None
            return self._walk(parent, rest, fresh) if rest else parent
        if step.axis == "attribute":
            if node.get(step.name) is None:
                node.set(step.name, self.values.attribute(node, step.name))
            return (node, step.name)
        candidates = [c for c in node if self._matches(c, step)]
        if not (fresh and not rest):
            for c in candidates:
                if not rest or self._room(c, rest, fresh):
                    return self._walk(c, rest, fresh) if rest else c
        if not step.name:
            return None
        child = etree.SubElement(node, step.name)
        for _ in range(max(step.position - len(candidates) - 1, 0)):
            node.insert(node.index(child), etree.Element(step.name))
        for predicate in step.predicates:
            self.make_true(predicate, child)
        self.values.fill(child)
        return self._walk(child, rest, fresh) if rest else child

    def _room(self, node: etree._Element, rest: list[Any], fresh: bool) -> bool:
        """Whether ``rest`` can be completed below ``node`` without a second copy of a single element."""
        step = rest[0]
        if step.axis != "child":
            return True
        same = [c for c in node if c.tag == step.name]
        if _local(node.tag) in HOLDERS and _local(step.name) in ACTS and any(
                isinstance(c.tag, str) and _local(c.tag) in ACTS and not (
                    c.tag == step.name and self._matches(c, step)) for c in node):
            return False  # an entry holds one act: another act needs an entry of its own
        matching = [c for c in same if self._matches(c, step)]
        if len(rest) == 1:
            return (not fresh and bool(matching)) or not same or _local(step.name) in REPEATABLE
        if matching:
            return any(self._room(c, rest[1:], fresh) for c in matching)
        return not same or _local(step.name) in REPEATABLE

    def _matches(self, elem: Any, step: _Step) -> bool:
        if not isinstance(elem.tag, str) or (step.name and elem.tag != step.name):
            return False
        if step.position:
            siblings = [c for c in elem.getparent() if c.tag == elem.tag]
            if siblings.index(elem) + 1 != step.position:
                return False
        return all(self.holds(p, elem) for p in step.predicates)


class _Values:
    """Plausible values, from the document's world (dates, organisation) and the attribute's role."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.counter = 0
        self.codes = 0

    def timestamp(self) -> str:
        return self.world.created.strftime("%Y%m%d%H%M%z")

    def attribute(self, elem: etree._Element, name: str) -> str:
        local = _local(name)
        tag = _local(elem.tag) if isinstance(elem.tag, str) else ""
        if local == "nullFlavor":
            return "NI"
        if local == "value":
            xsi = elem.get(f"{{{XSI}}}type", "")
            if tag in _TIME_ELEMENTS or xsi in ("TS", "IVL_TS"):
                return self.timestamp()
            if tag == "telecom":
                return f"tel:{self.world.organisation.phone}"
            return "1"
        if local == "root":
            self.counter += 1
            return self.world.id_root(str(100 + self.counter))
        if local == "extension":
            self.counter += 1
            return f"{self.world.seed}{self.counter:04d}"
        if local == "codeSystem":
            return "1.2.643.5.1.13.13.99.2.166"
        if local == "codeSystemName":
            return _SYSTEM_NAMES.get(elem.get("codeSystem", ""), "Справочник НСИ")
        if local == "codeSystemVersion":
            return _SYSTEM_VERSIONS.get(elem.get("codeSystem", ""), "1.1")
        if local == "displayName":
            return _display(elem)
        if local == "code":  # distinct, for keys on observation codes (EntryCodeKey_Obs)
            self.codes += 1
            return str(self.codes)
        if local == "type" and name.startswith(f"{{{XSI}}}"):
            return "ST"
        if local == "use":
            return "WP"
        if local == "unit":
            return "1"
        return "1"

    def fill(self, elem: etree._Element) -> None:
        """Nothing by default: the XSD fitting and later rounds add what is required."""

    def text(self, elem: etree._Element) -> str:
        tag = _local(elem.tag)
        if tag.endswith("GUID"):
            self.counter += 1
            return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{self.world.seed}.{self.world.kind}.{self.counter}"))
        person = self.world.author
        return {"family": person.family, "given": person.given, "Patronymic": person.patronymic,
                "name": self.world.organisation.name, "title": "Сведения"}.get(tag, "Сведения указаны")

    def other_than(self, bad: set[str], target: Any, current: str) -> str:
        if current and current not in bad:
            return current
        if isinstance(target, tuple):
            value = self.attribute(target[0], target[1])
        else:
            value = self.text(target)
        return value if value not in bad else value + "1"

    def matching_any(self, patterns: list[str], current: str, target: Any) -> str:
        """A value matching one of ``patterns``: a natural one first, else the first pattern's example."""
        from elementpath.regex import translate_pattern

        compiled = []
        for pattern in patterns:
            try:
                compiled.append(re.compile(translate_pattern(pattern, back_references=False)))
            except Exception:  # a pattern elementpath cannot translate
                continue
        for value in self._natural(current, target):
            if value and any(rx.search(value) for rx in compiled):
                return value
        for rx in compiled:
            example = _example(rx.pattern)
            if example:
                return example
        return current

    def _natural(self, current: str, target: Any) -> list[str]:
        out = [current]
        if isinstance(target, tuple):
            out.append(self.attribute(target[0], target[1]))
        return out + [self.timestamp(), self.world.created.strftime("%Y%m%d"),
                      self.world.created.strftime("%Y%m%d%H%M%S%z"), self.world.created.strftime("%Y-%m-%d"),
                      "1", "Сведения указаны", self.world.patient.snils]

    def matching(self, pattern: str, flags: str, current: str, target: Any) -> str:
        from elementpath.regex import translate_pattern

        try:
            rx = re.compile(translate_pattern(pattern, back_references=False), _re_flags(flags))
        except (re.error, Exception):
            return current
        example = _example(rx.pattern)
        candidates = [current]
        if isinstance(target, tuple):
            candidates.append(self.attribute(target[0], target[1]))
        overlay = example + current[len(example):]  # a rule on the first characters keeps the rest
        if not (_OID.match(current) and not _OID.match(overlay)):
            candidates.append(overlay)
        candidates += [self.timestamp(), self.world.created.strftime("%Y%m%d"),
                       self.world.created.strftime("%Y%m%d%H%M%S%z"), self.world.created.strftime("%Y-%m-%d"),
                       "1", "Сведения указаны", self.world.patient.snils]
        for value in candidates:
            if value and rx.search(value):
                return value
        return example or current

    def of_length(self, current: str, length: int) -> str:
        digits = "".join(ch for ch in current if ch.isdigit()) or "1"
        return (digits * (length // len(digits) + 1))[:length]

    def plain(self, target: Any) -> str:
        return "1" if isinstance(target, tuple) else "Сведения"

    def beyond(self, bound: str, op: str) -> str:
        if op in ("<=", ">=", "="):
            return bound
        if _numeric(bound):
            number = float(bound) + (1 if op == ">" else -1)
            return str(int(number)) if number.is_integer() else str(number)
        return bound


def fit_schematron(doc: etree._Element, sch: Path, world: World,
                   refit: Callable[[etree._Element], None] | None = None) -> FitReport:
    """Change ``doc`` until the Schematron ``sch`` finds nothing (or no round helps any more).

    ``refit`` is applied after each round (the XSD fitting). Returns what was left failing.
    """
    from mock_remd.validation.schematron.model import parse_schema
    from mock_remd.validation.schematron.runner import get_validator

    validator = get_validator(sch, mode="tolerant")  # a draft may make a test raise: skip it
    schema = _schemas.get(validator.key)
    if schema is None:
        schema = _schemas[validator.key] = parse_schema(sch.read_bytes())
    checks = schema.checks()
    fixer = _Fixer(schema.namespaces, _Values(world))
    report = FitReport()
    seen: set[tuple[tuple[int, str], ...]] = set()
    failures: list[tuple[int, str]] = []
    for report.rounds in range(1, MAX_ROUNDS + 1):
        failures = validator.failures(etree.tostring(doc))
        state = tuple(failures)
        if not failures or state in seen:
            break
        seen.add(state)
        located = [(index, _locate(doc, location)) for index, location in failures]  # before any change
        for index, node in located:
            if node is None or (node is not doc and doc not in node.iterancestors()):
                continue  # gone with an earlier repair of this round
            check = checks[index]
            try:
                tok = fixer.token(check.test)
            except Exception:  # an expression elementpath cannot parse: nothing to learn from it
                continue
            try:
                if check.kind == "assert":
                    fixer.make_true(tok, node)
                else:
                    fixer.make_false(tok, node)
            except Exception:  # a repair we cannot make must not stop the document: it stays failing
                log.warning("the generator could not repair %r", check.test, exc_info=True)
        if refit is not None:
            refit(doc)
    report.remaining = [checks[i].test for i, _ in failures]
    return report


_schemas: dict[str, Any] = {}

# ---- helpers ----------------------------------------------------------------------------------------
_COMPARISONS = {"=": "=", "!=": "!=", "<=": "<=", ">=": ">=", "<": "<", ">": ">",
                "eq": "=", "ne": "!=", "le": "<=", "ge": ">=", "lt": "<", "gt": ">"}
_NEGATED = {"=": "!=", "!=": "=", "<=": ">", ">=": "<", "<": ">=", ">": "<="}
_MIRRORED = {"=": "=", "!=": "!=", "<=": ">=", ">=": "<=", "<": ">", ">": "<"}
_PATH_SYMBOLS = {"(name)", ":", "@", "/", "[", ".", "..", "*", "//"}
_CONSTANT_SYMBOLS = {"(string)", "(integer)", "(decimal)", "(double)", "(", ",", "[", "-", "+"}


def _is_path(tok: Any) -> bool:
    return tok.symbol in _PATH_SYMBOLS and not _is_constant(tok)


def _is_constant(tok: Any) -> bool:
    if tok.symbol in ("(string)", "(integer)", "(decimal)", "(double)"):
        return True
    if tok.symbol in _CONSTANT_SYMBOLS and len(tok):
        return all(_is_constant(c) for c in tok)
    return False


def _alternatives(tok: Any) -> list[Any]:
    if tok.symbol == "or":
        return [a for child in tok for a in _alternatives(child)]
    if tok.symbol == "(" and len(tok) == 1 and tok[0].symbol == "or":
        return _alternatives(tok[0])
    return [tok]


def _flatten(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [v for item in value for v in _flatten(item)]
    if value.__class__.__name__.endswith("Array") and callable(getattr(value, "items", None)):
        return [v for item in value.items() for v in _flatten(item)]
    return [value]


def _atom(value: Any) -> Any:
    text = getattr(value, "value", value)
    return text if isinstance(text, (str, int, float)) else str(text)


def _numeric(value: Any) -> bool:
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False


def _wanted_count(op: str, numbers: list[int], current: int) -> int:
    low, high = numbers[0], numbers[-1]
    if op == "=":
        return min(max(current, low), high) if len(numbers) > 1 and low <= current <= high else (
            low if current < low or len(numbers) == 1 else high)
    if op == "<=":
        return min(current, high)
    if op == "<":
        return min(current, high - 1)
    if op == ">=":
        return max(current, low)
    if op == ">":
        return max(current, low + 1)
    return 1 if low == 0 else 0  # !=


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _steps(tok: Any, ns: dict[str, str]) -> list[_Step] | None:
    """A relative location path as steps; None for what cannot be built (functions, //, unions)."""
    sym = tok.symbol
    if sym == "/" and len(tok) == 2:
        a, b = _steps(tok[0], ns), _steps(tok[1], ns)
        return a + b if a is not None and b is not None else None
    if sym == "[" and len(tok) == 2 and not _is_constant(tok):
        base = _steps(tok[0], ns)
        if not base:
            return None
        last = base[-1]
        pred = tok[1]
        if pred.symbol == "(integer)":
            base[-1] = _Step(last.axis, last.name, last.predicates, int(pred.value))
        else:
            base[-1] = _Step(last.axis, last.name, last.predicates + (pred,), last.position)
        return base
    if sym == "(name)":
        return [_Step("child", f"{{{V3}}}{tok.value}")]
    if sym == ":" and len(tok) == 2:
        uri = ns.get(tok[0].value)
        return [_Step("child", f"{{{uri}}}{tok[1].value}")] if uri else None
    if sym == "@" and len(tok) == 1:
        inner = tok[0]
        if inner.symbol == "(name)":
            return [_Step("attribute", inner.value)]
        if inner.symbol == ":" and len(inner) == 2:
            uri = ns.get(inner[0].value)
            return [_Step("attribute", f"{{{uri}}}{inner[1].value}")] if uri else None
        return None
    if sym == ".":
        return [_Step("self")]
    if sym == "..":
        return [_Step("parent")]
    return None


def _remove(item: Any) -> None:
    if isinstance(item, tuple):
        elem, attr = item
        elem.attrib.pop(attr, None)
    else:
        parent = item.getparent()
        if parent is not None:
            parent.remove(item)


def _index_path(node: etree._Element) -> list[int]:
    out = []
    parent = node.getparent()
    while parent is not None:
        out.append(parent.index(node))
        node, parent = parent, parent.getparent()
    return out[::-1]


def _follow(root: etree._Element, path: list[int]) -> etree._Element | None:
    node = root
    for i in path:
        if i >= len(node):
            return None
        node = node[i]
    return node


def _is_placeholder(item: Any) -> bool:
    from mock_remd.generator.conform import SYNTHESISED

    elem = item[0] if isinstance(item, tuple) else item
    return any(a.get(SYNTHESISED) is not None for a in [elem, *elem.iterancestors()])


def _branch(item: Any, top: etree._Element, found: list[Any]) -> Any:
    """The child of ``top`` that ``item`` hangs on, if no other item of ``found`` hangs on it too."""
    if isinstance(item, tuple):
        return item
    elems = {id(f) for f in found if not isinstance(f, tuple)}
    branch = item
    for ancestor in item.iterancestors():
        if ancestor is top:
            break
        branch = ancestor
    else:
        return item
    if branch is item:
        return item
    others = [e for e in branch.iter() if id(e) in elems and e is not item]
    return item if others else branch


def _set_text(elem: etree._Element, value: str) -> None:
    if elem.get("nullFlavor") is not None and value:
        del elem.attrib["nullFlavor"]
    elem.text = value


def _re_flags(flags: str) -> int:
    out = 0
    for ch in flags:
        out |= {"i": re.I, "s": re.S, "m": re.M, "x": re.X}.get(ch, 0)
    return out


_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")
_STEP_RX = re.compile(r"^(?:Q\{([^}]*)\})?([A-Za-z_][\w.\-]*)\[(\d+)\]$")


def _locate(doc: etree._Element, location: str) -> etree._Element | None:
    """The element a Saxon ``path()`` names (``/Q{}ClinicalDocument[1]/Q{}component[1]``); for an
    attribute, its element."""
    node: etree._Element | None = None
    for step in location.strip("/").split("/"):
        if step.startswith("@"):
            break
        m = _STEP_RX.match(step)
        if m is None:
            return None
        uri = m.group(1) or V3
        tag = f"{{{uri}}}{m.group(2)}"
        index = int(m.group(3))
        if node is None:
            if doc.tag != tag:
                return None
            node = doc
            continue
        same = [c for c in node if c.tag == tag]
        if index > len(same):
            return None
        node = same[index - 1]
    return node


def regex_example(pattern: str) -> str:
    """The shortest string an XSD/XPath regular expression accepts (first branch, least repeats)."""
    from elementpath.regex import translate_pattern

    try:
        return _example(translate_pattern(pattern, back_references=False, anchors=False))
    except Exception:  # a pattern elementpath cannot translate
        return ""


def _example(pattern: str) -> str:
    """The shortest string a Python regular expression accepts (first branch, least repeats)."""
    try:
        import re._parser as sre_parse  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - Python < 3.11
        import sre_parse  # type: ignore[no-redef]
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return ""
    return _emit(parsed)


def _emit(items: Iterable[Any]) -> str:
    import re._constants as c  # type: ignore[import-not-found]

    out = []
    for op, arg in items:
        if op == c.LITERAL:
            out.append(chr(arg))
        elif op == c.IN:
            out.append(_first_in(arg))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            low, _high, sub = arg
            out.append(_emit(sub) * max(low, 0))
        elif op == c.SUBPATTERN:
            out.append(_emit(arg[-1]))
        elif op == c.BRANCH:
            out.append(_emit(arg[1][0]))
        elif op == c.ANY:
            out.append(".")
        elif op == c.CATEGORY:
            out.append(_category(arg))
    return "".join(out)


def _first_in(arg: list[Any]) -> str:
    import re._constants as c  # type: ignore[import-not-found]

    if arg and arg[0][0] == c.NEGATE:
        for candidate in ".1a -":
            if not any(_in_item(op, value, ord(candidate)) for op, value in arg[1:]):
                return candidate
        return "~"
    for op, value in arg:
        if op == c.LITERAL:
            return chr(value)
        if op == c.RANGE:
            return chr(value[0])
        if op == c.CATEGORY:
            return _category(value)
    return "1"


def _in_item(op: Any, value: Any, code: int) -> bool:
    import re._constants as c  # type: ignore[import-not-found]

    if op == c.LITERAL:
        return value == code
    if op == c.RANGE:
        return value[0] <= code <= value[1]
    if op == c.CATEGORY:
        return _category(value) == chr(code)
    return False


def _category(arg: Any) -> str:
    name = str(arg)
    if "DIGIT" in name and "NOT" not in name:
        return "1"
    if "SPACE" in name and "NOT" not in name:
        return " "
    return "a"


def _display(elem: etree._Element) -> str:
    system, code = elem.get("codeSystem", ""), elem.get("code", "")
    from mock_remd.generator import nsi

    if system == nsi.SECTION("", "").system and code in nsi.SECTION_NAMES:
        return nsi.SECTION_NAMES[code]
    return f"Значение {code}" if code else "Значение"


def _known_systems() -> tuple[dict[str, str], dict[str, str]]:
    from mock_remd.generator import nsi

    names, versions = {}, {}
    for value in vars(nsi).values():
        if callable(value) and getattr(value, "__closure__", None):
            try:
                sample = value("", "")
            except TypeError:
                continue
            names[sample.system] = sample.system_name
            versions[sample.system] = sample.version
    return names, versions


_SYSTEM_NAMES, _SYSTEM_VERSIONS = _known_systems()
