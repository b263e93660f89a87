"""What the registry reads from a signer's certificate: subject identity, validity, key usage, chain."""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from asn1crypto import pem, x509

from mock_remd.validation.signatures import oids  # noqa: F401 - registers the GOST OIDs

_SPACES = re.compile(r"\s+")


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


def _first(value: object) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()


def subject_info(cert: x509.Certificate) -> SubjectInfo:
    """Read SN, G, CN, SNILS, INN, OGRN, INNLE and O from the certificate subject."""
    native = cert.subject.native
    return SubjectInfo(
        common_name=_first(native.get("common_name")),
        surname=_first(native.get("surname")),
        given_name=_first(native.get("given_name")),
        snils=re.sub(r"\D", "", _first(native.get("snils"))),
        inn=_first(native.get("inn")),
        ogrn=_first(native.get("ogrn")),
        inn_le=_first(native.get("inn_le")),
        organization=_first(native.get("organization_name")),
    )


def validity(cert: x509.Certificate) -> tuple[dt.datetime, dt.datetime]:
    """notBefore and notAfter as aware datetimes."""
    v = cert["tbs_certificate"]["validity"]
    return v["not_before"].native, v["not_after"].native


def key_usage_problem(cert: x509.Certificate) -> str | None:
    """Why the key may not sign documents (needs digitalSignature or nonRepudiation); None when fine."""
    usage = cert.key_usage_value
    if usage is None:
        return "в сертификате отсутствует расширение «Использование ключа» (keyUsage)"
    granted = set(usage.native)
    if not granted & {"digital_signature", "non_repudiation"}:
        listed = ", ".join(sorted(granted)) or "пусто"
        return f"использование ключа [{listed}] не включает цифровую подпись (digitalSignature) и неотрекаемость (nonRepudiation)"
    return None


@dataclass(frozen=True)
class CertFacts:
    """What the checks read from one certificate, computed once per distinct certificate."""

    subject: SubjectInfo
    not_before: dt.datetime
    not_after: dt.datetime
    key_usage_problem: str | None


@lru_cache(maxsize=2048)
def _facts(der: bytes) -> CertFacts:
    cert = x509.Certificate.load(der)
    not_before, not_after = validity(cert)
    return CertFacts(subject_info(cert), not_before, not_after, key_usage_problem(cert))


def cert_facts(cert: x509.Certificate) -> CertFacts:
    """Subject, validity and key-usage verdict of ``cert`` (cached by its DER: signers repeat)."""
    return _facts(cert.dump())


def _read_bundle(path: Path) -> list[x509.Certificate]:
    data = path.read_bytes()
    if pem.detect(data):
        return [x509.Certificate.load(der) for label, _h, der in pem.unarmor(data, multiple=True) if label == "CERTIFICATE"]
    return [x509.Certificate.load(data)]


_bundle_lock = threading.Lock()
_bundles: dict[Path, tuple[float, list[x509.Certificate]]] = {}


def trusted_bundle(path: Path) -> list[x509.Certificate]:
    """The certificates of a PEM bundle, cached until the file changes."""
    mtime = os.stat(path).st_mtime
    with _bundle_lock:
        cached = _bundles.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
    certs = _read_bundle(path)
    with _bundle_lock:
        _bundles[path] = (mtime, certs)
    return certs


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    aki, ski = cert.authority_key_identifier, issuer.key_identifier
    return aki is None or ski is None or aki == ski


def build_chain(
    cert: x509.Certificate, intermediates: list[x509.Certificate], trusted: list[x509.Certificate]
) -> list[x509.Certificate] | None:
    """The path ``[cert, …, trusted anchor]`` by issuer name and key identifiers, or None when there is none."""
    trusted_der = {t.dump() for t in trusted}
    chain = [cert]
    current = cert
    for _ in range(8):
        if current.dump() in trusted_der:
            return chain
        anchor = next((t for t in trusted if _issued_by(current, t)), None)
        if anchor is not None:
            if anchor.dump() != current.dump():
                chain.append(anchor)
            return chain
        parent = next(
            (c for c in intermediates if c.dump() != current.dump() and c.dump() not in {x.dump() for x in chain}
             and _issued_by(current, c)),
            None,
        )
        if parent is None:
            return None
        chain.append(parent)
        current = parent
    return None
