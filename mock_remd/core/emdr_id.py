"""Registry numbers: ``{n}.{region}.{YY}.{MM}.{seq:09d}`` (CONTRACT §5)."""

from __future__ import annotations

import datetime as dt
import re

EMDR_ID_RE = re.compile(r"^\d{1,3}\.\d{2}\.\d{2}\.\d{2}\.\d{9}$")


def format_emdr_id(prefix: str, region: str, when: dt.datetime, seq: int) -> str:
    """The emdrId of the ``seq``-th registration, in the month of ``when``."""
    return f"{prefix}.{region}.{when:%y}.{when:%m}.{seq:09d}"
