"""Just enough XPath lexing to split a rule context (an XSLT match pattern) safely.

We cut a pattern at top-level ``|`` (union of path patterns) and at top-level ``/`` (steps),
outside brackets, parentheses, braces and string literals. Two rewrites keep the meaning: binding
``current()`` to the node being matched (:func:`plan_branch`), where a select expression would
otherwise see the document node, and finding ``//*[a/b]`` by the name ``a``
(:func:`hoist_child_predicate`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def split_operands(expr: str, operator: str) -> list[str]:
    """Operands of a top-level ``a and b and c`` (``operator`` = ``and``/``or``); ``[expr]`` when the
    expression has no such operator outside brackets, parentheses and literals."""
    spaces = {i for i, _ in _scan(expr, " \t\r\n")}
    parts, start = [], 0
    for i in sorted(spaces):
        end = i + 1 + len(operator)
        if i >= start and expr[i + 1 : end] == operator and end in spaces:
            parts.append(expr[start:i].strip())
            start = end + 1
    parts.append(expr[start:].strip())
    return parts


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


# --- where a match pattern and the select expression made from it would mean different things -------

#: ``current()`` (optionally ``fn:``-prefixed) as a function call, not part of a longer name
_CURRENT = re.compile(r"(?<![\w.\-:])(?:fn:)?current\s*\(\s*\)")
#: the kind tests that may start a step (everything else followed by ``(`` is a function call)
_KIND_TESTS = frozenset(
    {
        "node",
        "text",
        "comment",
        "processing-instruction",
        "element",
        "attribute",
        "schema-element",
        "schema-attribute",
        "document-node",
        "namespace-node",
    }
)
_STEP_HEAD = re.compile(
    r"^(?:(?:child|attribute|self|descendant|descendant-or-self)::|@)?"
    r"(?:\*|(?:[A-Za-z_][\w.\-]*:)?(?:[A-Za-z_][\w.\-]*|\*)(?:\(\s*\))?|\*:[A-Za-z_][\w.\-]*)$"
)
#: the variable bound to the node being matched when ``current()`` has to be rewritten
CURRENT_VAR = "_sx_current"


def _mask(expr: str) -> str:
    """``expr`` with string literals, comments and everything inside brackets blanked to spaces.

    Same length as ``expr``; the brackets themselves are kept, so top-level structure can be read
    off with plain string operations and regular expressions.
    """
    out = list(expr)
    depth = 0
    quote = ""
    i = 0
    while i < len(expr):
        ch = expr[i]
        if quote:
            out[i] = " "
            if ch == quote:
                if expr[i + 1 : i + 2] == quote:
                    out[i + 1] = " "
                    i += 1
                else:
                    quote = ""
                    out[i] = ch if depth == 0 else " "
        elif ch in "'\"":
            quote = ch
            out[i] = ch if depth == 0 else " "
        elif ch == "(" and expr[i + 1 : i + 2] == ":":
            end = expr.find(":)", i + 2)
            stop = len(expr) if end < 0 else end + 2
            for j in range(i, stop):
                out[j] = " "
            i = stop
            continue
        elif ch in "([{":
            if depth:
                out[i] = " "
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth:
                out[i] = " "
        elif depth:
            out[i] = " "
        i += 1
    if quote or depth != 0:
        raise ValueError(f"unbalanced XPath expression: {expr!r}")
    return "".join(out)


def current_calls(expr: str) -> list[tuple[int, int]]:
    """Spans of the ``current()`` calls in ``expr`` (string literals and comments are skipped)."""
    literal = _literal_mask(expr)
    return [m.span() for m in _CURRENT.finditer(expr) if not literal[m.start()]]


def _literal_mask(expr: str) -> list[bool]:
    """Per character: inside a string literal or a comment."""
    inside = [False] * len(expr)
    quote = ""
    i = 0
    while i < len(expr):
        ch = expr[i]
        if quote:
            inside[i] = True
            if ch == quote:
                if expr[i + 1 : i + 2] == quote:
                    inside[i + 1] = True
                    i += 1
                else:
                    quote = ""
        elif ch in "'\"":
            quote = ch
            inside[i] = True
        elif ch == "(" and expr[i + 1 : i + 2] == ":":
            end = expr.find(":)", i + 2)
            stop = len(expr) if end < 0 else end + 2
            for j in range(i, stop):
                inside[j] = True
            i = stop
            continue
        i += 1
    return inside


def replace_current(expr: str, variable: str = CURRENT_VAR) -> str:
    """``expr`` with every ``current()`` call replaced by ``$variable``."""
    out, last = [], 0
    for start, end in current_calls(expr):
        out.append(expr[last:start])
        out.append("$" + variable)
        last = end
    out.append(expr[last:])
    return "".join(out)


def _path_steps(select: str) -> list[tuple[int, int]] | None:
    """Spans of the steps of an absolute path (``/a/b``, ``//a//b``), or None when it is not one.

    A plain path here: made of steps, each a name/kind test (optionally with an axis or ``@``)
    followed by predicates; no top-level operators, variables, function calls or parentheses.
    """
    if not select.startswith("/"):
        return None
    masked = _mask(select)
    spans: list[tuple[int, int]] = []
    i = 0
    n = len(masked)
    while i < n:
        if masked[i] != "/":
            return None
        i += 1
        if i < n and masked[i] == "/":
            i += 1
        start = i
        while i < n and masked[i] != "/":
            i += 1
        text = masked[start:i].strip()
        if not text:
            if select == "/" and not spans:
                return []
            return None
        head = text.split("[", 1)[0].strip()
        if not _STEP_HEAD.match(head):
            return None
        if head.endswith(")") and head.split("::")[-1].lstrip("@").split("(")[0] not in _KIND_TESTS:
            return None
        rest = text[len(text.split("[", 1)[0]) :]
        if rest.replace("[", "").replace("]", "").strip():  # not just predicates after the node test
            return None
        if "document-node(" in head:  # ``//document-node()`` selects nothing; the pattern matches ``/``
            return None
        spans.append((start, i))
    return spans


def _predicates(step: str) -> tuple[str, list[str]]:
    """A step cut into its node test and its top-level predicates (without their brackets)."""
    masked = _mask(step)
    head_end = masked.find("[")
    if head_end < 0:
        return step, []
    preds, i = [], head_end
    while i < len(masked):
        if masked[i] == "[":
            close = masked.index("]", i)
            preds.append(step[i + 1 : close])
            i = close + 1
        else:
            i += 1
    return step[:head_end], preds


@dataclass(frozen=True)
class BranchPlan:
    """How one branch of a rule context is turned into the nodes it matches.

    ``select`` set: an expression evaluated from the document node yields exactly the matched nodes.
    Otherwise ``candidates`` (from the document node) yields a superset, and each candidate must be
    tested against the original pattern with a real ``xsl:template match=``.
    """

    select: str | None = None
    candidates: str | None = None


#: every node a pattern can match (namespace nodes aside): the last-resort candidate set
ALL_NODES = "(/ | //node() | //@*)"


def plan_branch(branch: str) -> BranchPlan:
    """Decide how to evaluate one path pattern of a rule context without changing its meaning.

    * a plain path without ``current()``: ``//`` + pattern (or the absolute pattern) as a select;
    * ``current()`` only in the last predicate of the last step (the node being matched is the
      context item there): the same select with that predicate written as
      ``[let $_sx_current := . return (…)]``, ``current()`` replaced by the variable;
    * ``current()`` elsewhere in a plain path: candidates by the path without the predicates that
      use ``current()`` (and those after them in the same step, which may be positional), then
      a template match on the pattern itself;
    * anything else (function-call or variable heads, parentheses, ``union``/``intersect``/
      ``except``, …): every node is a candidate for a template match. Exact, slower; the official
      packs have none.
    """
    select = pattern_to_select(branch)
    try:
        spans = _path_steps(select)
    except ValueError:
        spans = None
    if spans is None:
        return BranchPlan(candidates=ALL_NODES)
    calls = current_calls(select)
    if not calls:
        return BranchPlan(select=select)
    last_start, last_end = spans[-1]
    head, preds = _predicates(select[last_start:last_end])
    users = [i for i, p in enumerate(preds) if current_calls(p)]
    if len(calls) == len(current_calls("".join(preds))) and users == [len(preds) - 1]:
        # only the last predicate of the last step uses current(). Not more: in ``b[p(current())][2]``
        # the pattern filters every sibling with current() bound to the one node being matched.
        rewritten = f"[let ${CURRENT_VAR} := . return ({replace_current(preds[-1])})]"
        return BranchPlan(
            select=select[:last_start] + head + "".join(f"[{p}]" for p in preds[:-1]) + rewritten
        )
    parts, last = [], 0
    for start, end in spans:
        head, preds = _predicates(select[start:end])
        kept: list[str] = []
        for p in preds:
            if current_calls(p):
                break
            kept.append(f"[{p}]")
        if current_calls(head):
            return BranchPlan(candidates=ALL_NODES)
        parts.append(select[last:start] + head + "".join(kept))
        last = end
    return BranchPlan(candidates="".join(parts))


#: a child step by name: ``a``, ``child::a``, ``identity:Doc``, each with any predicates (masked)
_CHILD_NAME_STEP = re.compile(r"^(?:child::)?(?:[A-Za-z_][\w.\-]*:)?[A-Za-z_][\w.\-]*(?:\s*\[\s*\])*$")
#: an attribute by name, allowed as the last step after the first: ``a/@b``
_ATTRIBUTE_STEP = re.compile(r"^(?:@|attribute::)(?:[A-Za-z_][\w.\-]*:)?[A-Za-z_][\w.\-]*$")


def hoist_child_predicate(select: str) -> str:
    """``//*[a[p]/b/c]`` → ``//a[p][b/c]/parent::*``: the same nodes, found by name instead of
    testing a predicate on every element of the document (Saxon scans names in its tree fast).

    Only for exactly ``//*[path]`` where the predicate is a plain chain of child name steps with
    their own predicates, the last one possibly an attribute (a chain of node steps: its truth is
    its non-emptiness; an element has it iff it is the parent of a matching first step; ``a[1]``
    means "first ``a`` child" in both forms); anything else is returned as is.
    """
    if not select.startswith("//*[") or not select.endswith("]"):
        return select
    try:
        masked = _mask(select)
    except ValueError:
        return select
    if masked.find("]", 4) != len(select) - 1:  # one predicate spanning the rest
        return select
    inner = select[4:-1].strip()
    try:
        inner_masked = _mask(inner)
    except ValueError:
        return select
    cuts = [i for i, ch in enumerate(inner_masked) if ch == "/"]
    steps, start = [], 0
    for i in [*cuts, len(inner)]:
        steps.append((inner[start:i].strip(), inner_masked[start:i].strip()))
        start = i + 1
    if any(not text or not _CHILD_NAME_STEP.match(m) for text, m in steps[:-1]):
        return select
    last = steps[-1][1]
    if not _CHILD_NAME_STEP.match(last) and (len(steps) == 1 or not _ATTRIBUTE_STEP.match(last)):
        return select
    first, rest = steps[0][0], "/".join(text for text, _ in steps[1:])
    return f"//{first}[{rest}]/parent::*" if rest else f"//{first}/parent::*"
