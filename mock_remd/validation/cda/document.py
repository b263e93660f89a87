"""The header facts of a СЭМД that checks compare with each other and with the request."""

from __future__ import annotations

from typing import Any, NamedTuple

from lxml import etree

from mock_remd.validation.cda.access import (
    SNILS_ROOT,
    ChildIndex,
    attr,
    child,
    children,
    has_null_flavor,
    text,
)
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


class cached_property:  # noqa: N801 - used as functools.cached_property is
    """functools.cached_property without its lock (Python 3.11 takes an RLock on every first read):
    a view is read by one thread, and a value computed twice would be the same value."""

    def __init__(self, func: Any) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.func(instance)
        return value


# The values a document's view makes for every document are NamedTuples: immutable as frozen
# dataclasses are, and a third of their cost to make.


class PersonName(NamedTuple):
    """Family, given name and patronymic as written (empty when absent)."""

    family: str = ""
    given: str = ""
    patronymic: str = ""


class DocPerson(NamedTuple):
    """A medical worker named in the header (author, legal authenticator, authenticator)."""

    role: str
    element: etree._Element
    local_id: str
    snils: str
    name: PersonName


class CodeValue(NamedTuple):
    """``@code`` and ``@codeSystem`` of a coded element."""

    code: str
    code_system: str


def person_name(name_el: etree._Element | None, index: ChildIndex | None = None) -> PersonName:
    """The parts of a CDA ``name`` (``family``, ``given``, ``identity:Patronymic``)."""
    if name_el is None:
        return PersonName()
    first = index.child if index is not None else child
    return PersonName(
        family=text(first(name_el, "family")),
        given=text(first(name_el, "given")),
        patronymic=text(first(name_el, "identity:Patronymic")),
    )


def snils_of(el: etree._Element | None, index: ChildIndex | None = None) -> str:
    """``@extension`` of the first ``id`` of ``el`` rooted at the SNILS OID (empty when none or nullFlavor)."""
    for id_el in (index.children if index is not None else children)(el, "id"):
        if attr(id_el, "root") == SNILS_ROOT and not has_null_flavor(id_el):
            return attr(id_el, "extension")
    return ""


def _staff_id(el: etree._Element | None, index: ChildIndex) -> str:
    for id_el in index.children(el, "id"):
        if attr(id_el, "root") != SNILS_ROOT and not has_null_flavor(id_el):
            return attr(id_el, "extension")
    return ""


class CdaHeader:
    """Read-only view of the header of a parsed ``ClinicalDocument`` (namespaced, as received).

    Made for one reading of a tree nobody changes meanwhile: each fact is read once (the layers of one
    document share one view, :meth:`~mock_remd.validation.context.DocumentContext.header`).
    """

    def __init__(self, root: etree._Element, index: ChildIndex | None = None) -> None:
        self.root = root
        #: the children of the elements read, each parent's once (shared with the document's other readers)
        self.index = index if index is not None else ChildIndex()

    # -- document identity -------------------------------------------------------------------
    @cached_property
    def template_roots(self) -> list[str]:
        """Every ``templateId/@root`` (a valid document has exactly one)."""
        return [attr(t, "root") for t in self.index.children(self.root, "templateId") if attr(t, "root")]

    @cached_property
    def code(self) -> CodeValue | None:
        """``ClinicalDocument/code``."""
        el = self.index.child(self.root, "code")
        return CodeValue(attr(el, "code"), attr(el, "codeSystem")) if el is not None else None

    @cached_property
    def translations(self) -> list[CodeValue]:
        """``ClinicalDocument/code/translation`` values."""
        return [
            CodeValue(attr(t, "code"), attr(t, "codeSystem"))
            for t in self.index.children(self.index.child(self.root, "code"), "translation")
        ]

    @cached_property
    def id_extension(self) -> str:
        """``ClinicalDocument/id/@extension`` — the MIS's unique id of this version (``localUid``)."""
        return attr(self.index.child(self.root, "id"), "extension")

    @cached_property
    def effective_time_raw(self) -> str:
        """``ClinicalDocument/effectiveTime/@value`` as written."""
        return attr(self.index.child(self.root, "effectiveTime"), "value")

    @cached_property
    def effective_time(self) -> Timestamp | None:
        """The document's creation time, parsed; None when absent or malformed."""
        return parse_ts(self.effective_time_raw)

    # -- patient -----------------------------------------------------------------------------
    @cached_property
    def patient_role(self) -> etree._Element | None:
        """``recordTarget/patientRole``."""
        return self.index.child(self.root, "recordTarget", "patientRole")

    @cached_property
    def _patient(self) -> etree._Element | None:
        return self.index.child(self.patient_role, "patient")

    @property
    def patient_snils(self) -> str:
        """The patient's SNILS as written (empty when absent or nullFlavor)."""
        return snils_of(self.patient_role, self.index)

    @property
    def patient_name(self) -> PersonName:
        """The patient's name parts."""
        return person_name(self.index.child(self._patient, "name"), self.index)

    @property
    def birth_time_raw(self) -> str:
        """``patient/birthTime/@value`` as written."""
        return attr(self.index.child(self._patient, "birthTime"), "value")

    @property
    def gender_code(self) -> str:
        """``patient/administrativeGenderCode/@code`` (NSI 1040: 1 male, 2 female)."""
        return attr(self.index.child(self._patient, "administrativeGenderCode"), "code")

    # -- organisation ------------------------------------------------------------------------
    @property
    def custodian_oid(self) -> str:
        """The organisation keeping the document: ``custodian/.../representedCustodianOrganization/id/@root``."""
        org = self.index.child(self.root, "custodian", "assignedCustodian", "representedCustodianOrganization")
        return attr(self.index.child(org, "id"), "root")

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
            for holder in self.index.children(self.root, role):
                entity = self.index.child(holder, *path)
                if entity is None:
                    continue
                out.append(
                    DocPerson(
                        role=role,
                        element=entity,
                        local_id=_staff_id(entity, self.index),
                        snils=snils_of(entity, self.index),
                        name=person_name(self.index.child(entity, "assignedPerson", "name"), self.index),
                    )
                )
        return tuple(out)

    @property
    def legal_authenticator(self) -> DocPerson | None:
        """The person who gave the document legal force, if present."""
        return next((p for p in self._people if p.role == "legalAuthenticator"), None)
