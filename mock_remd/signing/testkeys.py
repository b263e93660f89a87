"""The built-in TEST PKI shipped under ``mock_remd/signing/testkeys/`` (keys are public: tests only).

Produced by ``scripts/make_test_pki.py`` (regenerate with ``.venv/bin/python scripts/make_test_pki.py``):

* ``ca.pem`` / ``ca.key.pem`` — "Тестовый УЦ mock-remd" (self-signed, tc26 256 paramSetA);
* ``doctor.pem`` / ``doctor.key.pem`` — a doctor with SNILS, INN and name (:data:`DOCTOR`);
* ``org.pem`` / ``org.key.pem`` — the demo medical organisation with OGRN and INN ЮЛ (:data:`ORGANISATION`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from asn1crypto import x509

from mock_remd.gost.keys import GostPrivateKey
from mock_remd.signing.keys import load_certificate, load_private_key

TESTKEYS_DIR = Path(__file__).with_name("testkeys")

#: the doctor in ``doctor.pem`` (the values the demo request and generated documents use)
DOCTOR = {
    "snils": "11223344595",
    "surname": "Тестов",
    "name": "Иван",
    "patronymic": "Петрович",
    "inn": "500100732259",
}
#: the organisation in ``org.pem``
ORGANISATION = {
    "name": "ГБУЗ МО \"Тестовая больница mock-remd\"",
    "ogrn": "1025000000010",
    "inn_le": "5000000017",
}


@dataclass(frozen=True)
class TestIdentity:
    """A TEST key and its certificate, as PEM and parsed."""

    __test__ = False  # not a pytest test class

    key_pem: bytes
    cert_pem: bytes

    @property
    def private_key(self) -> GostPrivateKey:
        return load_private_key(self.key_pem)

    @property
    def certificate(self) -> x509.Certificate:
        return load_certificate(self.cert_pem)


def _identity(stem: str) -> TestIdentity:
    return TestIdentity(
        key_pem=(TESTKEYS_DIR / f"{stem}.key.pem").read_bytes(),
        cert_pem=(TESTKEYS_DIR / f"{stem}.pem").read_bytes(),
    )


@cache
def test_ca() -> TestIdentity:
    """The TEST certification authority (issues doctor and organisation certificates)."""
    return _identity("ca")


@cache
def test_doctor() -> TestIdentity:
    """The built-in TEST doctor (:data:`DOCTOR`)."""
    return _identity("doctor")


@cache
def test_organisation() -> TestIdentity:
    """The built-in TEST organisation (:data:`ORGANISATION`)."""
    return _identity("org")


test_ca.__test__ = False  # type: ignore[attr-defined]
test_doctor.__test__ = False  # type: ignore[attr-defined]
test_organisation.__test__ = False  # type: ignore[attr-defined]
