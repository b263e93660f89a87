"""The header rules every modern СЭМД shares, written as code.

They follow what the shared Минздрав rule modules (Main01–Main06 for the header parts, Core01–Core05
and Core08 for names, addresses, dates, identity documents and staff, Extra01/Extra02 for SNILS and
postal code shapes) require — never more: edition-specific rules (for example "no seconds in
``effectiveTime``" or "no nullFlavor on the patient's SNILS") belong to the kind's own rule pack.
Where the 2023+ packs are laxer than the older modules (ids need only the ``.51``/``.50``/``.10``/``.70``
suffix, not the ``.100.`` part), the laxer form is used. One addition: every SNILS in the header must
have a correct check digit, as the registry cannot identify a person otherwise.

Rule ids are our own (``H-<part>``); every finding carries the element path and source line.
:data:`HEADER_RULES` names each rule's source. Whether a ``ClinicalDocument`` part must be present
is not ours to decide: it is required exactly where the kind's official pack requires it
(:mod:`mock_remd.validation.cda.pack_requirements`); the rules check the shape of a part that is there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from mock_remd.catalog.findings import text as finding_text
from mock_remd.validation.cda import snils
from mock_remd.validation.cda.access import SNILS_ROOT, ChildIndex, attr, has_null_flavor
from mock_remd.validation.cda.checker import RuleChecker
from mock_remd.validation.cda.document import NSI_DOC_TYPES, NSI_KINDS, NSI_SEMD_TYPES
from mock_remd.validation.cda.pack_requirements import CDA_R2_REQUIRED, PackRequirements
from mock_remd.validation.cda.timestamps import is_registry_ts
from mock_remd.validation.report import Finding

_OID = r"[0-2](?:\.(?:[1-9][0-9]*|0))+"  # non-capturing: sre keeps no marks per component


#: the first arc of an OID
_ROOT_ARCS = ("0", "1", "2")


class MisIdRoot:
    """An OID ending in ``.<suffix>``, the kind of object a MIS id names (``.51`` document, ``.10`` patient …).

    The conventional shape is ``<OID МО>.100.<МИС>.<экземпляр>.<suffix>``; the older rule modules insist on
    the ``.100.`` part, the 2023+ packs only on the suffix, so the shared rule checks the suffix and
    leaves the rest to the kind's own pack.

    :meth:`match` answers exactly as :attr:`pattern` does; the usual OID is told without the regex
    engine's cost per component (~10k instructions for a 15-component OID).
    """

    def __init__(self, suffix: str) -> None:
        self.tail = "." + suffix
        #: the same rule as a regular expression (the reference the tests compare :meth:`match` with)
        self.pattern = re.compile(rf"^{_OID}\.{suffix}$")

    def match(self, value: str) -> bool:
        """True when ``value`` is ``<OID>.<suffix>``, exactly as :attr:`pattern` says."""
        body = value[: -len(self.tail)] if value.endswith(self.tail) else ""
        if (  # the usual OID: arcs of plain digits without a leading 0 (else the regex decides)
            body[:1] in _ROOT_ARCS and body[1:2] == "." and body[-1] != "." and body.isascii()
            and ".0" not in body and ".." not in body and body.replace(".", "").isdigit()
        ):
            return True
        return self.pattern.match(value) is not None


DOC_ID_ROOT = MisIdRoot("51")
SET_ID_ROOT = MisIdRoot("50")
PATIENT_ID_ROOT = MisIdRoot("10")
STAFF_ID_ROOT = MisIdRoot("70")
POSTAL_CODE = re.compile(r"^[0-9]{6}$")

TYPE_ID_ROOT = "2.16.840.1.113883.1.3"
TYPE_ID_EXTENSION = "POCD_MT000040"
MINZDRAV_OID = "1.2.643.5.1.13"
LICENSE_ROOT = "1.2.643.5.1.13.2.1.1.1504.101"

DOC_CODE_SYSTEMS = (*NSI_DOC_TYPES, NSI_SEMD_TYPES, NSI_KINDS)
CONFIDENTIALITY_SYSTEMS = (
    "1.2.643.5.1.13.13.99.2.285",
    "1.2.643.5.1.13.2.1.1.1504.9",
    "2.16.840.1.113883.2.35.10.9",
    "1.2.643.5.1.13.13.11.1116",
)
IDENTITY_CARD_SYSTEMS = ("1.2.643.5.1.13.13.99.2.48", "1.2.643.5.1.13.13.11.1011", "1.2.643.5.1.13.2.1.1.736")
POLICY_TYPE_SYSTEMS = ("1.2.643.5.1.13.13.11.1035",)
REGION_SYSTEMS = ("1.2.643.5.1.13.13.99.2.206", "1.2.643.5.1.13.13.11.1093")
ADDRESS_TYPE_SYSTEMS = (
    "1.2.643.5.1.13.13.11.1504",
    "1.2.643.5.1.13.13.11.1415",
    "1.2.643.5.1.13.13.99.2.241",
)
GENDER_SYSTEMS = ("1.2.643.5.1.13.13.11.1040", "1.2.643.5.1.13.2.1.1.156")
POSITION_SYSTEMS = ("1.2.643.5.1.13.13.11.1002", "1.2.643.5.1.13.2.1.1.733")

CD = "ClinicalDocument"
PR = "ClinicalDocument/recordTarget/patientRole"

_DOC_ID_WORDS, _SET_ID_WORDS, _PATIENT_ID_WORDS, _STAFF_ID_WORDS = (
    finding_text("cda.words.mis_id", suffix=n) for n in (51, 50, 10, 70)
)


_PACK = "пакет вида СЭМД (правило {module} общих модулей Минздрава; наличие элемента — где пакет вида его требует)"


@dataclass(frozen=True)
class HeaderRule:
    """One header rule: the ``ClinicalDocument`` part it checks and where the rule comes from."""

    id: str
    #: the ClinicalDocument child whose presence the rule checks (required only where the pack requires it)
    element: str
    source: str


HEADER_RULES: tuple[HeaderRule, ...] = (
    HeaderRule("H-document", "", _PACK.format(module="Main01-1")),
    HeaderRule("H-realmCode", "realmCode", _PACK.format(module="Main01-1")),
    HeaderRule("H-typeId", "typeId", _PACK.format(module="Main01-2")),
    HeaderRule("H-templateId", "templateId", _PACK.format(module="Main01-3")),
    HeaderRule("H-id", "id", _PACK.format(module="Main01-4")),
    HeaderRule("H-code", "code", _PACK.format(module="Main01-5")),
    HeaderRule("H-title", "title", _PACK.format(module="Main01-6")),
    HeaderRule("H-effectiveTime", "effectiveTime", _PACK.format(module="Main01-7, Core03-1")),
    HeaderRule("H-confidentialityCode", "confidentialityCode", _PACK.format(module="Main01-8")),
    HeaderRule("H-languageCode", "languageCode", _PACK.format(module="Main01-9")),
    HeaderRule("H-setId", "setId", _PACK.format(module="Main01-10")),
    HeaderRule("H-versionNumber", "versionNumber", _PACK.format(module="Main01-11")),
    HeaderRule("H-structuredBody", "component", _PACK.format(module="Main01-12")),
    HeaderRule("H-recordTarget", "recordTarget", _PACK.format(module="Main02-1")),
    HeaderRule("H-identityDoc", "", _PACK.format(module="Core05-1")),
    HeaderRule("H-insurancePolicy", "", _PACK.format(module="Main02-1")),
    HeaderRule("H-addr", "", _PACK.format(module="Core02-1, Extra02-1")),
    HeaderRule("H-patient", "", _PACK.format(module="Main02-1, Core01-1")),
    HeaderRule("H-providerOrganization", "", _PACK.format(module="Main02-1, Core06-1")),
    HeaderRule(
        "H-patient-snils",
        "",
        "форма СНИЛС: Extra01-1; контрольное число: текст реестра в remd-error-messages.tsv "
        "«Пациент не определен: [СНИЛС [...] не валидно контрольное число]» (все виды)",
    ),
    HeaderRule("H-author", "author", _PACK.format(module="Main03-1, Core08-1")),
    HeaderRule("H-custodian", "custodian", _PACK.format(module="Main04-1")),
    HeaderRule(
        "H-informationRecipient",
        "informationRecipient",
        _PACK.format(module="Main05-1 / У1-24")
        + "; получатель — Минздрав России, где пакет требует informationRecipient с id/@root='1.2.643.5.1.13'",
    ),
    HeaderRule("H-legalAuthenticator", "legalAuthenticator", _PACK.format(module="Main06-1, Core08-1")),
)
RULES_BY_ID = {rule.id: rule for rule in HEADER_RULES}
#: without any knowledge of the kind's pack: only what the CDA R2 schema itself requires
CDA_R2_ONLY = PackRequirements(CDA_R2_REQUIRED, False, "HL7 CDA R2")


def check_header(
    root: etree._Element, requires: PackRequirements | None = None, index: ChildIndex | None = None
) -> list[Finding]:
    """Run every header rule on a parsed ``ClinicalDocument``; returns the failures.

    ``requires`` says which parts the kind's official pack requires (default: only what CDA R2 does);
    ``index``, the document's children as its other readers have read them.
    """
    req = requires or CDA_R2_ONLY
    c = RuleChecker(index=index)
    _document(c, root, req)
    _record_target(c, root, req)
    _author(c, root, req)
    _custodian(c, root, req)
    _information_recipient(c, root, req)
    _legal_authenticator(c, root, req)
    return c.findings


def _part(c: RuleChecker, rule: str, root: etree._Element, req: PackRequirements) -> etree._Element | None:
    """The ``ClinicalDocument`` child the rule is about: exactly one where the kind's pack requires it,
    at most one elsewhere."""
    element = RULES_BY_ID[rule].element
    if element in req.required:  # req.requires(element), without the call
        return c.one(rule, root, CD, element)
    return c.optional(rule, root, CD, element)


# -- shared pieces -------------------------------------------------------------------------------
def _timestamp(c: RuleChecker, rule: str, el: etree._Element, label: str) -> None:
    """A date that is not nullFlavor must have ``@value`` in one of the accepted shapes."""
    if has_null_flavor(el):
        return
    if c.attr_present(rule, el, label, "value") and not is_registry_ts(el.get("value")):
        c.fail(rule, el, finding_text("cda.timestamp", label=label))


def _snils(c: RuleChecker, rule: str, id_el: etree._Element, label: str) -> None:
    """A SNILS ``id``: root, shape and check digit."""
    if not c.attr_equals(rule, id_el, label, "root", SNILS_ROOT):
        return
    if not c.attr_nonempty(rule, id_el, label, "extension"):
        return
    value = attr(id_el, "extension")
    if not snils.shape_ok(value):
        c.fail(
            rule,
            id_el,
            finding_text("cda.snils_shape", label=label),
        )
    elif not snils.checksum_ok(value):
        c.fail(
            rule,
            id_el,
            finding_text("cda.snils_checksum", label=label, value=value),
        )


def _name(c: RuleChecker, rule: str, name: etree._Element, label: str) -> None:
    """A person's name: one non-empty family and given name, at most one non-empty patronymic."""
    if not c.no_null_flavor(rule, name, label):
        return
    for part in ("family", "given"):
        el = c.one(rule, name, label, part)
        if el is not None and c.no_null_flavor(rule, el, f"{label}/{part}"):
            c.text_nonempty(rule, el, f"{label}/{part}")
    patronymic = c.optional(rule, name, label, "identity:Patronymic")
    if patronymic is not None and c.no_null_flavor(rule, patronymic, label, sub="identity:Patronymic"):
        c.text_nonempty(rule, patronymic, label, sub="identity:Patronymic")


