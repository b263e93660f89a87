"""A Faker provider for the identifiers Russian health-care integrations are full of.

Use it from your own tests::

    >>> from faker import Faker
    >>> from mock_remd.generator.faker import RemdProvider
    >>> fake = Faker("ru_RU")
    >>> fake.add_provider(RemdProvider)
    >>> fake.seed_instance(7)
    >>> fake.snils()              # doctest: +SKIP
    '482-517-090 45'
    >>> fake.oms_policy_number()  # doctest: +SKIP
    '5097315408624419'
    >>> fake.mo_oid()             # doctest: +SKIP
    '1.2.643.5.1.13.13.12.2.50.4821'

Every value is checksum-valid where the identifier has a checksum (SNILS, INN, OGRN, ЕНП), so the
values pass the registry's cheap checks; :func:`snils_check_digits` and friends are exported for
building deliberately broken values.
"""

from __future__ import annotations

import re
import uuid

from faker.providers import BaseProvider
from stdnum.ru import inn as _inn
from stdnum.ru import ogrn as _ogrn

__all__ = [
    "RemdProvider",
    "snils_check_digits",
    "snils_is_valid",
    "format_snils",
    "enp_check_digit",
]

#: SNILS numbers up to 001-001-998 have no check digits defined
_SNILS_FIRST_CHECKED = 1001998


def snils_check_digits(first9: str) -> str:
    """The two check digits of a SNILS whose first nine digits are ``first9``.

    >>> snils_check_digits("112233445")
    '95'
    """
    if not re.fullmatch(r"\d{9}", first9):
        raise ValueError(f"nine digits expected, got {first9!r}")
    total = sum(int(d) * (9 - i) for i, d in enumerate(first9))
    return f"{total % 101 % 100:02d}"


def snils_is_valid(value: str) -> bool:
    """True when ``value`` (any grouping) is an 11-digit SNILS with correct check digits.

    >>> snils_is_valid("112-233-445 95"), snils_is_valid("11223344596")
    (True, False)
    """
    digits = re.sub(r"[\s-]", "", value or "")
    if not re.fullmatch(r"\d{11}", digits):
        return False
    if int(digits[:9]) <= _SNILS_FIRST_CHECKED:
        return True
    return snils_check_digits(digits[:9]) == digits[9:]


def format_snils(digits: str) -> str:
    """``11223344595`` → ``112-233-445 95``."""
    d = re.sub(r"\D", "", digits)
    return f"{d[0:3]}-{d[3:6]}-{d[6:9]} {d[9:11]}"


def enp_check_digit(first15: str) -> str:
    """Control digit of a 16-digit ЕНП (unified OMS policy number), Luhn-style.

    The algorithm commonly described for the ЕНП (digits at odd positions from the right doubled,
    digit sums added, ``(10 - s % 10) % 10``); the registry treats it as a soft check.

    >>> enp_check_digit("504520891234567")
    '0'
    """
    if not re.fullmatch(r"\d{15}", first15):
        raise ValueError(f"fifteen digits expected, got {first15!r}")
    total = 0
    for i, ch in enumerate(reversed(first15)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


class RemdProvider(BaseProvider):
    """Faker provider: SNILS, ЕНП, MO OIDs, REMD registry numbers, FIAS GUIDs, INN/OGRN, local UIDs."""

    def snils_digits(self) -> str:
        """An 11-digit SNILS with valid check digits, e.g. ``'11223344595'``."""
        first9 = str(self.random_int(_SNILS_FIRST_CHECKED + 1, 999_999_999)).zfill(9)
        return first9 + snils_check_digits(first9)

    def snils(self) -> str:
        """A SNILS formatted ``XXX-XXX-XXX YY`` with valid check digits, e.g. ``'112-233-445 95'``."""
        return format_snils(self.snils_digits())

    def oms_policy_number(self, region: str = "50") -> str:
        """A 16-digit ЕНП (single OMS policy number) starting with the region code, e.g. ``'5045208912345670'``."""
        body = f"{int(region):02d}"[:2] + "".join(str(self.random_digit()) for _ in range(13))
        return body + enp_check_digit(body)

    def mo_oid(self, region: str = "50") -> str:
        """An FRMO-shaped medical-organisation OID ``1.2.643.5.1.13.13.12.2.<region>.<n>``.

        >>> RemdProvider(None).mo_oid.__doc__ is not None
        True
        """
        return f"1.2.643.5.1.13.13.12.2.{int(region)}.{self.random_int(1, 99999)}"

    def emdr_id(self, region: str = "50", prefix: str = "1", year: int | None = None, month: int | None = None) -> str:
        """A REMD registry number ``{n}.{region}.{YY}.{MM}.{seq:09d}``, e.g. ``'1.50.24.03.000012345'``."""
        yy = year % 100 if year is not None else self.random_int(22, 26)
        mm = month if month is not None else self.random_int(1, 12)
        seq = self.random_int(1, 999_999_999)
        return f"{prefix}.{int(region):02d}.{yy:02d}.{mm:02d}.{seq:09d}"

    def fias_guid(self) -> str:
        """A FIAS object GUID (AOGUID/HOUSEGUID shape: a lower-case UUID)."""
        return str(uuid.UUID(int=self.generator.random.getrandbits(128), version=4))

    def local_uid(self) -> str:
        """A document-version id as an MIS sends it in ``localUid`` (UUID v4)."""
        return str(uuid.UUID(int=self.generator.random.getrandbits(128), version=4))

    def inn_legal(self) -> str:
        """A 10-digit INN of a legal entity with a valid check digit."""
        body = str(self.random_int(100_000_000, 999_999_999))
        return body + _inn.calc_company_check_digit(body)

    def inn_person(self) -> str:
        """A 12-digit INN of a natural person with valid check digits."""
        body = str(self.random_int(1_000_000_000, 9_999_999_999))
        return body + _inn.calc_personal_check_digits(body)

    def ogrn(self) -> str:
        """A 13-digit OGRN of a legal entity (first digit 1 or 5) with a valid check digit."""
        body = str(self.random_element(("1", "5"))) + "".join(str(self.random_digit()) for _ in range(11))
        return body + _ogrn.calc_check_digit(body + "0")

    def ogrnip(self) -> str:
        """A 15-digit OGRNIP of an individual entrepreneur (first digit 3) with a valid check digit."""
        while True:  # remainders 10-12 have no single check digit: draw again
            body = "3" + "".join(str(self.random_digit()) for _ in range(13))
            if int(body) % 13 < 10:
                return body + str(int(body) % 13)
