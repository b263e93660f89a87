"""The header facts of a СЭМД that checks compare with each other and with the request."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from lxml import etree

from mock_remd.validation.cda.access import SNILS_ROOT, attr, child, children, has_null_flavor, text
from mock_remd.validation.cda.timestamps import Timestamp, parse_ts

#: NSI 1520 "Электронные медицинские документы" (kind + edition)
NSI_KINDS = "1.2.643.5.1.13.13.11.1520"
#: NSI 1522 "Виды медицинской документации" (document type) and the legacy type dictionaries
NSI_DOC_TYPES = (
    "1.2.643.5.1.13.13.11.1522",
    "1.2.643.5.1.13.2.1.1.646",
    "1.2.643.5.1.13.13.11.1115",
    "1.2.643.5.1.13.13.99.2.195",
)
#: NSI 99.2.1079 "Виды СЭМД" used by 2023+ kinds, with a translation to 1520
NSI_SEMD_TYPES = "1.2.643.5.1.13.13.99.2.1079"


@dataclass(frozen=True)
class PersonName:
    """Family, given name and patronymic as written (empty when absent)."""

    family: str = ""
    given: str = ""
    patronymic: str = ""


@dataclass(frozen=True)
class DocPerson:
    """A medical worker named in the header (author, legal authenticator, authenticator)."""

    role: str
    element: etree._Element
    local_id: str
    snils: str
    name: PersonName


@dataclass(frozen=True)
class CodeValue:
    """``@code`` and ``@codeSystem`` of a coded element."""

    code: str
    code_system: str


def person_name(name_el: etree._Element | None) -> PersonName:
    """The parts of a CDA ``name`` (``family``, ``given``, ``identity:Patronymic``)."""
    if name_el is None:
        return PersonName()
    return PersonName(
        family=text(child(name_el, "family")),
        given=text(child(name_el, "given")),
        patronymic=text(child(name_el, "identity:Patronymic")),
    )


def snils_of(el: etree._Element | None) -> str:
    """``@extension`` of the first ``id`` of ``el`` rooted at the SNILS OID (empty when none or nullFlavor)."""
    for id_el in children(el, "id"):
        if attr(id_el, "root") == SNILS_ROOT and not has_null_flavor(id_el):
            return attr(id_el, "extension")
    return ""


def _staff_id(el: etree._Element | None) -> str:
    for id_el in children(el, "id"):
        if attr(id_el, "root") != SNILS_ROOT and not has_null_flavor(id_el):
            return attr(id_el, "extension")
    return ""


class CdaHeader:
    """Read-only view of the header of a parsed ``ClinicalDocument`` (namespaced, as received).

    Made for one reading of a tree nobody changes meanwhile: each fact is read once (the layers of one
    document share one view, :meth:`~mock_remd.validation.context.DocumentContext.header`).
    """

    def __init__(self, root: etree._Element) -> None:
        self.root = root

    # -- document identity -------------------------------------------------------------------
    @cached_property
    def template_roots(self) -> list[str]:
        """Every ``templateId/@root`` (a valid document has exactly one)."""
        return [attr(t, "root") for t in children(self.root, "templateId") if attr(t, "root")]

    @cached_property
    def code(self) -> CodeValue | None:
        """``ClinicalDocument/code``."""
        el = child(self.root, "code")
        return CodeValue(attr(el, "code"), attr(el, "codeSystem")) if el is not None else None

    @cached_property
    def translations(self) -> list[CodeValue]:
        """``ClinicalDocument/code/translation`` values."""
        return [
            CodeValue(attr(t, "code"), attr(t, "codeSystem"))
            for t in children(child(self.root, "code"), "translation")
        ]

    @cached_property
    def id_extension(self) -> str:
        """``ClinicalDocument/id/@extension`` — the MIS's unique id of this version (``localUid``)."""
        return attr(child(self.root, "id"), "extension")

    @cached_property
    def effective_time_raw(self) -> str:
        """``ClinicalDocument/effectiveTime/@value`` as written."""
        return attr(child(self.root, "effectiveTime"), "value")

    @cached_property
    def effective_time(self) -> Timestamp | None:
        """The document's creation time, parsed; None when absent or malformed."""
        return parse_ts(self.effective_time_raw)

    # -- patient -----------------------------------------------------------------------------
    @cached_property
    def patient_role(self) -> etree._Element | None:
        """``recordTarget/patientRole``."""
        return child(self.root, "recordTarget", "patientRole")

    @cached_property
    def _patient(self) -> etree._Element | None:
        return child(self.patient_role, "patient")

    @property
    def patient_snils(self) -> str:
        """The patient's SNILS as written (empty when absent or nullFlavor)."""
        return snils_of(self.patient_role)

    @property
    def patient_name(self) -> PersonName:
        """The patient's name parts."""
        return person_name(child(self._patient, "name"))

    @property
    def birth_time_raw(self) -> str:
        """``patient/birthTime/@value`` as written."""
        return attr(child(self._patient, "birthTime"), "value")

    @property
    def gender_code(self) -> str:
        """``patient/administrativeGenderCode/@code`` (NSI 1040: 1 male, 2 female)."""
        return attr(child(self._patient, "administrativeGenderCode"), "code")

    # -- organisation ------------------------------------------------------------------------
    @property
    def custodian_oid(self) -> str:
        """The organisation keeping the document: ``custodian/.../representedCustodianOrganization/id/@root``."""
        org = child(self.root, "custodian", "assignedCustodian", "representedCustodianOrganization")
        return attr(child(org, "id"), "root")

    # -- medical workers ---------------------------------------------------------------------
    def people(self) -> list[DocPerson]:
        """The author(s), the legal authenticator and authenticators, in document order."""
        return list(self._people)

    @cached_property
    def _people(self) -> tuple[DocPerson, ...]:
        out: list[DocPerson] = []
        for role, path in (
            ("author", ("assignedAuthor",)),
            ("legalAuthenticator", ("assignedEntity",)),
            ("authenticator", ("assignedEntity",)),
        ):
            for holder in children(self.root, role):
                entity = child(holder, *path)
                if entity is None:
                    continue
                out.append(
                    DocPerson(
                        role=role,
                        element=entity,
                        local_id=_staff_id(entity),
                        snils=snils_of(entity),
                        name=person_name(child(entity, "assignedPerson", "name")),
                    )
                )
        return tuple(out)

    @property
    def legal_authenticator(self) -> DocPerson | None:
        """The person who gave the document legal force, if present."""
        return next((p for p in self._people if p.role == "legalAuthenticator"), None)
