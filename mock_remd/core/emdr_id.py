"""Registry numbers: ``{n}.{region}.{YY}.{MM}.{seq:09d}`` (CONTRACT §5)."""

from __future__ import annotations

import datetime as dt
import re

EMDR_ID_RE = re.compile(r"^\d{1,3}\.\d{2}\.\d{2}\.\d{2}\.\d{9}$")


def format_emdr_id(prefix: str, region: str, when: dt.datetime, seq: int) -> str:
    """The emdrId of the ``seq``-th registration, in the month of ``when``."""
    # the year's last two digits and the month as %y and %m give them, without strftime (a batch of
    # outcomes draws its numbers inside the write lock the synchronous answers also wait for)
    return f"{prefix}.{region}.{when.year % 100:02d}.{when.month:02d}.{seq:09d}"
