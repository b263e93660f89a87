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


class SignerSet:
    """Signs ``content`` for the doctors of a document and for its organisation."""

    def __init__(self, *, key_pem: bytes | None = None, cert_pem: bytes | None = None,
                 org_key_pem: bytes | None = None, org_cert_pem: bytes | None = None,
                 org_signature: bool = True) -> None:
        if (key_pem is None) != (cert_pem is None):
            raise ValueError("--key and --cert go together")
        if (org_key_pem is None) != (org_cert_pem is None):
            raise ValueError("--org-key and --org-cert go together")
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
