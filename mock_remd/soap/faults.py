"""SOAP Faults: the exception the protocol layer raises and its rendering in SOAP 1.1 and 1.2.

Client errors are ``Client.*`` (1.1 ``soap:Client``; 1.2 ``soap:Sender`` with HTTP 400), server errors
``Server.*`` (1.1 ``soap:Server``; 1.2 ``soap:Receiver`` with HTTP 500). Every reason comes from the Fault
catalogue (:mod:`mock_remd.catalog.faults`, :meth:`SoapFault.of`) or, for a Fault a scenario asks for, from
the scenario (:meth:`SoapFault.configured`).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from mock_remd.catalog.faults import fault_text
from mock_remd.namespaces import CONTENT_TYPES, SOAP11, SOAP12


class SoapFault(Exception):
    """A fault to answer with. ``code`` is ``Client.<Detail>`` or ``Server.<Detail>``."""

    def __init__(self, code: str, reason: str, http_status: int | None = None) -> None:
        if not (code.startswith("Client") or code.startswith("Server")):
            raise ValueError(f"fault code must start with Client or Server: {code!r}")
        super().__init__(reason)
        self.code = code
        self.reason = reason
        #: the catalogue key the reason came from ("" for a Fault a scenario configured)
        self.key = ""
        self.http_status = http_status or (400 if code.startswith("Client") else 500)

    @classmethod
    def of(cls, key: str, /, **values: object) -> SoapFault:
        """The catalogue Fault ``key`` (:data:`mock_remd.catalog.faults.FAULTS`) with ``values`` filled in."""
        found = fault_text(key, **values)
        fault = cls(found.code, found.reason, found.http_status)
        fault.key = key
        return fault

    @classmethod
    def configured(cls, code: str, reason: str, http_status: int | None = None) -> SoapFault:
        """A Fault whose code and reason a scenario or a magic value chose (CONTRACT §7)."""
        return cls(code, reason, http_status)

    @property
    def is_client(self) -> bool:
        return self.code.startswith("Client")


def render_fault(fault: SoapFault, version: str = "1.2") -> tuple[int, str, bytes]:
    """Render ``fault`` as ``(http_status, content_type, body)`` in the given SOAP version."""
    reason = escape(fault.reason)
    subcode = fault.code.split(".", 1)[1] if "." in fault.code else ""
    if version == "1.1":
        faultcode = "soap:Client" if fault.is_client else "soap:Server"
        if subcode:
            faultcode += "." + escape(subcode)
        body = (
            f'<soap:Envelope xmlns:soap="{SOAP11}"><soap:Body><soap:Fault>'
            f"<faultcode>{faultcode}</faultcode><faultstring>{reason}</faultstring>"
            "</soap:Fault></soap:Body></soap:Envelope>"
        )
    else:
        value = "soap:Sender" if fault.is_client else "soap:Receiver"
        sub = (
            f'<soap:Subcode><soap:Value xmlns:m="urn:mock-remd:faults">m:{escape(subcode)}</soap:Value></soap:Subcode>'
            if subcode
            else ""
        )
        body = (
            f'<soap:Envelope xmlns:soap="{SOAP12}"><soap:Body><soap:Fault>'
            f"<soap:Code><soap:Value>{value}</soap:Value>{sub}</soap:Code>"
            f'<soap:Reason><soap:Text xml:lang="ru">{reason}</soap:Text></soap:Reason>'
            "</soap:Fault></soap:Body></soap:Envelope>"
        )
    return fault.http_status, CONTENT_TYPES.get(version, CONTENT_TYPES["1.2"]), body.encode("utf-8")
