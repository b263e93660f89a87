"""Answers written the way the real registry writes them: envelope prefix ``soap``, service prefix
``ns3`` (JAX-WS style), WS-Addressing ``RelatesTo`` the request's MessageID."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from mock_remd.catalog.errors import ErrorItem
from mock_remd.domain.ids import message_uuid
from mock_remd.domain.messages import REGISTRY_ITEM
from mock_remd.namespaces import CONTENT_TYPES, ENVELOPE_NS, SERVICE, WSA


def _el(name: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    return f"<ns3:{name}>{escape(str(value))}</ns3:{name}>"


def _errors(errors: list[ErrorItem]) -> str:
    if not errors:
        return ""
    items = "".join(f"<ns3:item>{_el('code', e.code)}{_el('message', e.message)}</ns3:item>" for e in errors)
    return f"<ns3:errors>{items}</ns3:errors>"


def _item(fields: dict[str, Any]) -> str:
    return "<ns3:item>" + "".join(_el(k, fields.get(k)) for k in REGISTRY_ITEM.names) + "</ns3:item>"


def _envelope(version: str, body: str, relates_to: str, action: str) -> tuple[str, bytes]:
    soap = ENVELOPE_NS.get(version, ENVELOPE_NS["1.2"])
    header = f"<wsa:MessageID>urn:uuid:{message_uuid()}</wsa:MessageID><wsa:Action>{action}</wsa:Action>"
    if relates_to:
        header += f"<wsa:RelatesTo>{escape(relates_to)}</wsa:RelatesTo>"
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{soap}" xmlns:wsa="{WSA}">'
        f"<soap:Header>{header}</soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"
    )
    return CONTENT_TYPES.get(version, CONTENT_TYPES["1.2"]), xml.encode("utf-8")


def _success_parts(version: str) -> tuple[str, str, str, str]:
    """The success answer of :func:`register_response` cut around its variable parts: the content type, the
    text before the answer's MessageID, between it and the RelatesTo header, and after."""
    ctype, whole = _envelope(version, _SUCCESS_BODY, _MARK_RELATES, "registerDocumentResponse")
    text = whole.decode("utf-8")
    start = text.index("<wsa:MessageID>urn:uuid:") + len("<wsa:MessageID>urn:uuid:")
    mid = text.index("</wsa:MessageID>")
    relates = text.index(f"<wsa:RelatesTo>{_MARK_RELATES}</wsa:RelatesTo>")
    after = relates + len(f"<wsa:RelatesTo>{_MARK_RELATES}</wsa:RelatesTo>")
    return ctype, text[:start], text[mid:relates], text[after:]


_SUCCESS_BODY = f'<ns3:registerDocumentResponse xmlns:ns3="{SERVICE}"><ns3:status>success</ns3:status></ns3:registerDocumentResponse>'
_MARK_RELATES = "relates-to"
#: the success answer per SOAP version, made once (every accepted registration answers it)
_SUCCESS = {v: _success_parts(v) for v in ENVELOPE_NS}


def register_response(version: str, status: str, errors: list[ErrorItem], relates_to: str) -> tuple[str, bytes]:
    """``ns3:registerDocumentResponse``."""
    if status == "success" and not errors:  # the answer of every accepted registration: its parts filled in
        ctype, head, middle, tail = _SUCCESS.get(version) or _SUCCESS["1.2"]
        relates = f"<wsa:RelatesTo>{escape(relates_to)}</wsa:RelatesTo>" if relates_to else ""
        return ctype, f"{head}{message_uuid()}{middle}{relates}{tail}".encode()
    body = f'<ns3:registerDocumentResponse xmlns:ns3="{SERVICE}">{_el("status", status)}{_errors(errors)}</ns3:registerDocumentResponse>'
    return _envelope(version, body, relates_to, "registerDocumentResponse")


def search_response(version: str, status: str, items: list[dict[str, Any]], errors: list[ErrorItem],
                    relates_to: str) -> tuple[str, bytes]:
    """``ns3:searchRegistryItemResponse`` with ``matches/item``."""
    matches = "<ns3:matches>" + "".join(_item(i) for i in items) + "</ns3:matches>" if status == "success" else ""
    body = (
        f'<ns3:searchRegistryItemResponse xmlns:ns3="{SERVICE}">{_el("status", status)}{matches}{_errors(errors)}'
        "</ns3:searchRegistryItemResponse>"
    )
    return _envelope(version, body, relates_to, "searchRegistryItemResponse")


def get_item_response(version: str, status: str, item: dict[str, Any] | None, errors: list[ErrorItem],
                      relates_to: str) -> tuple[str, bytes]:
    """``ns3:getRegistryItemResponse`` with ``item`` or ``errors``."""
    inner = _item(item) if item else ""
    body = (
        f'<ns3:getRegistryItemResponse xmlns:ns3="{SERVICE}">{_el("status", status)}{inner}{_errors(errors)}'
        "</ns3:getRegistryItemResponse>"
    )
    return _envelope(version, body, relates_to, "getRegistryItemResponse")
