"""Assertions over a CDA tree that produce ``VALIDATION_ERROR`` findings shaped like the registry's.

The registry reports a failed document rule as
``Ошибка валидации СЭМД: Элемент <логический путь> должен …. Путь: /ClinicalDocument[1]/…``;
:class:`RuleChecker` builds exactly that text, with the rule id, the XPath and the source line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from lxml import etree

from mock_remd.catalog.findings import FINDINGS
from mock_remd.catalog.findings import text as finding_text
from mock_remd.validation.cda.access import CLARK, NO_CHILDREN, ChildIndex, has_text, node_path
from mock_remd.validation.report import Finding

_FINDING = FINDINGS["cda.finding"].format
_COUNT = FINDINGS["cda.count"].format
_OR = FINDINGS["cda.or"]


class Matcher(Protocol):
    """What :meth:`RuleChecker.attr_matches` checks a value with (a compiled regex, or a faster equivalent)."""

    def match(self, value: str, /) -> object: ...


def _count_phrase(allowed: int | tuple[int, ...] | str) -> str:
    """``1 элемент`` / ``2 элемента`` / ``1 или 2 элемента`` / ``не более 1 элемента``."""
    if allowed == "<=1":
        return finding_text("cda.count.at_most_one")
    if allowed == ">=1":
        return finding_text("cda.count.at_least_one")
    if isinstance(allowed, tuple):
        return finding_text("cda.count.many", n=_OR.join(str(n) for n in allowed))
    return finding_text("cda.count.one", n=allowed) if allowed == 1 else finding_text("cda.count.many", n=allowed)


def _count_ok(n: int, allowed: int | tuple[int, ...] | str) -> bool:
    if allowed == "<=1":
        return n <= 1
    if allowed == ">=1":
        return n >= 1
    if isinstance(allowed, tuple):
        return n in allowed
    return n == allowed


def _quoted(values: Sequence[str]) -> str:
    q = [f"'{v}'" for v in values]
    return q[0] if len(q) == 1 else ", ".join(q[:-1]) + _OR + q[-1]


class RuleChecker:
    """Collects findings; every helper returns True when its condition holds."""

    def __init__(self, code: str = "VALIDATION_ERROR", index: ChildIndex | None = None) -> None:
        self.code = code
        self.findings: list[Finding] = []
        #: each parent's children read once (shared with the document's other readers when given)
        self.index = index if index is not None else ChildIndex()

    def children(self, parent: etree._Element | None, name: str) -> Sequence[etree._Element]:
        """Direct children of ``parent`` called ``name`` (document order; shared: do not change it)."""
        return self.index[parent].get(CLARK[name], NO_CHILDREN)

    # Every check takes the label of the element it names (``label``) and, optionally, ``sub``: the
    # label is then ``label/sub``, written only when the check fails (most checks pass; the words
    # are for the finding).

    # -- reporting ---------------------------------------------------------------------------
    def fail(self, rule: str, at: etree._Element, sentence: str) -> None:
        """Record a failure of ``rule`` located at element ``at``."""
        path = node_path(at)
        self.findings.append(
            Finding(
                self.code,
                _FINDING(sentence=sentence, path=path),
                rule=rule,
                path=path,
                line=at.sourceline,
            )
        )

    # -- structure ---------------------------------------------------------------------------
    def count(
        self,
        rule: str,
        parent: etree._Element,
        label: str,
        name: str,
        allowed: int | tuple[int, ...] | str = 1,
        *,
        display: str | None = None,
        sub: str = "",
    ) -> Sequence[etree._Element]:
        """Check how many ``name`` children ``parent`` has; returns them."""
        found = self.index[parent].get(CLARK[name], NO_CHILDREN)  # index.children(parent, name), without the call
        if not (len(found) == allowed if type(allowed) is int else _count_ok(len(found), allowed)):
            self.fail(
                rule, parent, _COUNT(label=_label(label, sub), count=_count_phrase(allowed), name=display or name)
            )
        return found

    def one(self, rule: str, parent: etree._Element, label: str, name: str, sub: str = "") -> etree._Element | None:
        """Exactly one ``name`` child; returns it (or None when the count is wrong)."""
        found = self.index[parent].get(CLARK[name], NO_CHILDREN)
        if len(found) == 1:
            return found[0]
        self.fail(rule, parent, _COUNT(label=_label(label, sub), count=_count_phrase(1), name=name))
        return None

    def optional(
        self, rule: str, parent: etree._Element, label: str, name: str, sub: str = ""
    ) -> etree._Element | None:
        """At most one ``name`` child; returns it when present."""
        found = self.index[parent].get(CLARK[name], NO_CHILDREN)
        if len(found) > 1:
            self.fail(rule, parent, _COUNT(label=_label(label, sub), count=_count_phrase("<=1"), name=name))
        return found[0] if len(found) == 1 else None

    def no_null_flavor(self, rule: str, el: etree._Element, label: str, sub: str = "") -> bool:
        """``el`` must not carry ``@nullFlavor``."""
        if el is not None and el.get("nullFlavor") is not None:
            self.fail(rule, el, finding_text("cda.no_null_flavor", label=_label(label, sub)))
            return False
        return True

    # -- attributes and text -----------------------------------------------------------------
    def attr_equals(
        self, rule: str, el: etree._Element, label: str, name: str, expected: str, sub: str = ""
    ) -> bool:
        """``@name`` must equal ``expected``."""
        if el.get(name) != expected:
            self.fail(rule, el, finding_text("cda.attr_equals", label=_label(label, sub), name=name, expected=expected))
            return False
        return True

    def attr_in(
        self, rule: str, el: etree._Element, label: str, name: str, allowed: Sequence[str], sub: str = ""
    ) -> bool:
        """``@name`` must be one of ``allowed``."""
        if el.get(name) not in allowed:
            self.fail(
                rule, el,
                finding_text("cda.attr_in", label=_label(label, sub), name=name, allowed=_quoted(allowed)),
            )
            return False
        return True

    def attr_nonempty(self, rule: str, el: etree._Element, label: str, *names: str, sub: str = "") -> bool:
        """Each of ``@names`` must be present and not blank."""
        ok = True
        for name in names:
            if not _filled(el.get(name)):
                self.fail(rule, el, finding_text("cda.attr_nonempty", label=_label(label, sub), name=name))
                ok = False
        return ok

    def attr_present(self, rule: str, el: etree._Element, label: str, name: str, sub: str = "") -> bool:
        """``@name`` must be present."""
        if el.get(name) is None:
            self.fail(rule, el, finding_text("cda.attr_present", label=_label(label, sub), name=name))
            return False
        return True

    def attr_matches(
        self, rule: str, el: etree._Element, label: str, name: str, pattern: Matcher, meaning: str, sub: str = ""
    ) -> bool:
        """``@name`` must match ``pattern``; ``meaning`` says in words what a correct value is."""
        if not pattern.match(el.get(name) or ""):
            self.fail(
                rule,
                el,
                finding_text("cda.attr_matches", label=_label(label, sub), name=name, meaning=meaning),
            )
            return False
        return True

    def text_nonempty(self, rule: str, el: etree._Element, label: str, sub: str = "") -> bool:
        """The element must have non-blank text."""
        if not len(el):  # the usual leaf: its own text is all of it (has_text, without the call)
            own = el.text
            if own and not own.isspace():
                return True
        elif has_text(el):
            return True
        self.fail(rule, el, finding_text("cda.text_nonempty", label=_label(label, sub)))
        return False

    def coded(
        self, rule: str, el: etree._Element, label: str, systems: Sequence[str] | None = None, sub: str = ""
    ) -> bool:
        """A coded value: ``@codeSystem`` from ``systems`` (when given) and the other four attributes filled."""
        get = el.get
        code, name, version, display = get("code"), get("codeSystemName"), get("codeSystemVersion"), get("displayName")
        if (
            (get("codeSystem") in systems if systems else _filled(get("codeSystem")))
            and code and name and version and display  # each _filled, without the calls
            and not (code.isspace() or name.isspace() or version.isspace() or display.isspace())
            and get("nullFlavor") is None
        ):
            return True  # the usual case; otherwise each check in turn, to report each failure
        label = _label(label, sub)
        if systems:
            ok = self.attr_in(rule, el, label, "codeSystem", systems)
        else:
            ok = self.attr_nonempty(rule, el, label, "codeSystem")
        ok = (
            self.attr_nonempty(rule, el, label, "code", "codeSystemName", "codeSystemVersion", "displayName")
            and ok
        )
        return self.no_null_flavor(rule, el, label) and ok


def _label(label: str, sub: str) -> str:
    """``label/sub`` (``label`` when there is no ``sub``)."""
    return f"{label}/{sub}" if sub else label


def _filled(value: str | None) -> bool:
    """What :func:`~mock_remd.validation.cda.access.attr` reads as not empty."""
    return bool(value) and not value.isspace()  # type: ignore[union-attr]
