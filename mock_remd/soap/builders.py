"""Client-side envelopes: what an MIS sends (used by ``send``, the benchmark, tests and the generator)."""

from __future__ import annotations

import base64
import uuid
import zlib
from xml.sax.saxutils import escape

from mock_remd.domain.model import Attachment, RegisterRequest
from mock_remd.namespaces import EGISZ, ENVELOPE_NS, SERVICE, WSA


def crc32_decimal(data: bytes) -> str:
    """The REMD ``checksum``: CRC32 of the decoded bytes as an unsigned decimal integer."""
    return str(zlib.crc32(data) & 0xFFFFFFFF)


def attachment(data: bytes) -> Attachment:
    """An :class:`Attachment` for raw bytes: base64 + checksum."""
    return Attachment(data_b64=base64.b64encode(data).decode("ascii"), checksum=crc32_decimal(data))


def _el(name: str, value: str | None) -> str:
    if value is None or value == "":
        return ""
    return f"<ser:{name}>{escape(str(value))}</ser:{name}>"


def _att(name: str, att: Attachment | None) -> str:
    if att is None:
        return ""
    return f"<ser:{name}>{_el('data', att.data_b64)}{_el('checksum', att.checksum)}</ser:{name}>"


def register_body(req: RegisterRequest) -> str:
    """The ``ser:registerDocumentRequest`` element for ``req`` (prefix ``ser`` bound by the caller)."""
    parts = [
        _el("system", req.system),
        _el("localUid", req.local_uid),
        _el("kind", req.kind),
        _el("creationDateTime", req.creation_date_time),
        _el("organization", req.organization),
        _el("department", req.department),
        _el("documentNumber", req.document_number),
        _el("series", req.series),
    ]
    if req.patient:
        p = req.patient
        parts.append(
            "<ser:patient>"
            + _el("localId", p.local_id)
            + _el("snils", p.snils)
            + _el("surname", p.surname)
            + _el("name", p.name)
            + _el("patronymic", p.patronymic)
            + _el("birthDate", p.birth_date)
            + _el("gender", p.gender)
            + "</ser:patient>"
        )
    parts.append(_el("patientSnils", req.patient_snils))
    if req.personal_signs:
        signs = []
        for ps in req.personal_signs:
            d = ps.doctor
            person = (
                "<ser:person>"
                + _el("localId", d.person.local_id)
                + _el("snils", d.person.snils)
                + _el("surname", d.person.surname)
                + _el("name", d.person.name)
                + _el("patronymic", d.person.patronymic)
                + "</ser:person>"
            )
            doctor = (
                "<ser:doctor>" + _el("role", d.role) + person + _el("position", d.position)
                + _el("speciality", d.speciality) + "</ser:doctor>"
            )
            signs.append("<ser:personalSign>" + doctor + _att("signature", ps.signature) + "</ser:personalSign>")
        parts.append("<ser:personalSigns>" + "".join(signs) + "</ser:personalSigns>")
    parts.append(_att("orgSignature", req.org_signature))
    parts.append(_att("document", req.document))
    if req.associations:
        parts.append(
            "<ser:associations>"
            + "".join(f"<ser:association>{_el('target', a.target)}{_el('type', a.type)}</ser:association>" for a in req.associations)
            + "</ser:associations>"
        )
    return "<ser:registerDocumentRequest>" + "".join(parts) + "</ser:registerDocumentRequest>"


def envelope(
    body_xml: str,
    *,
    version: str = "1.2",
    message_id: str | None = None,
    client_entity_id: str | None = None,
    action: str = "registerDocument",
    to: str = "",
) -> bytes:
    """Wrap an operation element (using prefix ``ser``) into a SOAP envelope with IPS-style headers."""
    soap = ENVELOPE_NS[version]
    mid = message_id if message_id is not None else f"urn:uuid:{uuid.uuid4()}"
    header = ""
    if client_entity_id:
        header += (
            f'<egisz:transportHeader xmlns:egisz="{EGISZ}"><egisz:authInfo>'
            f"<egisz:clientEntityId>{escape(client_entity_id)}</egisz:clientEntityId>"
            "</egisz:authInfo></egisz:transportHeader>"
        )
    if mid:
        header += f"<wsa:MessageID>{escape(mid)}</wsa:MessageID>"
    header += f"<wsa:Action>{escape(action)}</wsa:Action>"
    if to:
        header += f"<wsa:To>{escape(to)}</wsa:To>"
    header += "<wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{soap}" xmlns:wsa="{WSA}" '
        f'xmlns:ser="{SERVICE}"><soap:Header>{header}</soap:Header><soap:Body>{body_xml}</soap:Body></soap:Envelope>'
    ).encode()


def register_envelope(req: RegisterRequest, *, version: str = "1.2", message_id: str | None = None, to: str = "") -> bytes:
    """A complete ``registerDocument`` request for ``req`` (its ``message_id``/``client_entity_id`` used)."""
    return envelope(
        register_body(req),
        version=version,
        message_id=message_id if message_id is not None else (req.message_id or None),
        client_entity_id=req.client_entity_id,
        to=to,
    )


def search_envelope(criteria: dict[str, str], *, client_entity_id: str, version: str = "1.2") -> bytes:
    """A ``searchRegistryItem`` request; ``criteria`` keys are the element names."""
    body = "".join(_el(k, v) for k, v in criteria.items())
    return envelope(
        f"<ser:searchRegistryItemRequest>{body}</ser:searchRegistryItemRequest>",
        version=version,
        client_entity_id=client_entity_id,
        action="searchRegistryItem",
    )


def get_item_envelope(emdr_id: str, *, client_entity_id: str, version: str = "1.2") -> bytes:
    """A ``getRegistryItem`` request."""
    return envelope(
        f"<ser:getRegistryItemRequest>{_el('emdrId', emdr_id)}</ser:getRegistryItemRequest>",
        version=version,
        client_entity_id=client_entity_id,
        action="getRegistryItem",
    )


def content_type(version: str) -> str:
    """The request Content-Type for a SOAP version."""
    return "text/xml; charset=utf-8" if version == "1.1" else "application/soap+xml; charset=utf-8"
