"""Test helpers for the document layers: parse/mutate the example СЭМД and build a matching request."""

from __future__ import annotations

from lxml import etree

from mock_remd.domain.model import Doctor, Patient, Person, PersonalSign, RegisterRequest
from mock_remd.validation.caches import ValidationCaches
from mock_remd.validation.cda.access import NS
from mock_remd.validation.context import DocumentContext, ValidationSettings

#: facts of shared/examples/consultation-119-valid.xml
EXAMPLE_UID = "CONS-2024-000123"
EXAMPLE_ORG = "1.2.643.5.1.13.13.12.2.50.99999"
PATIENT_SNILS = "11223344595"
DOCTOR_SNILS = "14848125585"
#: other SNILS values with correct check digits
OTHER_SNILS = ("12345678964", "98765432183", "11122233372")


def parse(content: bytes) -> etree._Element:
    """Parse document bytes (keeps source lines)."""
    return etree.fromstring(content)


def one(root: etree._Element, xpath: str) -> etree._Element:
    """The single element at ``xpath`` (prefix ``hl7:`` for CDA elements)."""
    found = root.xpath(xpath, namespaces=NS)
    assert len(found) == 1, f"{xpath} matched {len(found)} elements"
    return found[0]


def remove(root: etree._Element, xpath: str) -> None:
    """Delete every element at ``xpath``."""
    for el in root.xpath(xpath, namespaces=NS):
        el.getparent().remove(el)


def resolve_path(root: etree._Element, path: str) -> etree._Element:
    """The element a finding's ``Путь`` names (``/ClinicalDocument[1]/id[1]``)."""
    steps = [s if ":" in s else f"hl7:{s}" for s in path.strip("/").split("/")]
    return one(root, "/" + "/".join(steps))


#: what the layers prepare (pack indexes, schemas), kept for the test session like a server keeps its own
CACHES = ValidationCaches()


def context(
    root: etree._Element,
    request: RegisterRequest | None = None,
    kind: str = "",
    settings: ValidationSettings | None = None,
) -> DocumentContext:
    """A context as the pipeline builds it after the ``xml`` layer (with the test session's caches,
    as a server's Validator hands its own to every document)."""
    ctx = DocumentContext(
        content=etree.tostring(root),
        settings=settings or ValidationSettings(),
        request=request,
        requested_kind=kind or (request.kind if request else ""),
        caches=CACHES,
    )
    ctx.root = root
    return ctx


def matching_request() -> RegisterRequest:
    """A ``registerDocument`` request that agrees with the valid example in every checked field."""
    return RegisterRequest(
        local_uid=EXAMPLE_UID.lower(),
        kind="119",
        creation_date_time="2024-03-15T11:30:00+03:00",
        organization=EXAMPLE_ORG,
        department=EXAMPLE_ORG + ".0.704432",
        patient=Patient(
            local_id="PAT-0045871",
            snils="112-233-445 95",
            surname="Смирнова",
            name="Елена",
            patronymic="Викторовна",
            birth_date="1979-04-12",
            gender="2",
        ),
        personal_signs=[
            PersonalSign(
                doctor=Doctor(
                    role="1",
                    person=Person(
                        local_id="DOC-0734",
                        snils="148-481-255 85",
                        surname="Кузнецов",
                        name="Андрей",
                        patronymic="Петрович",
                    ),
                    position="34",
                )
            )
        ],
    )
