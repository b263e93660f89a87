"""Signing step of the generator: pluggable, with a default that uses the built-in TEST PKI.

A *signer* is any object with ``personal(content, world, doctor) -> bytes`` and
``organisation(content, world) -> bytes | None`` returning DER detached CMS. The default,
:class:`TestPkiSigner`, issues a TEST certificate for each doctor (that doctor's SNILS and name, valid
around the document date) and one for the organisation, all under the built-in TEST CA of
:mod:`mock_remd.signing`. GOST signatures are randomised, so signature bytes differ between runs even
for the same seed; everything else is deterministic.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from mock_remd.generator.model import Staff, World


class Signer(Protocol):
    """What :func:`mock_remd.generator.generate` calls to sign a document."""

    def personal(self, content: bytes, world: World, doctor: Staff) -> bytes:
        """The detached CMS of ``doctor`` over ``content``."""
        ...

    def organisation(self, content: bytes, world: World) -> bytes | None:
        """The organisation's detached CMS over ``content`` (None: no org signature)."""
        ...


def signing_time(world: World) -> dt.datetime:
    """When the generated document is signed: two minutes after it was created."""
    return world.created + dt.timedelta(minutes=2)


class TestPkiSigner:
    """Signs with certificates issued on the fly by the built-in TEST CA (TEST KEYS — never trust them).

    All certificates reuse the built-in test key pairs (issuing is what makes each certificate carry
    the right SNILS and name), so signing a document costs a few tens of milliseconds.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, *, message_digest: bytes | None = None) -> None:
        from mock_remd.signing import testkeys

        self._testkeys = testkeys
        self._message_digest = message_digest

    def _validity(self, world: World) -> tuple[dt.datetime, dt.datetime]:
        start = (world.created - dt.timedelta(days=200)).astimezone(dt.UTC)
        return start, start + dt.timedelta(days=5 * 365)

    def personal(self, content: bytes, world: World, doctor: Staff) -> bytes:
        """A doctor's signature with a certificate issued for that doctor."""
        from mock_remd.signing import issue_doctor_cert, sign_detached

        start, end = self._validity(world)
        key_pem, cert_pem = issue_doctor_cert(
            doctor.snils, doctor.family, doctor.given, doctor.patronymic, start, end,
            title=doctor.position.display, organization=world.organisation.name,
            key_pem=self._testkeys.test_doctor().key_pem,
        )
        return sign_detached(content, key_pem, cert_pem, signing_time=signing_time(world),
                             message_digest=self._message_digest)

    def organisation(self, content: bytes, world: World) -> bytes | None:
        """The organisation's signature with a certificate issued for its name, OGRN and INN."""
        from mock_remd.signing import issue_org_cert, sign_detached

        org = world.organisation
        start, end = self._validity(world)
        key_pem, cert_pem = issue_org_cert(
            org.name, org.ogrn, org.inn, start, end, key_pem=self._testkeys.test_organisation().key_pem
        )
        return sign_detached(content, key_pem, cert_pem, signing_time=signing_time(world),
                             message_digest=self._message_digest)


def default_signer() -> Signer:
    """The signer used when none is given: :class:`TestPkiSigner`."""
    return TestPkiSigner()