def _addr(c: RuleChecker, addr: etree._Element, label: str) -> None:
    """An address that is not nullFlavor: street line, region, postal code, FIAS ids."""
    rule = "H-addr"
    if has_null_flavor(addr):
        return
    for addr_type in c.children(addr, "address:Type"):
        c.coded(rule, addr_type, label, ADDRESS_TYPE_SYSTEMS, sub="address:Type")
    street = c.one(rule, addr, label, "streetAddressLine")
    if street is not None and c.no_null_flavor(rule, street, label, sub="streetAddressLine"):
        c.text_nonempty(rule, street, label, sub="streetAddressLine")
    state = c.one(rule, addr, label, "address:stateCode")
    if state is not None:
        c.coded(rule, state, label, REGION_SYSTEMS, sub="address:stateCode")
    postal = c.one(rule, addr, label, "postalCode")
    if (
        postal is not None
        and not has_null_flavor(postal)
        and c.text_nonempty(rule, postal, label, sub="postalCode")
    ):
        if not POSTAL_CODE.match(postal.text.strip() if postal.text else ""):
            c.fail(
                rule, postal, finding_text("cda.postal_code", label=label)
            )
    fias = c.one(rule, addr, label, "fias:Address")
    if fias is None or has_null_flavor(fias):
        return
    aoguid = c.one(rule, fias, label, "fias:AOGUID", sub="fias:Address")
    if aoguid is not None and c.no_null_flavor(rule, aoguid, label, sub="fias:Address/fias:AOGUID"):
        c.text_nonempty(rule, aoguid, label, sub="fias:Address/fias:AOGUID")
    houseguid = c.one(rule, fias, label, "fias:HOUSEGUID", sub="fias:Address")
    if houseguid is not None and not has_null_flavor(houseguid):
        c.text_nonempty(rule, houseguid, label, sub="fias:Address/fias:HOUSEGUID")


