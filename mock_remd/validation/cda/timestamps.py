"""HL7 ``TS`` values (``20240315``, ``202403151130+0300``) and request ``xs:date``/``xs:dateTime`` values."""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple

_TS = re.compile(
    r"^(?P<y>\d{4})(?P<mo>\d{2})?(?P<d>\d{2})?(?P<h>\d{2})?(?P<mi>\d{2})?(?P<s>\d{2})?"
    r"(?:\.\d+)?(?P<off>[+-]\d{4})?$"
)

_DAY = r"[1-2][0-9]{3}[0-1][0-9][0-3][0-9]"
_ZONE = r"\+[0-2][0-9][0-5]0"
#: What the shared date/time rules accept for a document date: a day, or minutes/seconds with a zone.
REGISTRY_TS = re.compile(rf"^(?:{_DAY}|{_DAY}[0-2][0-9][0-5][0-9](?:[0-5][0-9])?{_ZONE})$")

_XS_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})?$")

PRECISIONS = ("year", "month", "day", "hour", "minute", "second")
#: precision -> its place in :data:`PRECISIONS` (PRECISIONS.index, as a dict read)
_RANK = {name: i for i, name in enumerate(PRECISIONS)}
#: a zone offset must be shorter than a day (made once: timedelta's keyword arguments cost ~4k instructions each)
_ONE_DAY = dt.timedelta(hours=24)


class Timestamp(NamedTuple):  # a NamedTuple: made per document, ~3x cheaper than a frozen dataclass
    """A parsed HL7 ``TS``: the fields present, their precision and the zone offset if written."""

    raw: str
    precision: str
    year: int
    month: int = 1
    day: int = 1
    hour: int = 0
    minute: int = 0
    second: int = 0
    offset: dt.timedelta | None = None

    @property
    def date(self) -> dt.date | None:
        """The calendar day (in the document's own zone); None when coarser than a day."""
        if _RANK[self.precision] < _RANK["day"]:
            return None
        return dt.date(self.year, self.month, self.day)

    @property
    def instant(self) -> dt.datetime | None:
        """An aware datetime when the value has at least minutes and a zone; else None."""
        if self.offset is None or _RANK[self.precision] < _RANK["minute"]:
            return None
        return dt.datetime(
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            tzinfo=dt.timezone(self.offset),
        )


def parse_ts(value: str | None) -> Timestamp | None:
    """Parse an HL7 ``TS`` value; None when it is not one (or names an impossible date)."""
    m = _TS.match((value or "").strip())
    if not m:
        return None
    parts = m.group("y", "mo", "d", "h", "mi", "s")
    present = [p for p in parts if p is not None]
    precision = PRECISIONS[len(present) - 1]
    nums = [int(p) for p in present]
    offset = None
    if m.group("off"):
        off = m.group("off")
        sign = -1 if off[0] == "-" else 1
        offset = dt.timedelta(0, sign * (int(off[1:3]) * 3600 + int(off[3:5]) * 60))  # (days, seconds)
    try:
        ts = Timestamp(value.strip(), precision, *nums, offset=offset)  # type: ignore[union-attr]
        # validate the calendar fields
        dt.datetime(ts.year, ts.month, ts.day, ts.hour, ts.minute, ts.second)
        if offset is not None and abs(offset) >= _ONE_DAY:
            return None
    except ValueError:
        return None
    return ts


def is_registry_ts(value: str | None) -> bool:
    """True for the document date shapes every СЭМД may use (day; minutes or seconds with ``+ZZZZ``)."""
    return bool(REGISTRY_TS.match((value or "").strip()))


def parse_xs_date(value: str | None) -> dt.date | None:
    """An ``xs:date`` (``1987-03-22``, optionally with a zone) as a date; None when malformed."""
    v = (value or "").strip()
    m = _XS_DATE.match(v)
    if not m:
        return None
    try:
        return dt.date.fromisoformat(m.group(1))
    except ValueError:
        return None


def parse_xs_datetime(value: str | None) -> dt.datetime | None:
    """An ``xs:dateTime`` as a datetime (aware when it carries a zone); None when malformed."""
    v = (value or "").strip()
    if "T" not in v:
        return None
    try:
        return dt.datetime.fromisoformat(v)
    except ValueError:
        return None


def same_creation_time(document: Timestamp, request: dt.datetime) -> bool:
    """Whether a document ``effectiveTime`` and a request ``creationDateTime`` name the same moment.

    When both carry a time and a zone they compare as instants, at the document's precision
    (a document written to the minute matches any second of that minute); otherwise by calendar
    day, each in its own zone.
    """
    doc_instant = document.instant
    if doc_instant is not None and request.tzinfo is not None:
        req = request.astimezone(doc_instant.tzinfo)
        # cut to the document's precision: replace(second=0, microsecond=0), without keyword arguments
        drop = req.second if document.precision == "minute" else 0
        return req - dt.timedelta(0, drop, req.microsecond) == doc_instant
    return document.date == request.date()
