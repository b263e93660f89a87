"""The text of the store's JSON columns, written and read by orjson (in C).

The standard library's encoder cost ~36 µs for the request metadata every accepted registration
stores, and a few µs for each of the other six JSON values of the request path; orjson does the
same in a tenth. Values orjson refuses (a lone surrogate, an integer over 64 bits) and text it does
not read (``NaN``) go through the standard library as before, so everything stored before still reads.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> str:
    """``value`` as JSON text."""
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value)


def dumps_utf8(value: Any) -> bytes:
    """``value`` as JSON text in UTF-8 (the bytes :func:`dumps`'s text encodes to)."""
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value).encode()


def loads(text: str | bytes) -> Any:
    """The value of JSON ``text``."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
