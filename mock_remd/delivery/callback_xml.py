"""The result callback envelope ``registerDocumentResult`` (CONTRACT §5), SOAP 1.1 or 1.2."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mock_remd.domain.ids import message_uuid
from mock_remd.domain.messages import REGISTER_RESULT
from mock_remd.namespaces import CALLBACK, ENVELOPE_NS, WSA

ACTION = "sendRegisterDocumentResult"


def _escape(text: str) -> str:
    """``text`` with ``&``, ``<`` and ``>`` escaped (what :func:`xml.sax.saxutils.escape` does)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def strip_urn(message_id: str) -> str:
    """``urn:uuid:X`` → ``X`` (case kept)."""
    return message_id[9:] if message_id.lower().startswith("urn:uuid:") else message_id


#: elements a callback carries only for a registered document
_SUCCESS_ONLY = ("emdrId", "registrationDateTime", "storeTillDate")


@dataclass(frozen=True)
class _Part:
    """One element of :data:`~mock_remd.domain.messages.REGISTER_RESULT`, its tags made once (a
    callback is built for every processed document)."""

    attr: str
    open: str
    close: str
    #: written for a registered document only
    success_only: bool
    #: a list: each member's tags and its fields' (attribute, open tag, close tag); None: text
    item: tuple[str, str, tuple[tuple[str, str, str], ...]] | None = None


def _parts() -> tuple[_Part, ...]:
    parts = []
    for e in REGISTER_RESULT.elements:
        item = None
        if e.item and e.type is not None:
            item = (f"<ns2:{e.item}>", f"</ns2:{e.item}>",
                    tuple((f.attr, f"<ns2:{f.name}>", f"</ns2:{f.name}>") for f in e.type.elements))
        parts.append(_Part(e.attr, f"<ns2:{e.name}>", f"</ns2:{e.name}>", e.name in _SUCCESS_ONLY, item))
    return tuple(parts)


_PARTS = _parts()
_RESULT_OPEN = f'<ns2:registerDocumentResult xmlns:ns2="{CALLBACK}">'
_RESULT_CLOSE = "</ns2:registerDocumentResult>"


def result_body(outcome: dict[str, Any], relates_to: str) -> str:
    """The ``ns2:registerDocumentResult`` element, as :data:`~mock_remd.domain.messages.REGISTER_RESULT`
    declares it (``stage`` only in a two-phase outcome, the registration only on success)."""
    values = {**outcome, "relates_to": strip_urn(relates_to)}
    success = outcome.get("status") == "success"
    out = [_RESULT_OPEN]
    for p in _PARTS:
        if p.item is not None:
            item_open, item_close, members = p.item
            items = []
            for i in values.get(p.attr) or []:
                items.append(item_open)
                for attr, open_, close in members:
                    v = i[attr]
                    if v is not None and v != "":
                        items.append(f"{open_}{_escape(v if type(v) is str else str(v))}{close}")
                items.append(item_close)
            if items:
                out.append(p.open)
                out.extend(items)
                out.append(p.close)
        elif success or not p.success_only:
            v = values.get(p.attr)
            if v is not None and v != "":
                out.append(f"{p.open}{_escape(v if type(v) is str else str(v))}{p.close}")
    out.append(_RESULT_CLOSE)
    return "".join(out)


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
    mid = message_id or f"urn:uuid:{message_uuid()}"
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{soap}" xmlns:wsa="{WSA}">'
        f"<soap:Header><wsa:To>{_escape(to)}</wsa:To><wsa:Action>{ACTION}</wsa:Action>"
        f"<wsa:MessageID>{_escape(mid)}</wsa:MessageID><wsa:RelatesTo>{_escape(relates_to)}</wsa:RelatesTo>"
        f"</soap:Header><soap:Body>{result_body(outcome, relates_to)}</soap:Body></soap:Envelope>"
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
