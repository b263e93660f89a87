"""Just enough XPath lexing to split a rule context (an XSLT match pattern) safely.

We never rewrite predicates: we only cut a pattern at top-level ``|`` (union of path patterns)
and at top-level ``/`` (steps), outside brackets, parentheses, braces and string literals.
"""

from __future__ import annotations

import re

_NAME_STEP = re.compile(r"^(?:child::)?(?:[A-Za-z_][\w.\-]*:)?(?:[A-Za-z_][\w.\-]*|\*)(?:\[.*\])?$", re.S)


def _scan(expr: str, separators: str) -> list[tuple[int, str]]:
    """Positions and characters of top-level separator characters in ``expr``."""
    out: list[tuple[int, str]] = []
    depth = 0
    quote = ""
    i = 0
    while i < len(expr):
        ch = expr[i]
        if quote:
            if ch == quote:
                if expr[i + 1 : i + 2] == quote:  # doubled quote = escaped
                    i += 1
                else:
                    quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(" and expr[i + 1 : i + 2] == ":":  # XPath comment (: ... :)
            end = expr.find(":)", i + 2)
            i = len(expr) if end < 0 else end + 1
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch in separators:
            out.append((i, ch))
        i += 1
    if quote or depth != 0:
        raise ValueError(f"unbalanced XPath expression: {expr!r}")
    return out


def split_union(pattern: str) -> list[str]:
    """Top-level branches of ``a | b | c`` (keywords ``union``/``intersect``/``except`` are not split)."""
    cuts = [i for i, _ in _scan(pattern, "|")]
    parts, start = [], 0
    for i in cuts:
        parts.append(pattern[start:i].strip())
        start = i + 1
    parts.append(pattern[start:].strip())
    return [p for p in parts if p]


def pattern_to_select(branch: str) -> str:
    """A single path pattern as an expression selecting, from the document node, exactly the nodes it matches.

    A relative pattern ``a/b`` matches the same nodes as ``//a/b`` selects in a tree rooted at a
    document node; absolute ones (``/…``, ``//…``) are already select expressions.
    """
    branch = branch.strip()
    if branch.startswith("/"):
        return branch
    return "//" + branch


def split_steps(select: str) -> list[str] | None:
    """Cut an absolute path (``/a/b[..]`` or ``//a/b``) into its first step and child steps.

    Returns ``["//a", "b[..]", "c"]`` (the first element keeps its leading ``/`` or ``//``), or None
    when the path is not a plain chain of child name steps (functions, other axes, ``//`` inside,
    unions, keywords), in which case callers must use the expression whole.
    """
    if not select.startswith("/"):
        return None
    lead = "//" if select.startswith("//") else "/"
    body = select[len(lead) :]
    if not body or body.startswith("/"):
        return None
    cuts = [i for i, _ in _scan(body, "/")]
    steps, start = [], 0
    for i in cuts:
        steps.append(body[start:i].strip())
        start = i + 1
    steps.append(body[start:].strip())
    if any(not s or not _NAME_STEP.match(s) or _has_top_level_word_op(s) for s in steps):
        return None
    steps[0] = lead + steps[0]
    return steps


def _has_top_level_word_op(step: str) -> bool:
    """True when a step contains top-level whitespace (e.g. ``a union b``) — not a plain step."""
    depth, quote = 0, ""
    for ch in step:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch.isspace():
            return True
    return False
