"""``matches(x, 'regex')`` on Saxon's Java regex engine, for the regexes where it means the same.

Saxon evaluates XPath regular expressions with its own backtracking engine, which is slow on the
official packs' OID patterns (``^[0-2](\\.([1-9][0-9]*|0))+\\.100([.]([1-9][0-9]*|0))+\\.70$`` on every
``id/@root``): about a third of a laboratory document's Schematron time. With the flag ``;j``
Saxon hands the regex to ``java.util.regex`` instead, several times faster on them.

The two dialects differ (``$`` also matches before a final newline in Java, ``.`` excludes more
line terminators, ``\\d``/``\\w``/``\\s`` are ASCII there, ``[a&&b]`` is an intersection, ``[`` nests),
so a regex is translated only when it is made of parts that mean the same in both once written
as below; anything else keeps Saxon's engine:

* literal characters of the Basic Multilingual Plane, and ``\\`` escapes of metacharacters and of
  ``n``/``r``/``t``;
* character classes of such characters and ranges, optionally negated (no subtraction, no ``&&``,
  no nested ``[``, ``-`` only first, last or in a range);
* groups ``(…)``, alternation ``|``, quantifiers ``* + ? {n} {n,} {n,m}`` (each optionally lazy);
* ``^`` (start of the string in both); ``$`` written as ``\\z`` (the end of the string);
* ``.`` written as ``[^\\n\\r]`` (XPath's "any character but newline and carriage return").

Only the two-argument form with a string literal as the regex is rewritten (flags stay Saxon's).
"""

from __future__ import annotations

import re

#: characters that need a backslash outside a class (XPath's metacharacters)
_META = set("\\|.?*+(){}[]^$")
#: characters a backslash may precede (meaning the character itself in both dialects)
_ESCAPABLE = set("\\|.?*+(){}[]^$-")
_CONTROL = {"n": "\\n", "r": "\\r", "t": "\\t"}
_QUANT = re.compile(r"\{(\d+)(,(\d*))?\}")


def to_java(pattern: str) -> str | None:
    """The ``java.util.regex`` form of XPath regex ``pattern``, or None when it is not in the safe subset."""
    out: list[str] = []
    i, n = 0, len(pattern)
    depth = 0
    atom = False  # the last item can take a quantifier
    while i < n:
        ch = pattern[i]
        if ord(ch) > 0xFFFF:
            return None
        if ch == "\\":
            esc = _escape(pattern, i)
            if esc is None:
                return None
            out.append(esc)
            i += 2
            atom = True
        elif ch == "[":
            cls = _char_class(pattern, i)
            if cls is None:
                return None
            text, i = cls
            out.append(text)
            atom = True
        elif ch == "(":
            if pattern.startswith("(?", i):
                return None
            depth += 1
            out.append(ch)
            i += 1
            atom = False
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return None
            out.append(ch)
            i += 1
            atom = True
        elif ch == "|":
            out.append(ch)
            i += 1
            atom = False
        elif ch in "*+?" or ch == "{":
            if not atom:
                return None
            if ch == "{":
                m = _QUANT.match(pattern, i)
                if m is None or (m.group(3) and int(m.group(3)) < int(m.group(1))):
                    return None
                out.append(m.group(0))
                i = m.end()
            else:
                out.append(ch)
                i += 1
            if i < n and pattern[i] == "?":  # lazy: the same in both
                out.append("?")
                i += 1
            if i < n and pattern[i] in "*+?{":  # possessive or stacked: not XPath
                return None
            atom = False
        elif ch == "^":
            out.append("^")
            i += 1
            atom = False
        elif ch == "$":
            out.append("\\z")
            i += 1
            atom = False
        elif ch == ".":
            out.append("[^\\n\\r]")
            i += 1
            atom = True
        elif ch in "]}":
            return None
        else:
            out.append(ch)
            i += 1
            atom = True
    if depth != 0:
        return None
    return "".join(out)