def _organization(
    c: RuleChecker, rule: str, org: etree._Element, label: str, *, addr_count: str | int
) -> None:
    """``representedOrganization``-like element: classCode ORG, one id and name, address."""
    if not c.no_null_flavor(rule, org, label):
        return
    c.attr_equals(rule, org, label, "classCode", "ORG")
    org_id = c.one(rule, org, label, "id")
    if org_id is not None:
        c.no_null_flavor(rule, org_id, label, sub="id")
    c.one(rule, org, label, "name")
    for addr in c.count(rule, org, label, "addr", addr_count):
        if c.no_null_flavor(rule, addr, label, sub="addr"):
            _addr(c, addr, f"{label}/addr")


def _staff(c: RuleChecker, rule: str, entity: etree._Element, label: str) -> None:
    """A medical worker (``assignedAuthor``/``assignedEntity``): staff id + SNILS, position, name, organisation."""
    if not c.no_null_flavor(rule, entity, label):
        return
    ids = c.count(rule, entity, label, "id", 2)
    if ids:
        first = ids[0]
        if c.no_null_flavor(rule, first, label, sub="id[1]"):
            c.attr_matches(rule, first, label, "root", STAFF_ID_ROOT, _STAFF_ID_WORDS, sub="id[1]")
            c.attr_nonempty(rule, first, label, "extension", sub="id[1]")
    if len(ids) >= 2 and c.no_null_flavor(rule, ids[1], label, sub="id[2]"):
        _snils(c, rule, ids[1], f"{label}/id[2]")
    code = c.one(rule, entity, label, "code")
    if code is not None and c.no_null_flavor(rule, code, label, sub="code"):
        c.attr_in(rule, code, label, "codeSystem", POSITION_SYSTEMS, sub="code")
    addr = c.optional(rule, entity, label, "addr")
    if addr is not None and c.no_null_flavor(rule, addr, label, sub="addr"):
        _addr(c, addr, f"{label}/addr")
    person = c.one(rule, entity, label, "assignedPerson")
    if person is not None and c.no_null_flavor(rule, person, label, sub="assignedPerson"):
        name = c.one(rule, person, label, "name", sub="assignedPerson")
        if name is not None:
            _name(c, rule, name, f"{label}/assignedPerson/name")
    org = c.optional(rule, entity, label, "representedOrganization")
    if org is not None:
        _organization(c, rule, org, f"{label}/representedOrganization", addr_count="<=1")


