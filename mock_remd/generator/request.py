"""The ``registerDocument`` request matching a generated document."""

from __future__ import annotations

import uuid

from mock_remd.domain.model import Attachment, Doctor, Patient, Person, PersonalSign, RegisterRequest
from mock_remd.generator.model import DEMO_CLIENT_ENTITY_ID, DEMO_SYSTEM, World
from mock_remd.soap.builders import attachment


def message_id(world: World) -> str:
    """A WS-Addressing MessageID derived from the seed (stable across runs)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mock-remd:generate:{world.kind}:{world.seed}:{world.local_uid}"))


def build_request(
    world: World,
    content: bytes,
    personal: list[bytes | None],
    org_signature: bytes | None,
    *,
    client_entity_id: str = DEMO_CLIENT_ENTITY_ID,
    system: str = DEMO_SYSTEM,
) -> RegisterRequest:
    """The request registering ``content``: patient, signing doctors and signatures as in the document."""
    pat = world.patient
    signs = []
    for doctor, sig in zip(world.doctors, personal, strict=True):
        signs.append(
            PersonalSign(
                doctor=Doctor(
                    role=doctor.role,
                    person=Person(
                        local_id=doctor.local_id, snils=doctor.snils, surname=doctor.family,
                        name=doctor.given, patronymic=doctor.patronymic,
                    ),
                    position=doctor.position.code,
                    speciality=doctor.speciality,
                ),
                signature=attachment(sig) if sig is not None else None,
            )
        )
    org_att: Attachment | None = attachment(org_signature) if org_signature is not None else None
    return RegisterRequest(
        message_id=message_id(world),
        client_entity_id=client_entity_id,
        system=system,
        local_uid=world.local_uid,
        kind=world.kind,
        creation_date_time=world.created.isoformat(),
        organization=world.organisation.oid,
        document_number=world.document_number,
        patient=Patient(
            local_id=pat.local_id, snils=pat.snils, surname=pat.family, name=pat.given,
            patronymic=pat.patronymic, birth_date=pat.birth_date.isoformat(), gender=pat.gender,
        ),
        personal_signs=signs,
        org_signature=org_att,
        document=attachment(content),
    )
