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
    """The text is over one of the :class:`YamlLimits`.

    ``key`` names the catalogue message (``yaml.limit.*``) and ``values`` fill it: users see it through
    ``catalog.user_messages.yaml_text`` in their language; ``str()`` is for the log only.
    """

    def __init__(self, key: str, *, limit: str, line: int | None = None, **values: object) -> None:
        self.key, self.limit, self.line, self.values = key, limit, line, values
        super().__init__(f"{key} {values} (line {line})")


class YamlSyntaxError(ValueError):
    """The text is not YAML: what is wrong as a catalogue key (``yaml.what.*``) with its values, line and
    column (1-based) when known. The parser's wording never reaches a message (it stays in the chain);
    users see ``catalog.user_messages.yaml_text``, ``str()`` is for the log only."""

    def __init__(self, what: str, *, line: int | None = None, column: int | None = None, **values: object) -> None:
        self.key, self.line, self.column, self.values = f"yaml.what.{what}", line, column, values
        super().__init__(f"{self.key} {values} (line {line}, column {column})")


#: PyYAML's problem wording -> our ``yaml.what.*`` key (first match wins)
_PROBLEMS: tuple[tuple[str, str], ...] = (
    ("'\\t'", "tab"),
    ("tab character", "tab"),
    ("mapping values are not allowed", "colon"),
    ("could not find expected ':'", "no_colon"),
    ("undefined alias", "alias"),
    ("duplicate anchor", "anchor"),
    ("unknown escape", "escape"),
    ("end of stream", "unclosed"),
    ("stream end", "unclosed"),
    ("could not determine a constructor", "tag"),
    ("expected", "indent"),
    ("did not find", "indent"),
)


def _syntax_error(exc: yaml.YAMLError, source: str) -> YamlSyntaxError:
    """Our own sentence for a PyYAML error: the kind of mistake, line and column."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = source.count("\n", 0, exc.position) + 1
        column = exc.position - (source.rfind("\n", 0, exc.position) + 1) + 1
        return YamlSyntaxError("control", line=line, column=column, char=f"U+{exc.character:04X}")
    problem = f"{getattr(exc, 'problem', '') or ''} {getattr(exc, 'context', '') or ''}"
    key = next((k for needle, k in _PROBLEMS if needle in problem), "other")
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    values: dict[str, object] = {}
    if key == "tag":
        node_tag = problem.split("tag", 1)[1].strip().strip("'").lstrip("!") if "tag" in problem else "?"
        values["tag"] = node_tag.replace("tag:yaml.org,2002:", "").split("'")[0][:60]
    return YamlSyntaxError(key, line=mark.line + 1 if mark is not None else None,
                           column=mark.column + 1 if mark is not None else None, **values)


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
                raise YamlLimitError("yaml.limit.aliases", limit="max_aliases", line=_line(self.peek_event()),
                                     bound=self.limits.max_aliases)
        self.depth += 1
        try:
            if self.depth > self.limits.max_depth:
                raise YamlLimitError("yaml.limit.depth", limit="max_depth", line=_line(self.peek_event()),
                                     bound=self.limits.max_depth)
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
                raise YamlLimitError("yaml.limit.recursion", limit="recursion", line=_line(node))
            busy.add(key)
            stack.append((node, True))
            for child in children:
                if id(child) in busy:
                    raise YamlLimitError("yaml.limit.recursion", limit="recursion", line=_line(child))
                if id(child) not in seen:
                    stack.append((child, False))
            continue
        busy.discard(key)
        values = 1 + sum(seen[id(c)][0] for c in children)
        depth = 1 + max((seen[id(c)][1] for c in children), default=0)
        if values > limits.max_values:
            raise YamlLimitError("yaml.limit.values", limit="max_values", line=_line(node),
                                 bound=limits.max_values)
        if depth > limits.max_depth:
            raise YamlLimitError("yaml.limit.depth_aliases", limit="max_depth", line=_line(node),
                                 bound=limits.max_depth)
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
        raise too_large(len(data), limits)
    if isinstance(text, bytes):
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise YamlSyntaxError("not_utf8", byte=exc.start) from exc
    return text


def too_large(size: int, limits: YamlLimits = DEFAULT_LIMITS) -> YamlLimitError:
    """The refusal of a text of ``size`` bytes over ``limits.max_bytes``."""
    return YamlLimitError("yaml.limit.bytes", limit="max_bytes", size=size, bound=limits.max_bytes)


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
    except yaml.YAMLError as exc:  # the parser's wording stays in the chain (--verbose, the log)
        raise _syntax_error(exc, source) from exc
    finally:
        if loader is not None:
            loader.dispose()
    return nodes


def construct(node: yaml.Node) -> Any:
    """Plain Python (dicts, lists, scalars) for a node checked by :func:`compose_documents`."""
    try:
        return SafeConstructor().construct_document(node)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, "") from exc


def load(text: str | bytes, limits: YamlLimits = DEFAULT_LIMITS) -> Any:
    """One YAML document as plain Python (None for an empty text), within ``limits``.

    Several documents (``---``) are refused: every YAML we read holds one.
    """
    nodes = compose_documents(text, limits)
    if not nodes:
        return None
    if len(nodes) > 1:
        raise YamlSyntaxError("several", line=_line(nodes[1]))
    return construct(nodes[0])


def load_file(path: Any, limits: YamlLimits = DEFAULT_LIMITS) -> Any:
    """:func:`load` of a file, refusing an oversized one before reading it."""
    from pathlib import Path

    p = Path(path)
    size = p.stat().st_size
    if size > limits.max_bytes:
        raise too_large(size, limits)
    return load(p.read_bytes(), limits)