def _escape(pattern: str, i: int) -> str | None:
    nxt = pattern[i + 1 : i + 2]
    if nxt in _CONTROL:
        return _CONTROL[nxt]
    if nxt and nxt in _ESCAPABLE:
        return "\\" + nxt
    return None  # \d \w \s \p \i \c, back-references, a trailing backslash: the dialects differ


def _char_class(pattern: str, start: int) -> tuple[str, int] | None:
    """``[…]`` at ``start`` in the safe subset: (Java text, index after it), else None."""
    i = start + 1
    out = ["["]
    if pattern[i : i + 1] == "^":
        out.append("^")
        i += 1
    items: list[str] = []  # one entry per character or escape, "-" for a range dash
    while i < len(pattern) and pattern[i] != "]":
        ch = pattern[i]
        if ord(ch) > 0xFFFF or ch == "[" or pattern.startswith("&&", i):
            return None
        if ch == "\\":
            esc = _escape(pattern, i)
            if esc is None:
                return None
            items.append(esc)
            i += 2
            continue
        items.append("-" if ch == "-" else ch)
        i += 1
    if i >= len(pattern) or not items:
        return None
    for k, item in enumerate(items):
        if item != "-":
            continue
        if k in (0, len(items) - 1):
            items[k] = "\\-"  # a literal dash, spelled out for Java
        elif items[k - 1] == "-" or items[k + 1] == "-" or (k >= 2 and items[k - 2] == "-"):
            return None  # "a-b-c" and friends: read differently by the two engines
    out.extend(items)
    out.append("]")
    return "".join(out), i + 1


# --- rewriting the calls in an XPath expression --------------------------------------------------------

_CALL = re.compile(r"(?<![\w.\-:$])(?:fn:)?matches\s*\(")


def rewrite_matches(expr: str) -> str:
    """``expr`` with each ``matches(arg, 'literal')`` whose regex :func:`to_java` translates written
    as ``matches(arg, 'java', ';j')``; everything else is left as it is."""
    out: list[str] = []
    last = 0
    for m in _CALL.finditer(expr):
        if m.start() < last or _in_literal(expr, m.start()):
            continue
        args = _arguments(expr, m.end())
        if args is None:
            continue
        parts, close = args
        if len(parts) != 2:
            continue
        literal = _string_literal(parts[1].strip())
        if literal is None:
            continue
        java = to_java(literal)
        if java is None:
            continue
        out.append(expr[last : m.end()])
        out.append(f"{rewrite_matches(parts[0])}, {_quote(java)}, ';j')")
        last = close + 1
    out.append(expr[last:])
    return "".join(out)


def _in_literal(expr: str, pos: int) -> bool:
    quote = ""
    for ch in expr[:pos]:
        if quote:
            if ch == quote:
                quote = ""  # a doubled quote closes and reopens: same state after both
        elif ch in "'\"":
            quote = ch
    return bool(quote)


def _arguments(expr: str, start: int) -> tuple[list[str], int] | None:
    """Top-level comma-separated arguments from ``start`` to the matching ``)``, and its index."""
    depth, quote = 0, ""
    parts: list[str] = []
    begin = start
    i = start
    while i < len(expr):
        ch = expr[i]
        if quote:
            if ch == quote:
                if expr[i + 1 : i + 2] == quote:
                    i += 1
                else:
                    quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(" and expr[i + 1 : i + 2] == ":":
            return None  # a comment inside the call: leave the call alone
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                if ch != ")":
                    return None
                parts.append(expr[begin:i])
                return parts, i
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(expr[begin:i])
            begin = i + 1
        i += 1
    return None


def _string_literal(text: str) -> str | None:
    if len(text) < 2 or text[0] not in "'\"" or text[-1] != text[0]:
        return None
    q = text[0]
    body = text[1:-1]
    if q in body.replace(q + q, ""):
        return None
    return body.replace(q + q, q)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
