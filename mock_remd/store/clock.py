"""Time helpers: the store keeps naive UTC; the registry speaks Moscow time (+03:00)."""

from __future__ import annotations

import datetime as dt

MSK = dt.timezone(dt.timedelta(hours=3))


def utcnow() -> dt.datetime:
    """Now as naive UTC (what the store keeps)."""
    t = dt.datetime.now(dt.UTC)  # made naive by the constructor: replace(tzinfo=None) costs twice as much
    return dt.datetime(t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond)


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """A stored naive-UTC value as an aware UTC datetime."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 with offset for JSON answers."""
    a = aware(value)
    return a.isoformat(timespec="milliseconds") if a else None
