"""Reading operation bodies into core values, by local name and in any order (CONTRACT §3)."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from mock_remd.domain.model import (
    Association,
    Attachment,
    Doctor,
    Patient,
    Person,
    PersonalSign,
    RegisterRequest,
)
from mock_remd.xmlsafe import local_name
from mock_remd.xmlsafe import text_of as _text

REGISTER = "registerDocumentRequest"
SEARCH = "searchRegistryItemRequest"
GET_ITEM = "getRegistryItemRequest"
OPERATIONS = {REGISTER: "registerDocument", SEARCH: "searchRegistryItem", GET_ITEM: "getRegistryItem"}


def _children(el: etree._Element | None) -> list[etree._Element]:
    return [] if el is None else [c for c in el if isinstance(c.tag, str)]


def _child_map(el: etree._Element | None) -> dict[str, etree._Element]:
    out: dict[str, etree._Element] = {}
    for c in _children(el):
        out.setdefault(local_name(c), c)
    return out


def _first(m: dict[str, etree._Element], *names: str) -> etree._Element | None:
    for n in names:
        if n in m:
            return m[n]
    return None


def _person(el: etree._Element | None, cls=Person):
    m = _child_map(el)
    values = {
        "local_id": _text(m.get("localId")),
        "snils": _text(m.get("snils")),
        "surname": _text(_first(m, "surname", "family")),
        "name": _text(_first(m, "name", "given")),
        "patronymic": _text(m.get("patronymic")),
    }
    if cls is Patient:
        values["birth_date"] = _text(m.get("birthDate"))
        values["gender"] = _text(m.get("gender"))
    return cls(**values)


def _attachment(el: etree._Element | None) -> Attachment | None:
    if el is None:
        return None
    m = _child_map(el)
    return Attachment(data_b64=_text(m.get("data")), checksum=_text(m.get("checksum")))


#: request elements that are plain text → RegisterRequest attribute
_TEXT_FIELDS = {
    "system": "system",
    "localUid": "local_uid",
    "kind": "kind",
    "creationDateTime": "creation_date_time",
    "organization": "organization",
    "department": "department",
    "documentNumber": "document_number",
    "series": "series",
    "patientSnils": "patient_snils",
}


def parse_register(op: etree._Element, *, message_id: str = "", client_entity_id: str = "") -> RegisterRequest:
    """``registerDocumentRequest`` → :class:`RegisterRequest` (missing elements stay empty)."""
    req = RegisterRequest(message_id=message_id, client_entity_id=client_entity_id)
    for el in _children(op):
        name = local_name(el)
        req.present.add(name)
        if name in _TEXT_FIELDS:
            setattr(req, _TEXT_FIELDS[name], _text(el))
        elif name == "patient":
            req.patient = _person(el, Patient)
        elif name == "personalSigns":
            for ps in _children(el):
                m = _child_map(ps)
                doctor_el = m.get("doctor")
                dm = _child_map(doctor_el)
                doctor = Doctor(
                    role=_text(dm.get("role")),
                    person=_person(dm.get("person")),
                    position=_text(dm.get("position")),
                    speciality=_text(dm.get("speciality")),
                )
                sig_el = m.get("signature")
                sig = _attachment(sig_el if sig_el is not None else m.get("sign"))
                req.personal_signs.append(PersonalSign(doctor=doctor, signature=sig))
        elif name == "orgSignature":
            req.org_signature = _attachment(el)
        elif name == "document":
            req.document = _attachment(el)
        elif name == "associations":
            for a in _children(el):
                m = _child_map(a)
                req.associations.append(Association(target=_text(m.get("target")), type=_text(m.get("type"))))
    return req


@dataclass
class SearchCriteria:
    """``searchRegistryItemRequest`` filters (all optional)."""

    organization: str = ""
    kind: str = ""
    register_date_begin: str = ""
    register_date_end: str = ""
    patient_snils: str = ""


def parse_search(op: etree._Element) -> SearchCriteria:
    """``searchRegistryItemRequest`` → :class:`SearchCriteria`."""
    m = _child_map(op)
    return SearchCriteria(
        organization=_text(m.get("organization")),
        kind=_text(m.get("kind")),
        register_date_begin=_text(m.get("registerDateBegin")),
        register_date_end=_text(m.get("registerDateEnd")),
        patient_snils=_text(m.get("patientSnils")),
    )


def parse_get_item(op: etree._Element) -> str:
    """``getRegistryItemRequest`` → the emdrId asked for."""
    return _text(_child_map(op).get("emdrId"))


def find_register_request(root: etree._Element) -> etree._Element | None:
    """The ``registerDocumentRequest`` element in a SOAP envelope or a bare request document."""
    if local_name(root) == REGISTER:
        return root
    for el in root.iter():
        if isinstance(el.tag, str) and local_name(el) == REGISTER:
            return el
    return None