# -- ClinicalDocument ----------------------------------------------------------------------------
def _document(c: RuleChecker, root: etree._Element, req: PackRequirements) -> None:
    c.no_null_flavor("H-document", root, CD)

    realm = _part(c, "H-realmCode", root, req)
    if realm is not None and c.no_null_flavor("H-realmCode", realm, "ClinicalDocument/realmCode"):
        c.attr_equals("H-realmCode", realm, "ClinicalDocument/realmCode", "code", "RU")

    type_id = _part(c, "H-typeId", root, req)
    if type_id is not None and c.no_null_flavor("H-typeId", type_id, "ClinicalDocument/typeId"):
        c.attr_equals("H-typeId", type_id, "ClinicalDocument/typeId", "root", TYPE_ID_ROOT)
        c.attr_equals("H-typeId", type_id, "ClinicalDocument/typeId", "extension", TYPE_ID_EXTENSION)

    templates = c.count("H-templateId", root, CD, "templateId", 1 if req.requires("templateId") else "<=1")
    for template in templates:
        if c.no_null_flavor("H-templateId", template, "ClinicalDocument/templateId"):
            c.attr_nonempty("H-templateId", template, "ClinicalDocument/templateId", "root")

    doc_id = _part(c, "H-id", root, req)
    if doc_id is not None and c.no_null_flavor("H-id", doc_id, "ClinicalDocument/id"):
        c.attr_matches("H-id", doc_id, "ClinicalDocument/id", "root", DOC_ID_ROOT, _DOC_ID_WORDS)
        c.attr_nonempty("H-id", doc_id, "ClinicalDocument/id", "extension")

    code = _part(c, "H-code", root, req)
    if code is not None:
        c.coded("H-code", code, "ClinicalDocument/code", DOC_CODE_SYSTEMS)

    title = _part(c, "H-title", root, req)
    if title is not None and c.no_null_flavor("H-title", title, "ClinicalDocument/title"):
        c.text_nonempty("H-title", title, "ClinicalDocument/title")

    eff = _part(c, "H-effectiveTime", root, req)
    if eff is not None:
        if has_null_flavor(eff):
            c.attr_equals("H-effectiveTime", eff, "ClinicalDocument/effectiveTime", "nullFlavor", "NA")
        else:
            _timestamp(c, "H-effectiveTime", eff, "ClinicalDocument/effectiveTime")

    conf = _part(c, "H-confidentialityCode", root, req)
    if conf is not None:
        c.coded("H-confidentialityCode", conf, "ClinicalDocument/confidentialityCode", CONFIDENTIALITY_SYSTEMS)

    lang = _part(c, "H-languageCode", root, req)
    if lang is not None and c.no_null_flavor("H-languageCode", lang, "ClinicalDocument/languageCode"):
        c.attr_equals("H-languageCode", lang, "ClinicalDocument/languageCode", "code", "ru-RU")

    set_id = _part(c, "H-setId", root, req)
    if set_id is not None and c.no_null_flavor("H-setId", set_id, "ClinicalDocument/setId"):
        c.attr_matches("H-setId", set_id, "ClinicalDocument/setId", "root", SET_ID_ROOT, _SET_ID_WORDS)
        c.attr_nonempty("H-setId", set_id, "ClinicalDocument/setId", "extension")
        if doc_id is not None and attr(doc_id, "root") and attr(doc_id, "root") == attr(set_id, "root"):
            c.fail(
                "H-setId",
                set_id,
                finding_text("cda.same_root", document=CD),
            )

    version = _part(c, "H-versionNumber", root, req)
    if version is not None and c.no_null_flavor("H-versionNumber", version, "ClinicalDocument/versionNumber"):
        c.attr_nonempty("H-versionNumber", version, "ClinicalDocument/versionNumber", "value")

    component = _part(c, "H-structuredBody", root, req)
    if component is not None and c.no_null_flavor("H-structuredBody", component, "ClinicalDocument/component"):
        body = c.one("H-structuredBody", component, "ClinicalDocument/component", "structuredBody")
        if body is not None:
            c.no_null_flavor("H-structuredBody", body, "ClinicalDocument/component/structuredBody")


