"""Dates as the registry reads and writes them."""

from __future__ import annotations

import datetime as dt
import re

from mock_remd.store.clock import MSK

_XS_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$"
)
_XS_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?$")


def parse_datetime(value: str) -> dt.datetime | None:
    """Parse an xs:dateTime; returns an aware datetime when an offset is given, naive otherwise,
    None when it is not an xs:dateTime at all."""
    v = (value or "").strip()
    if not _XS_DATETIME.match(v):
        return None
    try:
        return dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None


def has_offset(value: str) -> bool:
    m = _XS_DATETIME.match((value or "").strip())
    return bool(m and m.group(8))


def parse_date(value: str) -> dt.date | None:
    """Parse an xs:date (offset allowed and ignored)."""
    m = _XS_DATE.match((value or "").strip())
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def registry_datetime(value: dt.datetime) -> str:
    """``2026-11-27T10:15:02.123+03:00``: milliseconds and the Moscow offset."""
    return value.astimezone(MSK).isoformat(timespec="milliseconds")


def registry_date(value: dt.date) -> str:
    """``2051-11-27+03:00``: xs:date with the Moscow offset."""
    return value.isoformat() + "+03:00"


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` plus ``years`` (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
