"""The whole story of one localUid: attempts, journal requests, layers, signatures, callbacks, scenario."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mock_remd.admin.dashboard import i18n
from mock_remd.admin.serialize import life
from mock_remd.catalog.incidents import record_incident
from mock_remd.domain.messages import register_request_from_plain
from mock_remd.domain.model import Attachment, RegisterRequest, snils_digits
from mock_remd.soap.builders import attachment, register_envelope
from mock_remd.store.documents import Document
from mock_remd.store.journal import JournalEntry
from mock_remd.store.outbox import Delivery
from mock_remd.store.repository import Store


@dataclass
class Story:
    """Everything the document page shows."""

    local_uid: str
    attempts: list[Document] = field(default_factory=list)
    selected: Document | None = None
    requests: list[JournalEntry] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    signatures: list[dict[str, Any]] = field(default_factory=list)
    #: ``versions``, ``associations`` and ``linked_from`` of the selected attempt (admin API shapes)
    life: dict[str, Any] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return bool(self.attempts or self.requests)

def load_story(store: Store, local_uid: str, attempt_id: int | None = None, lang: str = "ru") -> Story:
    """Collect the story of ``local_uid``; ``attempt_id`` selects a version (default: the newest); labels in ``lang``."""
    story = Story(local_uid=local_uid)
    story.attempts = store.documents.history(local_uid)
    story.requests, _ = store.journal.list(local_uid=local_uid, limit=200)
    story.requests = [r for r in story.requests if r.operation == "registerDocument"]
    if story.attempts:
        chosen = next((a for a in story.attempts if a.id == attempt_id), story.attempts[0])
        story.selected = store.documents.by_id(chosen.id)
        story.local_uid = chosen.local_uid
    deliveries, _ = store.outbox.list(local_uid=local_uid, limit=200)
    if story.selected is not None:
        deliveries = [d for d in deliveries if d.document_id in (None, story.selected.id)]
    story.deliveries = deliveries
    if story.selected is not None:
        story.signatures = signatures_of(story.selected, lang)
        story.life = life(store, story.selected)
    return story


def signatures_of(doc: Document, lang: str = "ru") -> list[dict[str, Any]]:
    """Signer facts: from the signatures layer when it ran, else read from the request's CMS data."""
    for layer in doc.layers or []:
        if layer.get("name") == "signatures" and layer.get("ran"):
            found = (layer.get("details") or {}).get("signatures")
            if found:
                return [{**s, "label": i18n.signature_label(lang, s.get("label") or "")} for s in found]
    found = inspect_request_signatures(doc.request or {}, lang)
    return [{**s, "label": i18n.signature_label(lang, s.get("label") or "")} for s in found]


def inspect_request_signatures(request: dict[str, Any], lang: str = "ru") -> list[dict[str, Any]]:
    """Decode each detached CMS of a stored request and read its certificate (no checks); labels in ``lang``."""
    t = i18n.translator(lang)
    from mock_remd.gost import certs
    from mock_remd.validation.signatures.cms import SignatureProblem, inspect_signature

    entries: list[tuple[str, str]] = []
    for i, sign in enumerate(request.get("personal_signs") or [], 1):
        data = ((sign or {}).get("signature") or {}).get("data_b64") or ""
        snils = snils_digits(((sign.get("doctor") or {}).get("person") or {}).get("snils"))
        entries.append((f"ЭП сотрудника (СНИЛС {snils})" if snils else f"ЭП сотрудника №{i}", data))
    org = (request.get("org_signature") or {}).get("data_b64") or ""
    if org:
        entries.append(("ЭП МО", org))
    out: list[dict[str, Any]] = []
    for label, data in entries:
        if not data.strip():
            out.append({"label": label, "error": "NO_SIGNATURE"})
            continue
        try:
            sig = inspect_signature(data)
            # asn1crypto parses the certificate when it is first read (InspectedSignature.certificate):
            # here, inside the guard, like the rest of the inspection
            facts = certs.cert_facts(sig.certificate)
            serial = f"{sig.certificate.serial_number:x}"
        except SignatureProblem as exc:
            out.append({"label": label, "error": getattr(exc, "code", "SIGNATURE_DECODING_ERROR")})
            continue
        except Exception:  # a bug of ours must not break the page: the log has it under the incident id
            incident = record_incident("dashboard signature summary")
            out.append({"label": label, "error": t("err.incident", id=incident.id)})
            continue
        out.append({
            "label": label,
            "subject": facts.subject.full_name or facts.subject.common_name,
            "snils": facts.subject.snils,
            "ogrn": facts.subject.ogrn,
            "serial": serial,
            "not_before": facts.not_before.isoformat(),
            "not_after": facts.not_after.isoformat(),
        })
    return out


def request_from_plain(d: dict[str, Any], content: bytes | None) -> RegisterRequest:
    """Rebuild the :class:`RegisterRequest` the store kept from the one declaration of the message
    (:func:`mock_remd.domain.messages.register_request_from_plain`); the document data, which the store
    keeps once as ``content``, is re-attached."""
    req = register_request_from_plain(d)
    if req.document is not None and content is not None:
        req.document = Attachment(data_b64=attachment(content).data_b64, checksum=req.document.checksum)
    return req


def request_envelope(doc: Document) -> bytes | None:
    """The registerDocument SOAP 1.2 envelope of a stored attempt (None for seeded documents)."""
    stored = doc.request
    if not stored:
        return None
    req = request_from_plain(stored, doc.content)
    return register_envelope(req, message_id=req.message_id or None)

