"""Who signs a document that ``mock-remd send`` registers.

* built-in TEST keys (default): every signing doctor gets a TEST certificate issued on the spot for
  their SNILS and name (so the registry's certificate↔metadata checks pass), the organisation one
  for its name with the TEST OGRN/INN; validity covers both the document date and today;
* ``--key/--cert``: that key signs for the legal authenticator (or the first author) only;
  ``--org-key/--org-cert`` sign for the organisation, else the TEST organisation does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mock_remd.client.document import DocumentFacts, SigningDoctor


def _window(created: dt.datetime | None) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
    """(not_before, not_after, signing_time) around the document date and now."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    doc = created.astimezone(dt.UTC) if created else now
    start = min(doc, now) - dt.timedelta(days=30)
    end = max(doc, now) + dt.timedelta(days=365)
    return start, end, max(doc, now)


class SignerOptionsError(ValueError):
    """Keys or certificates given to ``send`` that cannot sign: a catalogue message (``signer.*`` in
    catalog/user_messages.py) naming the option; :meth:`text` renders it, ``str()`` is English."""

    def __init__(self, key: str, **values: object) -> None:
        self.key, self.values = key, values
        super().__init__(self.text("en"))

    def text(self, lang: str) -> str:
        """The sentence in ``lang``."""
        from mock_remd.catalog.user_messages import say

        return say(lang, self.key, **self.values)


def check_pair(key_pem: bytes | None, cert_pem: bytes | None, key_option: str, cert_option: str) -> None:
    """Both or neither given; the key a GOST R 34.10-2012 private key, the certificate X.509.

    Raises :class:`SignerOptionsError` naming the option.
    """
    from mock_remd.signing.keys import load_certificate, load_private_key

    if (key_pem is None) != (cert_pem is None):
        raise SignerOptionsError("signer.pair", key_option=key_option, cert_option=cert_option)
    if key_pem is None or cert_pem is None:
        return
    try:
        load_private_key(key_pem)
    except (ValueError, TypeError, IndexError, OverflowError) as exc:  # asn1crypto's wording stays in the chain
        raise SignerOptionsError("signer.bad_key", option=key_option) from exc
    try:
        cert = load_certificate(cert_pem)
        cert.issuer, cert.serial_number  # noqa: B018  (parsed lazily: read what the signature names now)
    except (ValueError, TypeError, IndexError, OverflowError) as exc:
        raise SignerOptionsError("signer.bad_cert", option=cert_option) from exc


class SignerSet:
    """Signs ``content`` for the doctors of a document and for its organisation."""

    def __init__(self, *, key_pem: bytes | None = None, cert_pem: bytes | None = None,
                 org_key_pem: bytes | None = None, org_cert_pem: bytes | None = None,
                 org_signature: bool = True) -> None:
        """Raises :class:`SignerOptionsError` for a key without its certificate or one that cannot sign."""
        check_pair(key_pem, cert_pem, "--key", "--cert")
        check_pair(org_key_pem, org_cert_pem, "--org-key", "--org-cert")
        self.key_pem, self.cert_pem = key_pem, cert_pem
        self.org_key_pem, self.org_cert_pem = org_key_pem, org_cert_pem
        self.org_signature = org_signature

    def personal(self, content: bytes, facts: DocumentFacts) -> Iterator[tuple[SigningDoctor, bytes]]:
        """(doctor, DER detached CMS) for each doctor who signs."""
        from mock_remd.signing import issue_doctor_cert, sign_detached
        from mock_remd.signing.testkeys import test_doctor

        start, end, when = _window(facts.created)
        if self.key_pem is not None and self.cert_pem is not None:
            doctor = next((d for d in facts.doctors if d.legal_authenticator), facts.doctors[0])
            yield doctor, sign_detached(content, self.key_pem, self.cert_pem, signing_time=when)
            return
        reuse = test_doctor().key_pem  # issuing is what binds SNILS and name; one key pair is enough
        for doctor in facts.doctors:
            key_pem, cert_pem = issue_doctor_cert(
                doctor.snils, doctor.surname, doctor.name, doctor.patronymic, start, end,
                title=doctor.position_name or "Врач", organization=facts.organization_name, key_pem=reuse,
            )
            yield doctor, sign_detached(content, key_pem, cert_pem, signing_time=when)

    def organisation(self, content: bytes, facts: DocumentFacts) -> bytes | None:
        """The organisation's DER detached CMS, or None when switched off."""
        if not self.org_signature:
            return None
        from mock_remd.signing import issue_org_cert, sign_detached
        from mock_remd.signing.testkeys import ORGANISATION, test_organisation

        start, end, when = _window(facts.created)
        if self.org_key_pem is not None and self.org_cert_pem is not None:
            return sign_detached(content, self.org_key_pem, self.org_cert_pem, signing_time=when)
        key_pem, cert_pem = issue_org_cert(
            facts.organization_name or ORGANISATION["name"], ORGANISATION["ogrn"], ORGANISATION["inn_le"],
            start, end, key_pem=test_organisation().key_pem,
        )
        return sign_detached(content, key_pem, cert_pem, signing_time=when)
