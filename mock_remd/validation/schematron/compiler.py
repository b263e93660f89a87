"""Compile a :class:`~.model.Schema` to an XSLT 3.0 stylesheet whose text output lists the findings.

Two forms share one output protocol:

* :func:`compile_optimised` — what the service runs. Every rule context is turned into the select
  expression that yields exactly the nodes the match pattern matches; rules sharing leading steps
  share one variable (``//ClinicalDocument/component/structuredBody/component`` is walked once for
  the ~180 section rules), and "first matching rule in a pattern wins" is expressed with ``except``
  over the earlier rules of the pattern. The document is never traversed once per pattern.
  A select expression is not a match pattern: ``current()`` there is the instruction's context
  item (the document node), not the node being matched. Contexts where the two would differ are
  planned by :func:`~.xpath.plan_branch` — ``current()`` in the last predicate is bound to the
  candidate with ``let``; anything else is tested with a real ``xsl:template match=`` on a
  candidate superset.
* :func:`compile_reference` — the textbook ISO Schematron translation: one mode per pattern, one
  template per rule with descending priority, a full traversal of the document per pattern.
  Slow, obviously right; tests compare the two. Its ``matches()`` calls run on Saxon's own XPath
  regex engine; the optimised form moves those whose regex means the same there to Java's
  (:mod:`.java_regex`), several times faster on the packs' OID patterns.

Output protocol (``method="text"``): records start with U+E000, fields are separated by U+E001:
``F<i><location><dynamic text>`` for a fired assert/report number *i* (document order of the
checks in the schema), ``C<j><n>`` for rule number *j* having fired on *n* nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from mock_remd.validation.schematron.java_regex import rewrite_matches
from mock_remd.validation.schematron.model import Check, Let, Schema
from mock_remd.validation.schematron.xpath import (
    ALL_NODES,
    hoist_child_predicate,
    plan_branch,
    split_steps,
    split_union,
)

XSL_NS = "http://www.w3.org/1999/XSL/Transform"
_X = "{" + XSL_NS + "}"
REC = "\ue000"
SEP = "\ue001"

#: Bump when the generated XSLT changes, so disk caches are invalidated.
COMPILER_VERSION = "8"


@dataclass
class CompiledSchematron:
    """The XSLT text plus what Python needs to turn its output into findings."""

    xslt: str
    #: per check index: [kind ("assert"/"report"), static text or None, id attribute]
    checks: list[list[str | None]] = field(default_factory=list)
    namespaces: dict[str, str] = field(default_factory=dict)
    rule_count: int = 0
    mode: str = "optimised"

    def as_json(self) -> dict:
        """A JSON-serialisable form (for the disk cache)."""
        return {
            "xslt": self.xslt,
            "checks": self.checks,
            "namespaces": self.namespaces,
            "rule_count": self.rule_count,
            "mode": self.mode,
        }

    @classmethod
    def from_json(cls, data: dict) -> CompiledSchematron:
        """Inverse of :meth:`as_json`."""
        return cls(data["xslt"], data["checks"], data["namespaces"], data["rule_count"], data["mode"])


def _stylesheet(schema: Schema) -> etree._Element:
    nsmap = {"xsl": XSL_NS, "xs": "http://www.w3.org/2001/XMLSchema"}
    for prefix, uri in schema.namespaces.items():
        if prefix and prefix not in nsmap:
            nsmap[prefix] = uri
    root = etree.Element(_X + "stylesheet", nsmap=nsmap, version="3.0")
    root.set("exclude-result-prefixes", "#all")
    etree.SubElement(root, _X + "output", method="text", encoding="UTF-8")
    for let in schema.lets + [let for p in schema.patterns for let in p.lets]:
        etree.SubElement(root, _X + "variable", name=let.name, select=let.value)
    return root


def _text(parent: etree._Element, text: str) -> None:
    etree.SubElement(parent, _X + "text").text = text


def _lets(parent: etree._Element, lets: list[Let]) -> None:
    for let in lets:
        etree.SubElement(parent, _X + "variable", name=let.name, select=let.value)


def _emit_check(parent: etree._Element, check: Check, index: int, *, java_regex: bool = False,
                tolerant: bool = False) -> None:
    """``xsl:if`` that writes the F record when the assert fails / the report fires; with ``java_regex``
    the ``matches()`` calls that mean the same on Java's regex engine run there (see :mod:`.java_regex`);
    ``tolerant`` wraps it in ``xsl:try`` so a dynamic error in one test (``matches(a, b)`` with ``b``
    absent) reports that test as failed instead of stopping the run."""
    test = rewrite_matches(check.test) if java_regex else check.test
    test = f"not({test})" if check.kind == "assert" else test
    if tolerant:
        parent = etree.SubElement(parent, _X + "try")
    cond = etree.SubElement(parent, _X + "if", test=test)
    if tolerant:  # counted as failed/fired, with the location, so the caller can act on it
        caught = etree.SubElement(parent, _X + "catch")
        _text(caught, f"{REC}F{SEP}{index}{SEP}")
        etree.SubElement(caught, _X + "value-of", select="path()")
        _text(caught, SEP)
    _text(cond, f"{REC}F{SEP}{index}{SEP}")
    etree.SubElement(cond, _X + "value-of", select="path()")
    _text(cond, SEP)
    if check.static_text is None:
        for part in check.message:
            if isinstance(part, str):
                _text(cond, part)
            elif part[0] == "value-of":
                etree.SubElement(cond, _X + "value-of", select=part[1])
            else:
                etree.SubElement(cond, _X + "value-of", select=f"name({part[1] or '.'})")


def _meta(schema: Schema, xslt: str, mode: str) -> CompiledSchematron:
    return CompiledSchematron(
        xslt=xslt,
        checks=[[c.kind, c.static_text, c.id] for c in schema.checks()],
        namespaces=dict(schema.namespaces),
        rule_count=len(schema.rules()),
        mode=mode,
    )


class _Prefixes:
    """Shared leading steps of rule selects, each bound once to a variable."""

    def __init__(self) -> None:
        self.uses: dict[tuple[str, ...], int] = {}
        self.names: dict[tuple[str, ...], str] = {}

    def count(self, steps: list[str]) -> None:
        for k in range(1, len(steps)):
            key = tuple(steps[:k])
            self.uses[key] = self.uses.get(key, 0) + 1

    def expr(self, key: tuple[str, ...]) -> str:
        """The expression for the node sequence reached by ``key`` (a variable when shared)."""
        if key in self.names:
            return "$" + self.names[key]
        if len(key) == 1:
            return key[0]
        return f"{self.expr(key[:-1])}/{key[-1]}"

    def declare(self, parent: etree._Element) -> None:
        """Bind every prefix used by two or more branches, parents first (global, lazily evaluated)."""
        for key in sorted(self.uses, key=len):
            if self.uses[key] >= 2:
                value = self.expr(key)
                name = f"_sx_p{len(self.names)}"
                etree.SubElement(parent, _X + "variable", name=name, select=value)
                self.names[key] = name


def compile_optimised(schema: Schema, tolerant: bool = False) -> CompiledSchematron:
    """The fast form: one pass per distinct path prefix, rules as select expressions (see module doc).

    A context branch whose meaning as a select expression would differ from its meaning as a match
    pattern (``current()`` other than in the last predicate, function or variable heads, …) is
    matched by a real ``xsl:template match=`` in a mode of its own, applied to a candidate superset
    (see :func:`~.xpath.plan_branch`). ``tolerant`` reports a test that raises a dynamic error as failed (the
    document generator's drafts meet those; the service reports them as the registry does).
    """
    root = _stylesheet(schema)
    prefixes = _Prefixes()
    # per rule, per branch: split steps, a whole select expression, or (pattern, candidates)
    branch_plans: list[list[list[str] | str | tuple[str, str]]] = []
    for rule in schema.rules():
        branches: list[list[str] | str | tuple[str, str]] = []
        for branch in split_union(rule.context):
            plan = plan_branch(branch)
            if plan.select is None:
                branches.append((branch, plan.candidates or ALL_NODES))
                continue
            select = hoist_child_predicate(plan.select)
            steps = split_steps(select)
            if steps is None:
                branches.append(select)
            else:
                prefixes.count(steps)
                branches.append(steps)
        branch_plans.append(branches)
    prefixes.declare(root)
    main = etree.SubElement(root, _X + "template", match="/")

    rule_index = 0
    check_index = 0
    for p_index, pattern in enumerate(schema.patterns):
        # one named template per pattern keeps each unit small for Saxon's optimiser
        name = f"_sx_pattern{p_index}"
        etree.SubElement(main, _X + "call-template", name=name)
        body = etree.SubElement(root, _X + "template", name=name)
        earlier: list[str] = []
        for rule in pattern.rules:
            parts = []
            for b_index, b in enumerate(branch_plans[rule_index]):
                if isinstance(b, tuple):
                    parts.append(
                        "$" + _matched_by_template(root, body, b[0], b[1], f"{rule_index}_{b_index}")
                    )
                elif isinstance(b, str):
                    parts.append(f"({b})")
                else:
                    parts.append(prefixes.expr(tuple(b)))  # a variable when the whole path is shared
            matched = f"_sx_m{rule_index}"
            etree.SubElement(body, _X + "variable", name=matched, select=" | ".join(parts))
            effective = f"_sx_r{rule_index}"
            select = f"${matched}"
            if earlier:
                select = f"${matched} except ({' | '.join('$' + e for e in earlier)})"
            etree.SubElement(body, _X + "variable", name=effective, select=select)
            earlier.append(matched)
            each = etree.SubElement(body, _X + "for-each", select=f"${effective}")
            # the count written from inside the loop: exists() and count() on the variable made Saxon
            # build the node sequence in memory before the loop (8 % of the 186 pack's run)
            first = etree.SubElement(each, _X + "if", test="position() = 1")
            _text(first, f"{REC}C{SEP}{rule_index}{SEP}")
            etree.SubElement(first, _X + "value-of", select="last()")
            _lets(each, rule.lets)
            for check in rule.checks:
                _emit_check(each, check, check_index, java_regex=True, tolerant=tolerant)
                check_index += 1
            rule_index += 1
    xslt = etree.tostring(root, encoding="unicode")
    return _meta(schema, xslt, "tolerant" if tolerant else "optimised")


def compile_tolerant(schema: Schema) -> CompiledSchematron:
    """:func:`compile_optimised` with every test in ``xsl:try``."""
    return compile_optimised(schema, tolerant=True)


def _matched_by_template(
    root: etree._Element, body: etree._Element, pattern: str, candidates: str, suffix: str
) -> str:
    """Bind, in ``body``, the candidates that match ``pattern`` as a true match pattern; the variable name.

    A mode of its own with one template returning the node, and ``deep-skip`` for everything else.
    ``as="node()*"`` keeps the variable a sequence of the document's nodes (no temporary tree).
    """
    mode = f"_sx_match{suffix}"
    etree.SubElement(root, _X + "mode", name=mode, attrib={"on-no-match": "deep-skip"})
    tpl = etree.SubElement(root, _X + "template", match=pattern, mode=mode)
    etree.SubElement(tpl, _X + "sequence", select=".")
    name = f"_sx_t{suffix}"
    var = etree.SubElement(body, _X + "variable", name=name, attrib={"as": "node()*"})
    etree.SubElement(var, _X + "apply-templates", select=candidates, mode=mode)
    return name


def compile_reference(schema: Schema) -> CompiledSchematron:
    """The straightforward form: a template per rule, a mode and a full traversal per pattern."""
    root = _stylesheet(schema)
    main = etree.SubElement(root, _X + "template", match="/")
    rule_index = 0
    check_index = 0
    for p_index, pattern in enumerate(schema.patterns):
        mode = f"_sx_pattern{p_index}"
        etree.SubElement(main, _X + "apply-templates", select=".", mode=mode)
        walk = etree.SubElement(root, _X + "template", match="/ | @* | node()", mode=mode, priority="-100")
        etree.SubElement(walk, _X + "apply-templates", select="@* | node()", mode=mode)
        for r_pos, rule in enumerate(pattern.rules):
            tpl = etree.SubElement(
                root, _X + "template", match=rule.context, mode=mode, priority=str(len(pattern.rules) - r_pos)
            )
            _lets(tpl, rule.lets)
            _text(tpl, f"{REC}C{SEP}{rule_index}{SEP}1")
            for check in rule.checks:
                _emit_check(tpl, check, check_index)
                check_index += 1
            etree.SubElement(tpl, _X + "apply-templates", select="@* | node()", mode=mode)
            rule_index += 1
    xslt = etree.tostring(root, encoding="unicode")
    return _meta(schema, xslt, "reference")
