"""The result callback envelope ``registerDocumentResult`` (CONTRACT §5), SOAP 1.1 or 1.2."""

from __future__ import annotations

import uuid
from typing import Any
from xml.sax.saxutils import escape

from mock_remd.domain.messages import REGISTER_RESULT
from mock_remd.namespaces import CALLBACK, ENVELOPE_NS, WSA

ACTION = "sendRegisterDocumentResult"


def _el(name: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    return f"<ns2:{name}>{escape(str(value))}</ns2:{name}>"


def strip_urn(message_id: str) -> str:
    """``urn:uuid:X`` → ``X`` (case kept)."""
    return message_id[9:] if message_id.lower().startswith("urn:uuid:") else message_id


#: elements a callback carries only for a registered document
_SUCCESS_ONLY = ("emdrId", "registrationDateTime", "storeTillDate")


def result_body(outcome: dict[str, Any], relates_to: str) -> str:
    """The ``ns2:registerDocumentResult`` element, as :data:`~mock_remd.domain.messages.REGISTER_RESULT`
    declares it (``stage`` only in a two-phase outcome, the registration only on success)."""
    values = {**outcome, "relates_to": strip_urn(relates_to)}
    success = outcome.get("status") == "success"
    parts = []
    for e in REGISTER_RESULT.elements:
        if e.item and e.type is not None:
            members = e.type.elements
            items = "".join(f"<ns2:{e.item}>" + "".join(_el(f.name, i[f.attr]) for f in members) + f"</ns2:{e.item}>"
                            for i in values.get(e.attr) or [])
            parts.append(f"<ns2:{e.name}>{items}</ns2:{e.name}>" if items else "")
        elif success or e.name not in _SUCCESS_ONLY:
            parts.append(_el(e.name, values.get(e.attr)))
    return f'<ns2:registerDocumentResult xmlns:ns2="{CALLBACK}">' + "".join(parts) + "</ns2:registerDocumentResult>"


def result_envelope(
    outcome: dict[str, Any],
    *,
    relates_to: str,
    to: str,
    version: str = "1.1",
    message_id: str | None = None,
    malformed: bool = False,
) -> bytes:
    """A complete callback request. ``malformed`` cuts the XML short (a broken callback on purpose)."""
    soap = ENVELOPE_NS.get(version, ENVELOPE_NS["1.1"])
    mid = message_id or f"urn:uuid:{uuid.uuid4()}"
    header = (
        f"<wsa:To>{escape(to)}</wsa:To><wsa:Action>{ACTION}</wsa:Action>"
        f"<wsa:MessageID>{escape(mid)}</wsa:MessageID><wsa:RelatesTo>{escape(relates_to)}</wsa:RelatesTo>"
    )
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{soap}" xmlns:wsa="{WSA}">'
        f"<soap:Header>{header}</soap:Header><soap:Body>{result_body(outcome, relates_to)}</soap:Body></soap:Envelope>"
    )
    data = xml.encode("utf-8")
    if malformed:
        # valid start, then the body breaks off inside an element: what a truncated callback looks like
        cut = data.find(b"<ns2:status>")
        data = data[: cut if cut > 0 else len(data) // 2] + b"<ns2:status>succ"
    return data


def content_type(version: str) -> str:
    """HTTP Content-Type of a callback in ``version``."""
    if version == "1.2":
        return f'application/soap+xml; charset=utf-8; action="{ACTION}"'
    return "text/xml; charset=utf-8"
