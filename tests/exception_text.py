"""What exception text looks like, for tests that assert none reaches a user (SOAP answer, callback,
admin API, dashboard page, CLI output)."""

from __future__ import annotations

import re

#: libraries the product uses; a qualified name (``lxml.etree``) or a class name from them is a leak
LIBRARIES = ("lxml", "asn1crypto", "sqlalchemy", "requests", "urllib3", "saxonche", "xmlschema", "spyne",
             "gunicorn", "werkzeug", "flask", "yaml")
#: names that are not ordinary words: any mention is a leak
_BARE = ("lxml", "asn1crypto", "sqlalchemy", "urllib3", "saxonche", "xmlschema", "spyne", "werkzeug", "psycopg")

_PATTERNS = [
    re.compile(r"Traceback"),
    re.compile(r'File "'),
    re.compile(r"\w+Error\("),
    re.compile(r"\bError\("),
    re.compile(r"Exception"),
    re.compile(r"\b(?:{})\.[A-Za-z_]".format("|".join(LIBRARIES))),
    re.compile(r"\b(?:{})\b".format("|".join(_BARE)), re.IGNORECASE),
    re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>"),
    re.compile(r"\[Errno \d+\]"),
    re.compile(r"\b(?:OverflowError|ValueError|KeyError|TypeError|AttributeError|OSError|IntegrityError)\b"),
]


def exception_text(text: str) -> list[str]:
    """The fragments of ``text`` that look like exception text (empty when clean)."""
    found = []
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            start = max(0, m.start() - 60)
            found.append(text[start:m.end() + 60])
    return found


def assert_clean(text: str | bytes, where: str) -> None:
    """Fail when ``text`` shows exception text; the message quotes what was found."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    leaks = exception_text(text)
    assert not leaks, f"exception text in {where}: {leaks[:3]}"