# -- recordTarget --------------------------------------------------------------------------------
def _record_target(c: RuleChecker, root: etree._Element, req: PackRequirements) -> None:
    rule = "H-recordTarget"
    target = _part(c, rule, root, req)
    if target is None or not c.no_null_flavor(rule, target, "ClinicalDocument/recordTarget"):
        return
    role = c.one(rule, target, "ClinicalDocument/recordTarget", "patientRole")
    if role is None or not c.no_null_flavor(rule, role, PR):
        return

    ids = c.count(rule, role, PR, "id", 2)
    if ids and c.no_null_flavor(rule, ids[0], "ClinicalDocument/recordTarget/patientRole/id[1]"):
        c.attr_matches(rule, ids[0], "ClinicalDocument/recordTarget/patientRole/id[1]", "root", PATIENT_ID_ROOT, _PATIENT_ID_WORDS)
        c.attr_nonempty(rule, ids[0], "ClinicalDocument/recordTarget/patientRole/id[1]", "extension")
    if len(ids) >= 2 and not has_null_flavor(ids[1]):
        _snils(c, "H-patient-snils", ids[1], "ClinicalDocument/recordTarget/patientRole/id[2]")

    doc = c.one("H-identityDoc", role, PR, "identity:IdentityDoc")
    if doc is not None and not has_null_flavor(doc):
        _identity_doc(c, doc, "ClinicalDocument/recordTarget/patientRole/identity:IdentityDoc")

    policy = c.one("H-insurancePolicy", role, PR, "identity:InsurancePolicy")
    if policy is not None and not has_null_flavor(policy):
        _insurance_policy(c, policy, "ClinicalDocument/recordTarget/patientRole/identity:InsurancePolicy")

    for addr in c.count("H-addr", role, PR, "addr", (1, 2)):
        _addr(c, addr, "ClinicalDocument/recordTarget/patientRole/addr")

    patient = c.one("H-patient", role, PR, "patient")
    if patient is not None:
        _patient(c, patient, "ClinicalDocument/recordTarget/patientRole/patient")

    provider = c.one("H-providerOrganization", role, PR, "providerOrganization")
    if provider is not None:
        _provider_organization(c, provider, "ClinicalDocument/recordTarget/patientRole/providerOrganization")


