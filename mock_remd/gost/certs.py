"""What the registry reads from a signer's certificate: subject identity, validity, key usage, chain.

Certificates come from many CAs: names carry ИНН/ОГРН/СНИЛС in any string type, extensions include
ones nobody here knows (subjectSignTool, qcStatements…), some marked critical, and the CA may sign with
GOST R 34.10-2001 while the holder's key is 2012. :func:`read_certificate` reads only what the checks
need, each part on its own, with local ASN.1 specs (names, public key) and asn1crypto's stock ones
(validity, the few extensions used); a part that cannot be read raises :class:`CertificateUnreadable`
naming that part, and nothing else of the certificate is touched.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TypeVar

from asn1crypto import core, pem, x509

from mock_remd.catalog.findings import FINDINGS
from mock_remd.catalog.findings import text as finding_text
from mock_remd.gost import names, oids, tlv
from mock_remd.gost.keys import KEY_BITS, GostKeyError, GostPublicKey

_SPACES = re.compile(r"\s+")
_T = TypeVar("_T")

#: exceptions asn1crypto raises on bytes it cannot parse (lazily, on first access)
PARSE_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, UnicodeError)

_KEY_USAGE = "2.5.29.15"
_SUBJECT_KEY_ID = "2.5.29.14"
_AUTHORITY_KEY_ID = "2.5.29.35"
_BASIC_CONSTRAINTS = "2.5.29.19"


class CertificateUnreadable(ValueError):
    """A certificate part that cannot be read; ``what`` names it in Russian for the message."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def normalize_name(value: str) -> str:
    """Names compare case-insensitively, ``ё`` as ``е``, with whitespace collapsed."""
    return _SPACES.sub(" ", (value or "").strip().lower().replace("ё", "е"))


@dataclass(frozen=True)
class SubjectInfo:
    """Identity fields of a certificate subject (empty when absent)."""

    common_name: str = ""
    surname: str = ""
    given_name: str = ""
    snils: str = ""
    inn: str = ""
    ogrn: str = ""
    inn_le: str = ""
    organization: str = ""

    @property
    def full_name(self) -> str:
        if self.surname or self.given_name:
            return f"{self.surname} {self.given_name}".strip()
        return self.common_name

    @cached_property
    def holder_name(self) -> tuple[str, str]:
        """(surname, given name and patronymic) of the holder: SN and G, else CN split at its first space."""
        if self.surname or self.given_name:
            return self.surname, self.given_name
        parts = self.common_name.split(maxsplit=1)
        return (parts[0] if parts else ""), (parts[1] if len(parts) > 1 else "")

    @cached_property
    def holder_name_key(self) -> tuple[str, str]:
        """:attr:`holder_name` as names compare (:func:`normalize_name`), once per certificate."""
        surname, given = self.holder_name
        return normalize_name(surname), normalize_name(given)


def subject_of(name: names.NameInfo) -> SubjectInfo:
    """SN, G, CN, SNILS, INN, OGRN, INNLE and O of a name (digits only for the numeric identifiers)."""
    return SubjectInfo(
        common_name=name.get(names.COMMON_NAME),
        surname=name.get(names.SURNAME),
        given_name=name.get(names.GIVEN_NAME),
        snils=re.sub(r"\D", "", name.get(names.SNILS)),
        inn=re.sub(r"\D", "", name.get(names.INN)),
        ogrn=re.sub(r"\D", "", name.get(names.OGRN) or name.get(names.OGRNIP)),
        inn_le=re.sub(r"\D", "", name.get(names.INN_LE)),
        organization=name.get(names.ORGANIZATION),
    )


def subject_info(cert: x509.Certificate) -> SubjectInfo:
    """Read SN, G, CN, SNILS, INN, OGRN, INNLE and O from the certificate subject."""
    return read_certificate(tlv.encoded(cert)).subject_info


