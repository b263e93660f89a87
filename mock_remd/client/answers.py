"""Client side of the synchronous leg: post a ``registerDocument`` envelope and read the answer."""

from __future__ import annotations

from dataclasses import dataclass, field

import requests
from lxml import etree

from mock_remd.soap.builders import content_type
from mock_remd.xmlsafe import local_name, parse_bytes


@dataclass
class SyncAnswer:
    """What the SOAP endpoint answered to one request."""

    http_status: int
    status: str = ""
    errors: list[dict[str, str]] = field(default_factory=list)
    #: ``code: reason`` of a SOAP Fault, empty otherwise
    fault: str = ""
    raw: bytes = b""

    @property
    def accepted(self) -> bool:
        """True when the registry took the request for processing (a callback follows)."""
        return self.status == "success" and not self.fault

    @property
    def error_codes(self) -> list[str]:
        return [e.get("code", "") for e in self.errors]

    def describe(self) -> str:
        """One line for messages: status, fault or error codes."""
        if self.fault:
            return f"SOAP Fault {self.fault} (HTTP {self.http_status})"
        if self.status == "error":
            return "error: " + "; ".join(f"{e['code']}: {e['message']}" for e in self.errors)
        if self.status:
            return self.status
        return f"HTTP {self.http_status}, no SOAP answer"


def parse_sync_answer(http_status: int, body: bytes) -> SyncAnswer:
    """Read ``status``, ``errors/item`` or a Fault from a SOAP answer (tolerant of anything else)."""
    answer = SyncAnswer(http_status=http_status, raw=body)
    try:
        root = parse_bytes(body, max_bytes=16 * 1024 * 1024)
    except (etree.XMLSyntaxError, ValueError):
        return answer
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        name = local_name(el)
        if name == "Fault":
            code = next((t.strip() for t in el.itertext() if t.strip()), "")
            values = [
                (c.text or "").strip() for c in el.iter()
                if isinstance(c.tag, str) and local_name(c) in ("Value", "faultcode", "Text", "faultstring")
            ]
            answer.fault = ": ".join(v for v in values if v) or code or "Fault"
        elif name == "status" and not answer.status:
            answer.status = (el.text or "").strip()
        elif name == "item" and el.getparent() is not None and local_name(el.getparent()) == "errors":
            item = {local_name(c): (c.text or "").strip() for c in el if isinstance(c.tag, str)}
            answer.errors.append({"code": item.get("code", ""), "message": item.get("message", "")})
    return answer


def post_envelope(soap_url: str, envelope: bytes, *, version: str = "1.2", timeout: float = 30.0,
                  session: requests.Session | None = None) -> SyncAnswer:
    """POST ``envelope`` to ``soap_url`` with the Content-Type of ``version`` and parse the answer.

    Connection problems raise ``requests.RequestException``.
    """
    headers = {"Content-Type": content_type(version)}
    if version == "1.1":
        headers["SOAPAction"] = '"registerDocument"'
    http = session or requests.Session()
    http.trust_env = False
    resp = http.post(soap_url, data=envelope, headers=headers, timeout=timeout)
    return parse_sync_answer(resp.status_code, resp.content)
