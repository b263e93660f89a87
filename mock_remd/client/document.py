"""Read what a ``registerDocument`` request needs from a СЭМД (CDA) file, and build the request.

``localUid`` is ``ClinicalDocument/id/@extension``, the kind comes from ``templateId/@root`` through the
NSI 1520 kind registry, ``creationDateTime`` from ``effectiveTime``, the organisation from the
custodian, the patient from ``recordTarget`` and the signing doctors from ``legalAuthenticator``,
``author`` and ``authenticator`` (each SNILS once, the legal authenticator first).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

from lxml import etree

from mock_remd.catalog.kinds import KindRegistry, default_registry
from mock_remd.catalog.user_messages import say, xml_refusal, xml_syntax
from mock_remd.client.signers import SignerSet
from mock_remd.domain.model import Doctor, Patient, Person, PersonalSign, RegisterRequest, snils_digits
from mock_remd.soap.builders import attachment
from mock_remd.validation.cda.access import (
    SNILS_ROOT,
    attr,
    child,
    children,
    has_null_flavor,
    is_cda_root,
    text,
)
from mock_remd.validation.cda.document import CdaHeader
from mock_remd.validation.cda.timestamps import Timestamp, parse_ts
from mock_remd.xmlsafe import UnsafeXmlError, XmlTooLargeError, parse_bytes


class DocumentError(ValueError):
    """The file cannot be turned into a request: a catalogue message (``doc.*``) saying what is missing.

    A value may be a function of the language (a syntax problem described in it); :meth:`text`
    renders the message, ``str()`` is English.
    """

    def __init__(self, key: str, **values: object) -> None:
        self.key, self.values = key, values
        super().__init__(self.text("en"))

    def text(self, lang: str) -> str:
        """The sentence in ``lang``."""
        return say(lang, self.key, **{k: v(lang) if callable(v) else v for k, v in self.values.items()})


def unreadable_xml(exc: Exception) -> DocumentError:
    """The :class:`DocumentError` for content that ``parse_bytes`` refused (syntax, size, DTD)."""
    if isinstance(exc, etree.XMLSyntaxError):
        return DocumentError("doc.not_xml", why=functools.partial(xml_syntax, exc=exc))
    if isinstance(exc, (XmlTooLargeError, UnsafeXmlError)):
        return DocumentError("doc.refused", why=lambda lang: xml_refusal(lang, exc))
    return DocumentError("doc.not_xml", why=functools.partial(xml_syntax, exc=None))


@dataclass(frozen=True)
class SigningDoctor:
    """A medical worker who signs the document (as named in its header)."""

    snils: str
    surname: str
    name: str
    patronymic: str
    local_id: str = ""
    position: str = ""
    position_name: str = ""
    legal_authenticator: bool = False


@dataclass
class DocumentFacts:
    """The header facts a request is built from."""

    local_uid: str
    kind: str
    creation_date_time: str
    created: dt.datetime | None
    organization: str
    organization_name: str
    patient: Patient | None
    doctors: list[SigningDoctor] = field(default_factory=list)


def ts_to_xs_datetime(ts: Timestamp) -> str:
    """An HL7 ``TS`` as ``xs:dateTime`` with offset (a day becomes midnight +03:00, Moscow time)."""
    offset = ts.offset if ts.offset is not None else dt.timedelta(hours=3)
    value = dt.datetime(ts.year, ts.month, ts.day, ts.hour, ts.minute, ts.second, tzinfo=dt.timezone(offset))
    return value.isoformat()


def _patient(doc: CdaHeader) -> Patient | None:
    role = doc.patient_role
    if role is None:
        return None
    local_id = next((attr(i, "extension") for i in children(role, "id")
                     if attr(i, "root") != SNILS_ROOT and not has_null_flavor(i)), "")
    birth = parse_ts(doc.birth_time_raw)
    name = doc.patient_name
    return Patient(
        local_id=local_id, snils=snils_digits(doc.patient_snils), surname=name.family, name=name.given,
        patronymic=name.patronymic, birth_date=birth.date.isoformat() if birth and birth.date else "",
        gender=doc.gender_code,
    )


def _doctors(doc: CdaHeader) -> list[SigningDoctor]:
    people = sorted(doc.people(), key=lambda p: 0 if p.role == "legalAuthenticator" else 1)
    out: dict[str, SigningDoctor] = {}
    for p in people:
        digits = snils_digits(p.snils)
        if not digits or digits in out:
            continue
        code = child(p.element, "code")
        out[digits] = SigningDoctor(
            snils=digits, surname=p.name.family, name=p.name.given, patronymic=p.name.patronymic,
            local_id=p.local_id, position=attr(code, "code"), position_name=attr(code, "displayName"),
            legal_authenticator=p.role == "legalAuthenticator",
        )
    return list(out.values())


def read_facts(content: bytes, kinds: KindRegistry | None = None) -> DocumentFacts:
    """The request-relevant facts of ``content``; :class:`DocumentError` when it is not a usable CDA.

    The kind is left empty when no ``templateId`` is known to the kind registry.
    """
    try:
        root = parse_bytes(content, max_bytes=64 * 1024 * 1024)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise unreadable_xml(exc) from exc
    if not is_cda_root(root):
        raise DocumentError("doc.not_cda")
    doc = CdaHeader(root)
    registry = kinds or default_registry()
    kind = next((k.id for k in (registry.by_template(t) for t in doc.template_roots) if k is not None), "")
    created = doc.effective_time
    org_el = child(root, "custodian", "assignedCustodian", "representedCustodianOrganization")
    return DocumentFacts(
        local_uid=doc.id_extension,
        kind=kind,
        creation_date_time=ts_to_xs_datetime(created) if created else "",
        created=created.instant if created and created.instant else (
            dt.datetime(created.year, created.month, created.day, tzinfo=dt.timezone(dt.timedelta(hours=3)))
            if created else None),
        organization=doc.custodian_oid,
        organization_name=text(child(org_el, "name")),
        patient=_patient(doc),
        doctors=_doctors(doc),
    )


def build_request(facts: DocumentFacts, content: bytes, signers: SignerSet, *, system: str,
                  client_entity_id: str, organization: str = "", kind: str = "",
                  document_number: str = "", message_id: str = "") -> RegisterRequest:
    """The ``registerDocument`` request carrying ``content`` with signatures from ``signers``."""
    missing = [n for n, v in (("ClinicalDocument/id/@extension (localUid)", facts.local_uid),
                              ("effectiveTime (creationDateTime)", facts.creation_date_time)) if not v]
    if missing:
        raise DocumentError("doc.missing", what=lambda lang: (" and no " if lang == "en" else " и ").join(missing))
    kind = kind or facts.kind
    if not kind:
        raise DocumentError("doc.no_kind")
    organization = organization or facts.organization
    if not organization:
        raise DocumentError("doc.no_org")
    if not facts.doctors:
        raise DocumentError("doc.no_signer")
    signs: list[PersonalSign] = []
    for doctor, signature in signers.personal(content, facts):
        signs.append(PersonalSign(
            doctor=Doctor(
                role="1",
                person=Person(local_id=doctor.local_id, snils=doctor.snils, surname=doctor.surname,
                              name=doctor.name, patronymic=doctor.patronymic),
                position=doctor.position,
            ),
            signature=attachment(signature),
        ))
    org_signature = signers.organisation(content, facts)
    return RegisterRequest(
        message_id=message_id,
        client_entity_id=client_entity_id,
        system=system,
        local_uid=facts.local_uid,
        kind=kind,
        creation_date_time=facts.creation_date_time,
        organization=organization,
        document_number=document_number,
        patient=facts.patient,
        personal_signs=signs,
        org_signature=attachment(org_signature) if org_signature is not None else None,
        document=attachment(content),
    )