def _identity_doc(c: RuleChecker, doc: etree._Element, label: str) -> None:
    rule = "H-identityDoc"
    card_type = c.one(rule, doc, label, "identity:IdentityCardType")
    if card_type is not None:
        c.coded(rule, card_type, label, IDENTITY_CARD_SYSTEMS, sub="identity:IdentityCardType")
    for part, null_allowed in (
        ("identity:Series", True),
        ("identity:Number", False),
        ("identity:IssueOrgName", True),
        ("identity:IssueOrgCode", True),
    ):
        el = c.one(rule, doc, label, part)
        if el is None or (null_allowed and has_null_flavor(el)):
            continue
        if c.no_null_flavor(rule, el, f"{label}/{part}"):
            c.text_nonempty(rule, el, f"{label}/{part}")
    issued = c.one(rule, doc, label, "identity:IssueDate")
    if issued is not None and c.no_null_flavor(rule, issued, label, sub="identity:IssueDate"):
        _timestamp(c, rule, issued, f"{label}/identity:IssueDate")


def _insurance_policy(c: RuleChecker, policy: etree._Element, label: str) -> None:
    rule = "H-insurancePolicy"
    policy_type = c.one(rule, policy, label, "identity:InsurancePolicyType")
    if policy_type is not None:
        c.coded(rule, policy_type, label, POLICY_TYPE_SYSTEMS, sub="identity:InsurancePolicyType")
    series = c.optional(rule, policy, label, "identity:Series")
    if series is not None and c.no_null_flavor(rule, series, label, sub="identity:Series"):
        c.text_nonempty(rule, series, label, sub="identity:Series")
    number = c.one(rule, policy, label, "identity:Number")
    if number is not None and c.no_null_flavor(rule, number, label, sub="identity:Number"):
        c.text_nonempty(rule, number, label, sub="identity:Number")


def _patient(c: RuleChecker, patient: etree._Element, label: str) -> None:
    rule = "H-patient"
    if not c.no_null_flavor(rule, patient, label):
        return
    name = c.one(rule, patient, label, "name")
    if name is not None:
        _name(c, rule, name, f"{label}/name")
    gender = c.one(rule, patient, label, "administrativeGenderCode")
    if gender is not None and not has_null_flavor(gender):
        c.coded(rule, gender, label, GENDER_SYSTEMS, sub="administrativeGenderCode")
    birth = c.one(rule, patient, label, "birthTime")
    if birth is not None:
        _timestamp(c, rule, birth, f"{label}/birthTime")
    c.optional(rule, patient, label, "guardian")


def _provider_organization(c: RuleChecker, org: etree._Element, label: str) -> None:
    rule = "H-providerOrganization"
    if not c.no_null_flavor(rule, org, label):
        return
    ids = c.count(rule, org, label, "id", (1, 2))
    for i, org_id in enumerate(ids, start=1):
        c.no_null_flavor(rule, org_id, f"{label}/id[{i}]")
    if len(ids) == 2 and not has_null_flavor(ids[1]):
        c.attr_equals(rule, ids[1], label, "root", LICENSE_ROOT, sub="id[2]")
        c.attr_nonempty(rule, ids[1], label, "extension", "assigningAuthorityName", sub="id[2]")
    c.one(rule, org, label, "identity:Props")
    c.one(rule, org, label, "name")
    addr = c.optional(rule, org, label, "addr")
    if addr is not None and c.no_null_flavor(rule, addr, label, sub="addr"):
        _addr(c, addr, f"{label}/addr")


