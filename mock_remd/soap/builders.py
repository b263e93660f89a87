"""Client-side envelopes: what an MIS sends (used by ``send``, the benchmark, tests and the generator)."""

from __future__ import annotations

import base64
import uuid
import zlib
from xml.sax.saxutils import escape

from mock_remd.domain.messages import REGISTER_REQUEST, Message
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


def _value(message: Message, obj: object) -> str:
    """The elements of ``obj`` (a domain dataclass) in the order ``message`` declares them: text only when
    not empty, a part when not None, a list (wrapper and members) when it has members."""
    parts = []
    for e in message.elements:
        value = getattr(obj, e.attr)
        if e.type is None:
            parts.append(_el(e.name, value))
        elif e.item:
            if value:
                members = "".join(f"<ser:{e.item}>{_value(e.type, v)}</ser:{e.item}>" for v in value)
                parts.append(f"<ser:{e.name}>{members}</ser:{e.name}>")
        elif value is not None:
            parts.append(f"<ser:{e.name}>{_value(e.type, value)}</ser:{e.name}>")
    return "".join(parts)


def register_body(req: RegisterRequest) -> str:
    """The ``ser:registerDocumentRequest`` element for ``req`` (prefix ``ser`` bound by the caller), as
    :data:`~mock_remd.domain.messages.REGISTER_REQUEST` declares it."""
    return f"<ser:registerDocumentRequest>{_value(REGISTER_REQUEST, req)}</ser:registerDocumentRequest>"


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
