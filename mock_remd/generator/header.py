"""The CDA header shared by every generated kind (the "Main"/"У1" rules of the official packs)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lxml import etree

from mock_remd.generator import nsi
from mock_remd.generator.model import Address, Organisation, Person, Staff, World
from mock_remd.generator.xml import Code, coded, el, root

SNILS_ROOT = "1.2.643.100.3"
MINZDRAV_OID = "1.2.643.5.1.13"
LICENSE_ROOT = "1.2.643.5.1.13.2.1.1.1504.101"
SMO_ROOT = "1.2.643.5.1.13.13.99.2.183"


@dataclass(frozen=True)
class HeaderSpec:
    """What differs between kinds in the header."""

    template_id: str
    code: Code
    translation: Code | None
    title: str
    #: write ``xsi:type`` on RU extension elements (the generic HL7 XSD of 119 allows it, strict packs forbid)
    ext_xsi_types: bool
    service_event: Code
    #: write the optional IND participant (payer)
    payer: bool = True
    #: ``performer/functionCode`` of the service event (required by some kinds)
    performer_function: Code | None = None
    #: service event time as one ``@value`` (186) instead of ``low``/``high``
    event_time_point: bool = False
    #: service event performers carry the SNILS id as well as the staff id (186 allows only the latter)
    performer_snils: bool = True
    #: ``encompassingEncounter/medService:DocType`` (186 forbids it unless code is 3)
    encounter_doc_type: bool = True


def ts_minutes(moment: dt.datetime) -> str:
    """``YYYYMMDDHHmm+ZZZZ`` — minute precision with the offset, accepted by every pack."""
    return moment.strftime("%Y%m%d%H%M%z")


def ts_day(day: dt.date) -> str:
    """``YYYYMMDD``."""
    return day.strftime("%Y%m%d")


def _t(spec: HeaderSpec, t: str) -> str | None:
    return t if spec.ext_xsi_types else None


def address(parent: etree._Element, addr: Address, spec: HeaderSpec, addr_type: Code | None = None) -> None:
    """``addr`` with address:Type (patients), streetAddressLine, stateCode, postalCode, fias:Address."""
    node = el(parent, "addr")
    if addr_type is not None:
        coded(node, "address:Type", addr_type, xsi_type=_t(spec, "CD"))
    el(node, "streetAddressLine", text=addr.line)
    coded(node, "address:stateCode", addr.region, xsi_type=_t(spec, "CD"))
    el(node, "postalCode", text=addr.postal_code)
    fias = el(node, "fias:Address")
    el(fias, "fias:AOGUID", text=addr.ao_guid)
    if addr.house_guid:
        el(fias, "fias:HOUSEGUID", text=addr.house_guid)
    else:
        el(fias, "fias:HOUSEGUID", {"nullFlavor": "NI"})


def person_name(parent: etree._Element, person: Person, spec: HeaderSpec) -> None:
    """``name`` with family, given and identity:Patronymic."""
    name = el(parent, "name")
    el(name, "family", text=person.family)
    el(name, "given", text=person.given)
    el(name, "identity:Patronymic", text=person.patronymic, xsi_type=_t(spec, "ST"))


def organisation(parent: etree._Element, tag: str, org: Organisation, spec: HeaderSpec, telecom: bool = True) -> None:
    """``representedOrganization``-like block: id, name, telecom, addr."""
    node = el(parent, tag, {"classCode": "ORG"})
    el(node, "id", {"root": org.oid})
    el(node, "name", text=org.name)
    if telecom:
        el(node, "telecom", {"value": f"tel:{org.phone}", "use": "WP"})
    address(node, org.address, spec)


def staff_ids(parent: etree._Element, world: World, doctor: Staff) -> None:
    """The two ids of a medical worker: MIS staff id (``.70``) and SNILS."""
    el(parent, "id", {"root": world.id_root("70"), "extension": doctor.local_id})
    el(parent, "id", {"root": SNILS_ROOT, "extension": doctor.snils})


def _patient_role(doc: etree._Element, world: World, spec: HeaderSpec) -> None:
    pat = world.patient
    role = el(el(doc, "recordTarget"), "patientRole")
    el(role, "id", {"root": world.id_root("10"), "extension": pat.local_id})
    el(role, "id", {"root": SNILS_ROOT, "extension": pat.snils})
    idoc = el(role, "identity:IdentityDoc")
    coded(idoc, "identity:IdentityCardType", nsi.PASSPORT, xsi_type=_t(spec, "CD"))
    el(idoc, "identity:Series", text=pat.passport_series, xsi_type=_t(spec, "ST"))
    el(idoc, "identity:Number", text=pat.passport_number, xsi_type=_t(spec, "ST"))
    el(idoc, "identity:IssueOrgName", text=pat.passport_issuer, xsi_type=_t(spec, "ST"))
    el(idoc, "identity:IssueOrgCode", text=pat.passport_issuer_code, xsi_type=_t(spec, "ST"))
    el(idoc, "identity:IssueDate", {"value": ts_day(pat.passport_date)}, xsi_type=_t(spec, "TS"))
    policy = el(role, "identity:InsurancePolicy")
    coded(policy, "identity:InsurancePolicyType", nsi.POLICY_UNIFIED, xsi_type=_t(spec, "CD"))
    el(policy, "identity:Number", text=pat.policy_number, xsi_type=_t(spec, "ST"))
    assert pat.address is not None
    address(role, pat.address, spec, addr_type=nsi.ADDR_ACTUAL)
    el(role, "telecom", {"value": f"tel:{pat.phone}", "use": "MC"})
    patient = el(role, "patient")
    person_name(patient, pat, spec)
    coded(patient, "administrativeGenderCode", nsi.MALE if pat.gender == "1" else nsi.FEMALE)
    el(patient, "birthTime", {"value": ts_day(pat.birth_date)})
    org = world.organisation
    prov = el(role, "providerOrganization")
    el(prov, "id", {"root": org.oid})
    el(prov, "id", {"root": LICENSE_ROOT, "extension": org.license,
                    "assigningAuthorityName": "Министерство здравоохранения Московской области"})
    props = el(prov, "identity:Props")
    el(props, "identity:Ogrn", text=org.ogrn, xsi_type=_t(spec, "ST"))
    el(prov, "name", text=org.name)
    el(prov, "telecom", {"value": f"tel:{org.phone}", "use": "WP"})
    address(prov, org.address, spec)


def _author(doc: etree._Element, world: World, spec: HeaderSpec) -> None:
    doctor = world.author
    author = el(doc, "author")
    el(author, "time", {"nullFlavor": "NI"})
    assigned = el(author, "assignedAuthor")
    staff_ids(assigned, world, doctor)
    coded(assigned, "code", doctor.position)
    el(assigned, "telecom", {"value": f"tel:{world.organisation.phone}", "use": "WP"})
    person_name(el(assigned, "assignedPerson"), doctor, spec)
    organisation(assigned, "representedOrganization", world.organisation, spec)


def _custodian(doc: etree._Element, world: World, spec: HeaderSpec) -> None:
    assigned = el(el(doc, "custodian"), "assignedCustodian")
    organisation(assigned, "representedCustodianOrganization", world.organisation, spec)


def _recipient(doc: etree._Element) -> None:
    org = el(el(el(doc, "informationRecipient"), "intendedRecipient"), "receivedOrganization")
    el(org, "id", {"root": MINZDRAV_OID})
    el(org, "name", text="Министерство здравоохранения Российской Федерации")


def _legal_authenticator(doc: etree._Element, world: World, spec: HeaderSpec) -> None:
    doctor = world.author
    la = el(doc, "legalAuthenticator")
    el(la, "time", {"nullFlavor": "NI"})
    el(la, "signatureCode", {"nullFlavor": "NI"})
    entity = el(la, "assignedEntity")
    staff_ids(entity, world, doctor)
    coded(entity, "code", doctor.position)
    person_name(el(entity, "assignedPerson"), doctor, spec)
    organisation(entity, "representedOrganization", world.organisation, spec, telecom=False)


def _payer(doc: etree._Element, world: World, spec: HeaderSpec) -> None:
    pat = world.patient
    entity = el(el(doc, "participant", {"typeCode": "IND"}), "associatedEntity", {"classCode": "GUAR"})
    coded(entity, "code", nsi.OMS)
    info = el(entity, "identity:DocInfo")
    coded(info, "identity:IdentityDocType", nsi.BASIS_POLICY, xsi_type=_t(spec, "CD"))
    coded(info, "identity:InsurancePolicyType", nsi.POLICY_UNIFIED, xsi_type=_t(spec, "CD"))
    el(info, "identity:Series", {"nullFlavor": "NA"}, xsi_type=_t(spec, "ST"))
    el(info, "identity:Number", text=pat.policy_number, xsi_type=_t(spec, "ST"))
    el(info, "identity:INN", {"nullFlavor": "NI"}, xsi_type=_t(spec, "ST"))
    period = el(info, "identity:effectiveTime")
    el(period, "identity:low", {"value": ts_day(pat.policy_since)}, xsi_type=_t(spec, "TS"))
    el(period, "identity:high", {"nullFlavor": "NAV"}, xsi_type=_t(spec, "TS"))
    smo = el(entity, "scopingOrganization")
    el(smo, "id", {"root": SMO_ROOT, "extension": world.insurer.code})
    el(smo, "name", text=world.insurer.name)
    el(smo, "telecom", {"value": f"tel:{world.insurer.phone}"})
    address(smo, world.insurer.address, spec)


def _service_event(doc: etree._Element, world: World, spec: HeaderSpec) -> None:
    event = el(el(doc, "documentationOf"), "serviceEvent")
    coded(event, "code", spec.service_event)
    if spec.event_time_point:
        el(event, "effectiveTime", {"value": ts_minutes(world.created - dt.timedelta(minutes=30))})
    else:
        period = el(event, "effectiveTime")
        el(period, "low", {"value": ts_minutes(world.created - dt.timedelta(minutes=40))})
        el(period, "high", {"value": ts_minutes(world.created - dt.timedelta(minutes=10))})
    coded(event, "medService:serviceForm", nsi.PLANNED, xsi_type=_t(spec, "CD"))
    coded(event, "medService:serviceType", nsi.PRIMARY_SPECIALISED, xsi_type=_t(spec, "CD"))
    coded(event, "medService:serviceCond", nsi.OUTPATIENT, xsi_type=_t(spec, "CD"))
    for doctor in world.doctors:
        performer = el(event, "performer", {"typeCode": "PPRF"})
        if spec.performer_function is not None:
            coded(performer, "functionCode", spec.performer_function)
        entity = el(performer, "assignedEntity")
        if spec.performer_snils:
            staff_ids(entity, world, doctor)
        else:
            el(entity, "id", {"root": world.id_root("70"), "extension": doctor.local_id})
        coded(entity, "code", doctor.position)
        person_name(el(entity, "assignedPerson"), doctor, spec)


def _encounter(doc: etree._Element, world: World, spec: HeaderSpec) -> None:
    enc = el(el(doc, "componentOf"), "encompassingEncounter")
    el(enc, "id", {"root": world.id_root("15"), "extension": world.case_id})
    el(enc, "id", {"root": world.id_root("17"), "extension": world.card_id})
    coded(enc, "code", nsi.OUTPATIENT_CARD)
    if spec.encounter_doc_type:
        coded(enc, "medService:DocType", nsi.OUTPATIENT_CARD_DOC, xsi_type=_t(spec, "CD"))
    period = el(enc, "effectiveTime")
    el(period, "low", {"value": ts_day(world.created.date())})


def build_header(world: World, spec: HeaderSpec) -> etree._Element:
    """The ``ClinicalDocument`` with every header element, ready for ``component/structuredBody``."""
    doc = root()
    el(doc, "realmCode", {"code": "RU"})
    el(doc, "typeId", {"root": "2.16.840.1.113883.1.3", "extension": "POCD_MT000040"})
    el(doc, "templateId", {"root": spec.template_id})
    el(doc, "id", {"root": world.id_root("51"), "extension": world.local_uid})
    code = coded(doc, "code", spec.code)
    if spec.translation is not None:
        coded(code, "translation", spec.translation)
    el(doc, "title", text=spec.title)
    el(doc, "effectiveTime", {"value": ts_minutes(world.created)})
    coded(doc, "confidentialityCode", nsi.NORMAL)
    el(doc, "languageCode", {"code": "ru-RU"})
    el(doc, "setId", {"root": world.id_root("50"), "extension": world.local_uid})
    el(doc, "versionNumber", {"value": "1"})
    _patient_role(doc, world, spec)
    _author(doc, world, spec)
    _custodian(doc, world, spec)
    _recipient(doc)
    _legal_authenticator(doc, world, spec)
    if spec.payer:
        _payer(doc, world, spec)
    _service_event(doc, world, spec)
    _encounter(doc, world, spec)
    return doc
