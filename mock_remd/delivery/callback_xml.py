"""The result callback envelope ``registerDocumentResult`` (CONTRACT §5), SOAP 1.1 or 1.2."""

from __future__ import annotations

import uuid
from typing import Any
from xml.sax.saxutils import escape

from mock_remd.namespaces import CALLBACK, ENVELOPE_NS, WSA

ACTION = "sendRegisterDocumentResult"


def _el(name: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    return f"<ns2:{name}>{escape(str(value))}</ns2:{name}>"


def strip_urn(message_id: str) -> str:
    """``urn:uuid:X`` → ``X`` (case kept)."""
    return message_id[9:] if message_id.lower().startswith("urn:uuid:") else message_id


def result_body(outcome: dict[str, Any], relates_to: str) -> str:
    """The ``ns2:registerDocumentResult`` element."""
    parts = [
        _el("relatesToMessage", strip_urn(relates_to)),
        _el("localUid", outcome.get("local_uid")),
        _el("status", outcome.get("status")),
        _el("stage", outcome.get("stage")),  # two-phase (send_to_fremd) only: regional | federal
        _el("kind", outcome.get("kind")),
        _el("organization", outcome.get("organization")),
    ]
    if outcome.get("status") == "success":
        parts += [
            _el("emdrId", outcome.get("emdr_id")),
            _el("registrationDateTime", outcome.get("registration_date_time")),
            _el("storeTillDate", outcome.get("store_till_date")),
        ]
    errors = outcome.get("errors") or []
    if errors:
        items = "".join(
            f"<ns2:item>{_el('code', e['code'])}{_el('message', e['message'])}</ns2:item>" for e in errors
        )
        parts.append(f"<ns2:errors>{items}</ns2:errors>")
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