@dataclass(frozen=True)
class CertInfo:
    """The parts of one certificate the checks use, read once (plain values, no lazy parsing left)."""

    der: bytes
    serial: int
    subject: names.NameInfo
    issuer: names.NameInfo
    not_before: dt.datetime
    not_after: dt.datetime
    #: public-key algorithm OID and the GOST key (None when the key is not GOST R 34.10)
    key_algorithm: str
    public_key: GostPublicKey | None
    #: the SubjectPublicKeyInfo as received (what OpenSSL's engine loads)
    spki_der: bytes
    #: keyUsage bit names (asn1crypto's), None when the extension is absent
    key_usage: frozenset[str] | None
    key_id: bytes | None
    authority_key_id: bytes | None
    signature_algorithm: str
    tbs_der: bytes
    signature_value: bytes

    @cached_property
    def subject_info(self) -> SubjectInfo:
        """The subject's identity fields, read once per certificate (every signature asks)."""
        return subject_of(self.subject)

    @cached_property
    def summary_facts(self) -> dict[str, str]:
        """Who holds the certificate and when it is valid, as a report prints them (subject, snils,
        ogrn, serial in hex, not_before, not_after), formatted once per certificate; callers copy it."""
        subject = self.subject_info
        return {
            "subject": subject.full_name or subject.common_name,
            "snils": subject.snils,
            "ogrn": subject.ogrn,
            "serial": f"{self.serial:x}",
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
        }

    @property
    def key_usage_problem(self) -> str | None:
        """Why the key may not sign documents (needs digitalSignature or nonRepudiation); None when fine."""
        if self.key_usage is None:
            return finding_text("cert.no_key_usage")
        if not self.key_usage & {"digital_signature", "non_repudiation"}:
            listed = ", ".join(sorted(self.key_usage)) or finding_text("cert.key_usage_empty")
            return finding_text("cert.key_usage", listed=listed)
        return None


def _part(what: str, read: Callable[[], _T]) -> _T:
    try:
        return read()
    except CertificateUnreadable:
        raise
    except PARSE_ERRORS as exc:
        raise CertificateUnreadable(what) from exc


def _time(value: x509.Time) -> dt.datetime:
    moment = value.native
    if not isinstance(moment, dt.datetime):
        raise ValueError("not a date")
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _extensions(tbs_parts: list[bytes]) -> dict[str, bytes]:
    """extnID (dotted) -> extnValue contents, for every extension (unknown and critical ones too)."""
    found: dict[str, bytes] = {}
    wrapper = next((p for p in tbs_parts if tlv.identifier(p) == 0xA3), None)
    if wrapper is None:
        return found
    [sequence] = tlv.children(wrapper)
    for ext in tlv.children(sequence):
        parts = tlv.children(ext)
        oid = core.ObjectIdentifier.load(parts[0]).dotted
        value = core.OctetString.load(parts[-1]).native
        if not isinstance(value, bytes):
            raise ValueError("extnValue is not an OCTET STRING")
        found.setdefault(oid, value)
    return found


def _key(spki_der: bytes, algorithm: str) -> GostPublicKey | None:
    if algorithm not in KEY_BITS:
        return None
    try:
        return GostPublicKey.from_spki_der(spki_der)
    except GostKeyError as exc:
        raise CertificateUnreadable(finding_text("cert.part.gost_key")) from exc


@dataclass(frozen=True)
class _Parts:
    tbs: bytes
    signature_algorithm: bytes
    signature_value: bytes
    tbs_parts: list[bytes]
    #: index of serialNumber in tbs_parts (1 when the [0] version is present)
    base: int


def _split(der: bytes) -> _Parts:
    tbs, signature_algorithm, signature_value = tlv.children(der)[:3]
    tbs_parts = tlv.children(tbs)
    base = 1 if tlv.identifier(tbs_parts[0]) == 0xA0 else 0
    if len(tbs_parts) < base + 6:
        raise ValueError("tbsCertificate is too short")
    return _Parts(tbs, signature_algorithm, signature_value, tbs_parts, base)


