"""X.509 names read leniently with local ASN.1 specs (asn1crypto's own maps stay untouched).

A qualified Russian certificate names its holder with attributes asn1crypto does not know (СНИЛС, ИНН,
ОГРН…), and CAs encode them in whatever string type their software picked: NumericString (Приказ ФСБ
№ 795), UTF8String (OpenSSL with ``string_mask = utf8only``, CryptoPro's test CA), PrintableString. This
module parses a Name with its own ``AttributeTypeAndValue`` spec whose value is ``Any``, and turns every
value into text whatever its universal string type, so nothing global has to be registered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from asn1crypto import core

from mock_remd.catalog.findings import text as finding_text

# --- attribute types (X.520 and Приказ ФСБ России № 795) ------------------------------------------
COMMON_NAME = "2.5.4.3"
SURNAME = "2.5.4.4"
GIVEN_NAME = "2.5.4.42"
ORGANIZATION = "2.5.4.10"
COUNTRY = "2.5.4.6"
TITLE = "2.5.4.12"
SNILS = "1.2.643.100.3"
OGRN = "1.2.643.100.1"
OGRNIP = "1.2.643.100.5"
INN = "1.2.643.3.131.1.1"
INN_LE = "1.2.643.100.4"

#: short labels for messages, in the style of CryptoPro's certificate viewer
LABELS = {
    COMMON_NAME: "CN", SURNAME: "SN", GIVEN_NAME: "G", ORGANIZATION: "O", COUNTRY: "C", TITLE: "T",
    "2.5.4.7": "L", "2.5.4.8": "S", "2.5.4.9": "STREET", "2.5.4.11": "OU", "1.2.840.113549.1.9.1": "E",
    SNILS: "СНИЛС", OGRN: "ОГРН", OGRNIP: "ОГРНИП", INN: "ИНН", INN_LE: "ИНН ЮЛ",
}

_SPACES = re.compile(r"\s+")


class _AttributeTypeAndValue(core.Sequence):
    _fields = [("type", core.ObjectIdentifier), ("value", core.Any)]


class _RelativeDistinguishedName(core.SetOf):
    _child_spec = _AttributeTypeAndValue


class _RDNSequence(core.SequenceOf):
    _child_spec = _RelativeDistinguishedName


class NameUnreadable(ValueError):
    """A Name whose structure or attribute values cannot be read."""


@dataclass(frozen=True)
class NameInfo:
    """A certificate Name as ``(dotted OID, text)`` pairs, one tuple per RDN, in order."""

    der: bytes
    rdns: tuple[tuple[tuple[str, str], ...], ...]

    def get(self, oid: str) -> str:
        """The first value of attribute ``oid`` (stripped), or ``""``."""
        for rdn in self.rdns:
            for type_oid, text in rdn:
                if type_oid == oid:
                    return text.strip()
        return ""

    @property
    def human_friendly(self) -> str:
        """``CN=…, O=…, ОГРН=…`` (unknown types by dotted OID), for messages."""
        parts = []
        for rdn in self.rdns:
            parts.append(" + ".join(f"{LABELS.get(oid, oid)}={text}" for oid, text in rdn))
        return ", ".join(parts) or finding_text("cert.empty_name")

    @property
    def comparison_key(self) -> tuple:
        """What RFC 5280 §7.1 compares: types and values case-folded with spaces collapsed, RDNs as sets."""
        return tuple(
            tuple(sorted((oid, _SPACES.sub(" ", text.strip()).casefold()) for oid, text in rdn)) for rdn in self.rdns
        )

    def same_as(self, other: NameInfo) -> bool:
        """Equal by bytes or by the RFC 5280 comparison (string type, case and spacing do not matter)."""
        return self.der == other.der or self.comparison_key == other.comparison_key


def value_text(value: core.Asn1Value) -> str:
    """The text of an attribute value of any universal string type (other types: their native form)."""
    parsed = value.parsed if isinstance(value, core.Any) else value
    native = parsed.native
    if isinstance(native, str):
        return native
    if isinstance(native, bytes):
        return native.hex()
    return "" if native is None else str(native)


@lru_cache(maxsize=4096)
def read_name(der: bytes) -> NameInfo:
    """Parse the DER of a Name (an RDNSequence); raises :class:`NameUnreadable`."""
    try:
        sequence = _RDNSequence.load(der)
        rdns = tuple(tuple((atv["type"].dotted, value_text(atv["value"])) for atv in rdn) for rdn in sequence)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, UnicodeError, AttributeError) as exc:
        # AttributeError: a value of a universal type asn1crypto has no reading for (tag 8, INSTANCE
        # OF, parses to an object without .native)
        raise NameUnreadable("name") from exc
    return NameInfo(der, rdns)
