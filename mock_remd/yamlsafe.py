"""Safe YAML reading: a size limit, a depth limit, an alias limit and a bound on what aliases expand to.

Every YAML the project reads (scenario files and uploads, the config file, conformance plans) goes
through here, so an alias bomb ("billion laughs" in YAML: a few hundred bytes that expand to
billions of values) or a deeply nested document is refused in milliseconds, with a message naming
the limit, before anything is built from it. PyYAML's safe loader is kept for the syntax and the
types; the checks run on its node graph, where an alias is still one shared node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor


@dataclass(frozen=True)
class YamlLimits:
    """Bounds of one YAML text."""

    #: size of the text, bytes (UTF-8)
    max_bytes: int = 1024 * 1024
    #: nesting of lists and mappings, also counted through aliases
    max_depth: int = 64
    #: alias uses (``*name``) in the whole text
    max_aliases: int = 200
    #: values (scalars, lists, mappings) once every alias is expanded
    max_values: int = 100_000


DEFAULT_LIMITS = YamlLimits()


class YamlLimitError(ValueError):
    """The text is over one of the :class:`YamlLimits`; the message names the limit."""

    def __init__(self, message: str, *, limit: str, line: int | None = None) -> None:
        super().__init__(message + (f" (line {line})" if line is not None else ""))
        self.reason = message
        self.limit = limit
        self.line = line


class YamlSyntaxError(ValueError):
    """The text is not YAML; ``line`` is where the parser stopped (1-based) when known."""

    def __init__(self, problem: str, *, line: int | None = None) -> None:
        super().__init__(f"not valid YAML: {problem}" + (f" (line {line})" if line is not None else ""))
        self.problem = problem
        self.line = line


def _line(node_or_event: Any) -> int | None:
    mark = getattr(node_or_event, "start_mark", None)
    return mark.line + 1 if mark is not None else None


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader whose composer counts nesting and aliases as it builds nodes."""

    def __init__(self, stream: str, limits: YamlLimits) -> None:
        super().__init__(stream)
        self.limits = limits
        self.depth = 0
        self.aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > self.limits.max_aliases:
                raise YamlLimitError(
                    f"more than {self.limits.max_aliases} aliases (*name): over the YAML alias limit",
                    limit="max_aliases", line=_line(self.peek_event()))
        self.depth += 1
        try:
            if self.depth > self.limits.max_depth:
                raise YamlLimitError(f"nested deeper than {self.limits.max_depth} levels: over the YAML depth limit",
                                     limit="max_depth", line=_line(self.peek_event()))
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _check_expansion(root: yaml.Node, limits: YamlLimits, seen: dict[int, tuple[int, int]]) -> None:
    """Bound the values and the depth ``root`` stands for with every alias expanded.

    Shared nodes are measured once (``seen``: id -> (values, depth)), so this is linear in the text
    even for a bomb; a node that contains itself is refused (it would expand forever).
    """
    busy: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in seen:
            continue
        children = _children(node)
        if not children_done:
            if key in busy:
                raise YamlLimitError("an alias refers to a value that contains it: recursive YAML is not accepted",
                                     limit="recursion", line=_line(node))
            busy.add(key)
            stack.append((node, True))
            for child in children:
                if id(child) in busy:
                    raise YamlLimitError("an alias refers to a value that contains it: recursive YAML is not accepted",
                                         limit="recursion", line=_line(child))
                if id(child) not in seen:
                    stack.append((child, False))
            continue
        busy.discard(key)
        values = 1 + sum(seen[id(c)][0] for c in children)
        depth = 1 + max((seen[id(c)][1] for c in children), default=0)
        if values > limits.max_values:
            raise YamlLimitError(
                f"expands to more than {limits.max_values} values through aliases: over the YAML expansion limit",
                limit="max_values", line=_line(node))
        if depth > limits.max_depth:
            raise YamlLimitError(
                f"nested deeper than {limits.max_depth} levels through aliases: over the YAML depth limit",
                limit="max_depth", line=_line(node))
        seen[key] = (values, depth)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_size(text: str | bytes, limits: YamlLimits) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    if len(data) > limits.max_bytes:
        raise YamlLimitError(f"{len(data)} bytes: over the YAML size limit of {limits.max_bytes} bytes",
                             limit="max_bytes")
    if isinstance(text, bytes):
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise YamlSyntaxError(f"not UTF-8 text (byte {exc.start})") from exc
    return text


def compose_documents(text: str | bytes, limits: YamlLimits = DEFAULT_LIMITS) -> list[yaml.Node]:
    """The node graph of every document in ``text`` (empty documents left out), within ``limits``.

    Raises :class:`YamlLimitError` or :class:`YamlSyntaxError`.
    """
    source = _check_size(text, limits)
    nodes: list[yaml.Node] = []
    seen: dict[int, tuple[int, int]] = {}
    loader = None
    try:
        loader = _BoundedLoader(source, limits)  # the reader refuses control characters right here
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                _check_expansion(node, limits, seen)
                nodes.append(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlSyntaxError(exc.problem or exc.context or "syntax error",
                              line=mark.line + 1 if mark is not None else None) from exc
    except yaml.YAMLError as exc:  # e.g. the reader's "special characters are not allowed"
        raise YamlSyntaxError(str(exc).splitlines()[0]) from exc
    finally:
        if loader is not None:
            loader.dispose()
    return nodes


def construct(node: yaml.Node) -> Any:
    """Plain Python (dicts, lists, scalars) for a node checked by :func:`compose_documents`."""
    try:
        return SafeConstructor().construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlSyntaxError(exc.problem or exc.context or "syntax error",
                              line=mark.line + 1 if mark is not None else None) from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(str(exc)) from exc


def load(text: str | bytes, limits: YamlLimits = DEFAULT_LIMITS) -> Any:
    """One YAML document as plain Python (None for an empty text), within ``limits``.

    Several documents (``---``) are refused: every YAML we read holds one.
    """
    nodes = compose_documents(text, limits)
    if not nodes:
        return None
    if len(nodes) > 1:
        raise YamlSyntaxError("several YAML documents (---) where one is expected", line=_line(nodes[1]))
    return construct(nodes[0])


def load_file(path: Any, limits: YamlLimits = DEFAULT_LIMITS) -> Any:
    """:func:`load` of a file, refusing an oversized one before reading it."""
    from pathlib import Path

    p = Path(path)
    size = p.stat().st_size
    if size > limits.max_bytes:
        raise YamlLimitError(f"{size} bytes: over the YAML size limit of {limits.max_bytes} bytes", limit="max_bytes")
    return load(p.read_bytes(), limits)
