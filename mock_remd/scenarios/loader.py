"""Reading scenario text into a tree that remembers where every value came from.

PyYAML's ``compose`` keeps the start mark of each node; :class:`Node` carries it along with the
plain Python value, so the linter can say "line 12, key rules[1].match.nth". JSON uploads go
through :func:`from_python` and have no line numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from mock_remd.catalog import user_messages as um
from mock_remd.catalog.user_messages import DEFAULT_LANG, Text, render
from mock_remd.yamlsafe import DEFAULT_LIMITS, YamlLimitError, YamlSyntaxError, compose_documents


@dataclass
class Issue:
    """One mistake in a scenario file: where (file, line, key path) and what."""

    #: a catalogue :class:`Text` (rendered in the reader's language) or a sentence of one language
    message: Text | str
    key: str = ""
    line: int | None = None
    file: str = ""

    def as_dict(self, lang: str | None = None) -> dict[str, Any]:
        """``file``, ``line``, ``key``, ``message`` (rendered in ``lang``, else left for the caller to render)."""
        message = self.message if lang is None else render(lang, self.message)
        return {"file": self.file, "line": self.line, "key": self.key, "message": message}

    def render(self, lang: str) -> str:
        """``FILE:LINE: KEY: message`` in ``lang``."""
        where = self.file or "<scenario>"
        if self.line is not None:
            where += f":{self.line}"
        return f"{where}: {self.key + ': ' if self.key else ''}{render(lang, self.message)}"

    def __str__(self) -> str:
        return self.render(DEFAULT_LANG)


@dataclass
class Node:
    """A value of the scenario document with its line (1-based, None when unknown).

    ``kind`` is ``map``, ``list`` or ``scalar``; maps keep ``keys`` (name → line of the key) and
    ``items`` (name → Node), lists keep ``elements``.
    """

    kind: str
    line: int | None
    value: Any = None
    items: dict[str, Node] = field(default_factory=dict)
    keys: dict[str, int | None] = field(default_factory=dict)
    elements: list[Node] = field(default_factory=list)
    duplicates: list[tuple[str, int | None]] = field(default_factory=list)

    def plain(self) -> Any:
        """The value as plain Python (dicts, lists, scalars)."""
        if self.kind == "map":
            return {k: v.plain() for k, v in self.items.items()}
        if self.kind == "list":
            return [e.plain() for e in self.elements]
        return self.value


class ScenarioSyntaxError(ValueError):
    """The text is not YAML/JSON at all; carries the :class:`Issue`."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(str(issue))
        self.issue = issue


def _line(node: yaml.Node) -> int | None:
    return node.start_mark.line + 1 if node.start_mark is not None else None


def _convert(node: yaml.Node, constructor: SafeConstructor) -> Node:
    if isinstance(node, yaml.MappingNode):
        out = Node("map", _line(node))
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            name = str(key)
            if name in out.items:
                out.duplicates.append((name, _line(key_node)))
            out.items[name] = _convert(value_node, constructor)
            out.keys[name] = _line(key_node)
        return out
    if isinstance(node, yaml.SequenceNode):
        return Node("list", _line(node), elements=[_convert(e, constructor) for e in node.value])
    return Node("scalar", _line(node), value=constructor.construct_object(node, deep=True))


def from_python(value: Any) -> Node:
    """A :class:`Node` tree for already parsed data (JSON uploads): no line numbers."""
    if isinstance(value, dict):
        out = Node("map", None)
        for k, v in value.items():
            out.items[str(k)] = from_python(v)
            out.keys[str(k)] = None
        return out
    if isinstance(value, list):
        return Node("list", None, elements=[from_python(v) for v in value])
    return Node("scalar", None, value=value)


def parse_text(text: str, *, filename: str = "", content_type: str = "") -> Node:
    """Parse one scenario document (YAML, or JSON when ``content_type`` says so).

    Raises :class:`ScenarioSyntaxError` naming the line of the syntax error, or when the text holds
    several YAML documents or none.
    """
    size = len(text.encode("utf-8"))
    if size > DEFAULT_LIMITS.max_bytes:
        raise ScenarioSyntaxError(Issue(um.text("lint.too_big", size=size, limit=DEFAULT_LIMITS.max_bytes), file=filename))
    if "json" in (content_type or "").lower():
        try:
            return from_python(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ScenarioSyntaxError(Issue(um.text("lint.not_json", column=exc.colno), line=exc.lineno,
                                            file=filename)) from exc
        except RecursionError as exc:
            raise ScenarioSyntaxError(Issue(um.text("lint.too_deep", depth=DEFAULT_LIMITS.max_depth),
                                            file=filename)) from exc
    try:
        nodes = compose_documents(text)
    except YamlLimitError as exc:
        raise ScenarioSyntaxError(Issue(um.yaml_what(exc), line=exc.line, file=filename)) from exc
    except YamlSyntaxError as exc:
        what = um.text("lint.not_yaml_at", column=exc.column, what=um.yaml_what(exc)) if exc.column \
            else um.text("lint.not_yaml", what=um.yaml_what(exc))
        raise ScenarioSyntaxError(Issue(what, line=exc.line, file=filename)) from exc
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        raise ScenarioSyntaxError(Issue(um.text("lint.empty_file"), file=filename, line=1))
    if len(nodes) > 1:
        raise ScenarioSyntaxError(
            Issue(um.text("lint.several_docs"), file=filename, line=_line(nodes[1]))
        )
    try:
        return _convert(nodes[0], SafeConstructor())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ScenarioSyntaxError(
            Issue(um.text("lint.not_yaml", what=um.text("yaml.what.other")), file=filename,
                  line=mark.line + 1 if mark else None)
        ) from exc