# -- author, custodian, recipient, legal authenticator -------------------------------------------
def _author(c: RuleChecker, root: etree._Element, req: PackRequirements) -> None:
    rule = "H-author"
    author = _part(c, rule, root, req)
    if author is None or not c.no_null_flavor(rule, author, "ClinicalDocument/author"):
        return
    time = c.one(rule, author, "ClinicalDocument/author", "time")
    if time is not None and "author" in req.time_ni:
        c.attr_equals(rule, time, "ClinicalDocument/author/time", "nullFlavor", "NI")
    entity = c.one(rule, author, "ClinicalDocument/author", "assignedAuthor")
    if entity is not None:
        _staff(c, rule, entity, "ClinicalDocument/author/assignedAuthor")


def _custodian(c: RuleChecker, root: etree._Element, req: PackRequirements) -> None:
    rule = "H-custodian"
    custodian = _part(c, rule, root, req)
    if custodian is None or not c.no_null_flavor(rule, custodian, "ClinicalDocument/custodian"):
        return
    assigned = c.one(rule, custodian, "ClinicalDocument/custodian", "assignedCustodian")
    label = "ClinicalDocument/custodian/assignedCustodian"
    if assigned is None or not c.no_null_flavor(rule, assigned, label):
        return
    org = c.one(rule, assigned, label, "representedCustodianOrganization")
    if org is not None:
        c.optional(rule, org, label, "telecom", sub="representedCustodianOrganization")
        _organization(c, rule, org, f"{label}/representedCustodianOrganization", addr_count=1)


def _information_recipient(c: RuleChecker, root: etree._Element, req: PackRequirements) -> None:
    rule = "H-informationRecipient"
    recipients = c.children(root, "informationRecipient")
    to_minzdrav = [
        r
        for r in recipients
        if any(
            attr(i, "root") == MINZDRAV_OID
            for org in c.children(_first(c, r, "intendedRecipient"), "receivedOrganization")
            for i in c.children(org, "id")
        )
    ]
    if req.ministry_recipient and len(to_minzdrav) != 1:
        c.fail(
            rule,
            root,
            finding_text("cda.ministry_recipient", document=CD, oid=MINZDRAV_OID),
        )
    if not req.ministry_recipient and req.requires("informationRecipient"):
        c.count(rule, root, CD, "informationRecipient", ">=1")
    label = "ClinicalDocument/informationRecipient"
    for recipient in recipients:
        if not c.no_null_flavor(rule, recipient, label):
            continue
        intended = c.one(rule, recipient, label, "intendedRecipient")
        if intended is None or not c.no_null_flavor(rule, intended, label, sub="intendedRecipient"):
            continue
        org = c.one(rule, intended, label, "receivedOrganization", sub="intendedRecipient")
        org_label = f"{label}/intendedRecipient/receivedOrganization"
        if org is None or not c.no_null_flavor(rule, org, org_label):
            continue
        c.one(rule, org, org_label, "id")
        c.one(rule, org, org_label, "name")


def _legal_authenticator(c: RuleChecker, root: etree._Element, req: PackRequirements) -> None:
    rule = "H-legalAuthenticator"
    label = "ClinicalDocument/legalAuthenticator"
    la = _part(c, rule, root, req)
    if la is None or not c.no_null_flavor(rule, la, label):
        return
    time = c.one(rule, la, label, "time")
    if time is not None and "legalAuthenticator" in req.time_ni:
        c.attr_equals(rule, time, label, "nullFlavor", "NI", sub="time")
    signature = c.one(rule, la, label, "signatureCode")
    if signature is not None:
        c.attr_equals(rule, signature, label, "nullFlavor", "NI", sub="signatureCode")
    entity = c.one(rule, la, label, "assignedEntity")
    if entity is not None:
        _staff(c, rule, entity, f"{label}/assignedEntity")


def _first(c: RuleChecker, el: etree._Element | None, name: str) -> etree._Element | None:
    found = c.children(el, name)
    return found[0] if found else None