@lru_cache(maxsize=2048)
def read_certificate(der: bytes) -> CertInfo:
    """Read one DER certificate; raises :class:`CertificateUnreadable` naming the part that is broken."""
    parts = _part(FINDINGS["cert.part.structure"], lambda: _split(der))
    field = parts.tbs_parts[parts.base :]
    serial = _part(FINDINGS["cert.part.serial"], lambda: int(core.Integer.load(field[0]).native))
    issuer = _part(FINDINGS["cert.part.issuer"], lambda: names.read_name(field[2]))
    validity = _part(FINDINGS["cert.part.validity"], lambda: x509.Validity.load(field[3]))
    not_before = _part(FINDINGS["cert.part.not_before"], lambda: _time(validity["not_before"]))
    not_after = _part(FINDINGS["cert.part.not_after"], lambda: _time(validity["not_after"]))
    subject = _part(FINDINGS["cert.part.subject"], lambda: names.read_name(field[4]))
    spki = field[5]
    key_algorithm = _part(
        FINDINGS["cert.part.key_algorithm"], lambda: oids.SubjectPublicKeyInfo.load(spki)["algorithm"]["algorithm"].dotted
    )
    public_key = _part(FINDINGS["cert.part.public_key"], lambda: _key(spki, key_algorithm))
    extensions = _part(FINDINGS["cert.part.extensions"], lambda: _extensions(parts.tbs_parts))
    key_usage = None
    if _KEY_USAGE in extensions:
        key_usage = _part(
            FINDINGS["cert.part.key_usage"],
            lambda: frozenset(x509.KeyUsage.load(extensions[_KEY_USAGE]).native),
        )
    key_id = None
    if _SUBJECT_KEY_ID in extensions:
        key_id = _part(
            FINDINGS["cert.part.subject_key_id"], lambda: core.OctetString.load(extensions[_SUBJECT_KEY_ID]).native
        )
    authority_key_id = None
    if _AUTHORITY_KEY_ID in extensions:
        authority_key_id = _part(
            FINDINGS["cert.part.authority_key_id"],
            lambda: x509.AuthorityKeyIdentifier.load(extensions[_AUTHORITY_KEY_ID])["key_identifier"].native,
        )
    signature_algorithm = _part(
        FINDINGS["cert.part.signature_algorithm"], lambda: oids.AlgorithmIdentifier.load(parts.signature_algorithm)["algorithm"].dotted
    )
    signature_value = _part(FINDINGS["cert.part.signature"], lambda: core.OctetBitString.load(parts.signature_value).native)
    return CertInfo(
        der=der, serial=serial, subject=subject, issuer=issuer, not_before=not_before, not_after=not_after,
        key_algorithm=key_algorithm, public_key=public_key, spki_der=spki, key_usage=key_usage, key_id=key_id,
        authority_key_id=authority_key_id, signature_algorithm=signature_algorithm, tbs_der=parts.tbs,
        signature_value=signature_value,
    )


def validity(cert: x509.Certificate) -> tuple[dt.datetime, dt.datetime]:
    """notBefore and notAfter as aware datetimes."""
    info = read_certificate(tlv.encoded(cert))
    return info.not_before, info.not_after


def key_usage_problem(cert: x509.Certificate) -> str | None:
    """Why the key may not sign documents (needs digitalSignature or nonRepudiation); None when fine."""
    return read_certificate(tlv.encoded(cert)).key_usage_problem


@dataclass(frozen=True)
class CertFacts:
    """What the checks read from one certificate, computed once per distinct certificate."""

    subject: SubjectInfo
    not_before: dt.datetime
    not_after: dt.datetime
    key_usage_problem: str | None


@lru_cache(maxsize=2048)
def _facts(der: bytes) -> CertFacts:
    info = read_certificate(der)
    return CertFacts(info.subject_info, info.not_before, info.not_after, info.key_usage_problem)


def cert_facts(cert: x509.Certificate | CertInfo) -> CertFacts:
    """Subject, validity and key-usage verdict of ``cert`` (cached by its DER: signers repeat)."""
    return _facts(cert.der if isinstance(cert, CertInfo) else tlv.encoded(cert))


def read_bundle(path: Path) -> list[CertInfo]:
    """The certificates of a PEM bundle (or one DER certificate); OSError/ValueError when unreadable."""
    data = path.read_bytes()
    if pem.detect(data):
        ders = [der for label, _h, der in pem.unarmor(data, multiple=True) if label == "CERTIFICATE"]
    else:
        ders = [data]
    return [read_certificate(der) for der in ders]


def issued_by(cert: CertInfo, issuer: CertInfo) -> bool:
    """``cert`` names ``issuer`` as its issuer (name, and key identifiers when both are present)."""
    if not cert.issuer.same_as(issuer.subject):
        return False
    aki, ski = cert.authority_key_id, issuer.key_id
    return aki is None or ski is None or aki == ski


def build_chain(cert: CertInfo, intermediates: list[CertInfo], trusted: list[CertInfo]) -> list[CertInfo] | None:
    """The path ``[cert, …, trusted anchor]`` by issuer name and key identifiers, or None when there is none."""
    trusted_der = {t.der for t in trusted}
    chain = [cert]
    current = cert
    for _ in range(8):
        if current.der in trusted_der:
            return chain
        anchor = next((t for t in trusted if issued_by(current, t)), None)
        if anchor is not None:
            if anchor.der != current.der:
                chain.append(anchor)
            return chain
        used = {x.der for x in chain}
        parent = next((c for c in intermediates if c.der not in used and issued_by(current, c)), None)
        if parent is None:
            return None
        chain.append(parent)
        current = parent
    return None
