"""Request builders shared by the endpoint tests (not fixtures: plain functions)."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import requests

from mock_remd.domain.model import Doctor, Patient, Person, PersonalSign, RegisterRequest
from mock_remd.soap.builders import attachment, content_type, register_envelope

DEMO_CLIENT = "00000000-0000-4000-8000-000000000001"
DEMO_ORG = "1.2.643.5.1.13.13.12.2.50.99999"
PATIENT_SNILS = "11223344595"
DOCTOR_SNILS = "14848125585"


def cda(local_uid: str) -> bytes:
    """A small well-formed ClinicalDocument whose id/@extension is ``local_uid``."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><ClinicalDocument xmlns="urn:hl7-org:v3">'
        f'<id root="1.2.643.5.1.13.13.12.2.50.99999.100.1.1.51" extension="{local_uid}"/>'
        "<title>Протокол консультации</title></ClinicalDocument>"
    ).encode()


def register_request(**overrides) -> RegisterRequest:
    """A coarse-valid registerDocument request for the demo system (document inline)."""
    local_uid = overrides.pop("local_uid", str(uuid.uuid4()))
    content = overrides.pop("content", None)
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=3))).replace(microsecond=0) - dt.timedelta(minutes=10)
    req = RegisterRequest(
        message_id=f"urn:uuid:{uuid.uuid4()}",
        client_entity_id=DEMO_CLIENT,
        system="demo",
        local_uid=local_uid,
        kind="119",
        creation_date_time=now.isoformat(),
        organization=DEMO_ORG,
        patient=Patient(snils=PATIENT_SNILS, surname="Смирнова", name="Елена", patronymic="Викторовна",
                        birth_date="1979-04-12", gender="2"),
        personal_signs=[
            PersonalSign(
                doctor=Doctor(role="1", person=Person(snils=DOCTOR_SNILS, surname="Кузнецов", name="Андрей",
                                                     patronymic="Сергеевич"), position="34", speciality="27"),
                signature=attachment(b"0\x82\x01\x00detached-signature-bytes"),
            )
        ],
        document=attachment(content if content is not None else cda(local_uid)),
    )
    for key, value in overrides.items():
        setattr(req, key, value)
    return req


def post(url: str, body: bytes, version: str = "1.2", **headers: str) -> requests.Response:
    """POST a SOAP body with the Content-Type of ``version``."""
    return requests.post(url, data=body, headers={"Content-Type": content_type(version), **headers}, timeout=30)


def register(server, req: RegisterRequest | None = None, version: str = "1.2") -> tuple[requests.Response, RegisterRequest]:
    """Send ``req`` (default: a fresh valid one) to ``server``'s SOAP endpoint."""
    req = req or register_request()
    return post(server.soap_url, register_envelope(req, version=version), version), req


def sync_status(resp: requests.Response) -> str:
    m = re.search(r"<ns3:status>(\w+)</ns3:status>", resp.text)
    return m.group(1) if m else ""


def sync_codes(resp: requests.Response) -> list[str]:
    return re.findall(r"<ns3:code>([A-Z_]+)</ns3:code>", resp.text)


def sync_messages(resp: requests.Response) -> list[str]:
    return re.findall(r"<ns3:message>(.*?)</ns3:message>", resp.text, re.S)
