"""Read an ISO Schematron file into plain, JSON-friendly data (no XSLT knowledge here)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from mock_remd.xmlsafe import parse_bytes

SCH_NS = "http://purl.oclc.org/dsdl/schematron"
_Q = "{" + SCH_NS + "}"

#: Elements this compiler understands; anything else in the schema namespace is refused.
SUPPORTED = {
    "schema",
    "ns",
    "pattern",
    "rule",
    "assert",
    "report",
    "let",
    "value-of",
    "name",
    "title",
    "p",
    "emph",
    "dir",
    "span",
}

#: A message part: plain text, or ("value-of", expr), or ("name", path or "").
MessagePart = str | tuple[str, str]


class SchematronError(ValueError):
    """The schema uses something this compiler does not support, or is malformed; :attr:`detail` is the
    compiler's description (English, for ``--verbose`` and the log)."""

    @property
    def detail(self) -> str:
        """What the compiler found, as raised."""
        return str(self.args[0]) if self.args else ""


@dataclass
class Check:
    """One ``assert`` (fails when its test is false) or ``report`` (fires when its test is true)."""

    kind: str  # "assert" | "report"
    test: str
    message: list[MessagePart]
    id: str = ""
    role: str = ""
    flag: str = ""

    @property
    def static_text(self) -> str | None:
        """The message when it has no dynamic parts (whitespace normalised), else None."""
        if all(isinstance(p, str) for p in self.message):
            return normalize_space("".join(self.message))  # type: ignore[arg-type]
        return None


@dataclass
class Let:
    name: str
    value: str


@dataclass
class Rule:
    context: str
    checks: list[Check] = field(default_factory=list)
    lets: list[Let] = field(default_factory=list)


@dataclass
class Pattern:
    id: str = ""
    rules: list[Rule] = field(default_factory=list)
    lets: list[Let] = field(default_factory=list)


@dataclass
class Schema:
    """The parts of an ISO Schematron schema that influence validation results."""

    query_binding: str = "xslt2"
    namespaces: dict[str, str] = field(default_factory=dict)
    lets: list[Let] = field(default_factory=list)
    patterns: list[Pattern] = field(default_factory=list)

    def checks(self) -> list[Check]:
        """Every assert/report in document order (their index is the id used in compiled output)."""
        return [c for p in self.patterns for r in p.rules for c in r.checks]

    def rules(self) -> list[Rule]:
        """Every rule in document order (their index is the id used in compiled output)."""
        return [r for p in self.patterns for r in p.rules]


def normalize_space(text: str) -> str:
    """XPath ``normalize-space``."""
    return re.sub(r"\s+", " ", text).strip()


def _local(el: etree._Element) -> str:
    if not isinstance(el.tag, str):
        return ""
    if not el.tag.startswith(_Q):
        raise SchematronError(
            f"line {el.sourceline}: element {el.tag} outside the Schematron namespace is not supported"
        )
    name = el.tag[len(_Q) :]
    if name not in SUPPORTED:
        raise SchematronError(
            f"line {el.sourceline}: Schematron element <{name}> is not supported by this compiler"
        )
    return name


def _let(el: etree._Element) -> Let:
    name, value = el.get("name"), el.get("value")
    if not name or value is None:
        raise SchematronError(f"line {el.sourceline}: <let> needs @name and @value")
    return Let(name, value)


def _message(el: etree._Element) -> list[MessagePart]:
    parts: list[MessagePart] = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str):
            name = _local(child)
            if name == "value-of":
                select = child.get("select")
                if not select:
                    raise SchematronError(f"line {child.sourceline}: <value-of> needs @select")
                parts.append(("value-of", select))
            elif name == "name":
                parts.append(("name", child.get("path", "")))
            else:  # emph, dir, span: keep their text content
                parts.extend(_message(child))
        parts.append(child.tail or "")
    merged: list[MessagePart] = []
    for p in parts:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] = merged[-1] + p
        elif p != "":
            merged.append(p)
    return merged


def _rule(el: etree._Element) -> Rule:
    if el.get("abstract") == "true" or el.get("context") is None:
        raise SchematronError(
            f"line {el.sourceline}: abstract rules / rules without @context are not supported"
        )
    rule = Rule(context=el.get("context", ""))
    for child in el:
        if not isinstance(child.tag, str):
            continue
        name = _local(child)
        if name == "let":
            rule.lets.append(_let(child))
        elif name in ("assert", "report"):
            test = child.get("test")
            if test is None:
                raise SchematronError(f"line {child.sourceline}: <{name}> needs @test")
            rule.checks.append(
                Check(
                    name,
                    test,
                    _message(child),
                    child.get("id", ""),
                    child.get("role", ""),
                    child.get("flag", ""),
                )
            )
        elif name not in ("title", "p"):
            raise SchematronError(f"line {child.sourceline}: <{name}> inside <rule> is not supported")
    return rule


def parse_schema(data: bytes) -> Schema:
    """Parse Schematron bytes (safely: no DTD/entities/network) into a :class:`Schema`."""
    root = parse_bytes(data.removeprefix(b"\xef\xbb\xbf"))
    if _local(root) != "schema":
        raise SchematronError("the root element is not an ISO Schematron <schema>")
    schema = Schema(query_binding=(root.get("queryBinding") or "xslt2").lower())
    if schema.query_binding not in ("xslt2", "xslt3", "xpath2", "xpath3", "xpath31"):
        raise SchematronError(
            f'queryBinding="{schema.query_binding}" is not supported (xslt2/xslt3 expected)'
        )
    for child in root:
        if not isinstance(child.tag, str):
            continue
        name = _local(child)
        if name == "ns":
            schema.namespaces[child.get("prefix", "")] = child.get("uri", "")
        elif name == "let":
            schema.lets.append(_let(child))
        elif name == "pattern":
            if child.get("abstract") == "true" or child.get("is-a"):
                raise SchematronError(f"line {child.sourceline}: abstract patterns are not supported")
            pattern = Pattern(id=child.get("id", ""))
            for sub in child:
                if not isinstance(sub.tag, str):
                    continue
                sub_name = _local(sub)
                if sub_name == "rule":
                    pattern.rules.append(_rule(sub))
                elif sub_name == "let":
                    pattern.lets.append(_let(sub))
                elif sub_name not in ("title", "p"):
                    raise SchematronError(
                        f"line {sub.sourceline}: <{sub_name}> inside <pattern> is not supported"
                    )
            schema.patterns.append(pattern)
        elif name not in ("title", "p"):
            raise SchematronError(f"line {child.sourceline}: <{name}> inside <schema> is not supported")
    return schema
