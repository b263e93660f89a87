"""SNILS (страховой номер индивидуального лицевого счёта): shape and check digit.

The check digit comes from ``stdnum.ru.snils`` when the installed python-stdnum provides it. The
python-stdnum releases available here (≤ 2.2) ship only ``ru.inn`` and ``ru.ogrn``, so the same
published algorithm is implemented below as a fallback.
"""

from __future__ import annotations

import re
from operator import mul

try:  # newer python-stdnum releases
    from stdnum.ru import snils as _stdnum_snils  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on the installed release
    _stdnum_snils = None

#: The shape the shared rules accept: 11 digits, optionally grouped 3+3+3+2 by a space or a dash.
SNILS_SHAPE = re.compile(r"^([0-9]{3}[-\s]?){3}[0-9]{2}$")


_NOT_DIGIT = re.compile(r"\D")
#: the weights of the first nine digits in the check sum
_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, 1)
#: what the byte value of "0" (48) adds to a weighted sum of ASCII digit bytes
_ZERO_BYTES_WEIGHT = ord("0") * sum(_WEIGHTS)


def digits(value: str | None) -> str:
    """The digits of a SNILS (``112-233-445 95`` → ``11223344595``); empty for None."""
    if value and value.isdecimal():  # only digits already (``\d`` is Unicode category Nd, as isdecimal)
        return value
    return _NOT_DIGIT.sub("", value or "")


def shape_ok(value: str | None) -> bool:
    """True when ``value`` is written as a SNILS may be written (format only, no check digit)."""
    value = (value or "").strip()
    if len(value) == 11 and value.isascii() and value.isdigit():  # the usual form, as the pattern says
        return True
    return bool(SNILS_SHAPE.match(value))


def checksum_ok(value: str | None) -> bool:
    """True when ``value`` has 11 digits and a correct check digit.

    Numbers up to 001-001-998 were issued before the check digit existed and always pass.
    """
    d = digits(value)
    if len(d) != 11:
        return False
    if _stdnum_snils is not None:
        return bool(_stdnum_snils.is_valid(d))
    if d.isascii():  # the usual case: weigh the bytes (int() of each character costs ~0.5 µs)
        raw = d.encode()
        if d[:9] <= "001001998":  # nine digits compare as their numbers do
            return True
        total = sum(map(mul, raw, _WEIGHTS)) - _ZERO_BYTES_WEIGHT
        return total % 101 % 100 == (raw[9] - 48) * 10 + raw[10] - 48
    body, check = d[:9], int(d[9:])
    if int(body) <= 1001998:
        return True
    total = sum(map(mul, map(int, body), _WEIGHTS))
    return total % 101 % 100 == check


def valid(value: str | None) -> bool:
    """Shape and check digit both correct."""
    return shape_ok(value) and checksum_ok(value)
