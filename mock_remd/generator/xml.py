"""Small helpers for writing CDA with lxml: namespaces, elements, coded values."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

V3 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
IDENTITY = "urn:hl7-ru:identity"
ADDRESS = "urn:hl7-ru:address"
FIAS = "urn:hl7-ru:fias"
MEDSERVICE = "urn:hl7-ru:medService"

NSMAP = {
    None: V3,
    "xsi": XSI,
    "identity": IDENTITY,
    "address": ADDRESS,
    "medService": MEDSERVICE,
    "fias": FIAS,
}
_PREFIXES = {k: v for k, v in NSMAP.items() if k}


@dataclass(frozen=True)
class Code:
    """A coded value from an NSI dictionary (what CDA writes as ``code``/``value xsi:type="CD"``)."""

    code: str
    display: str
    system: str
    system_name: str
    version: str

    def attrs(self) -> dict[str, str]:
        """The five attributes the registry requires on every coded element."""
        return {
            "code": self.code,
            "codeSystem": self.system,
            "codeSystemVersion": self.version,
            "codeSystemName": self.system_name,
            "displayName": self.display,
        }


def qname(tag: str) -> str:
    """``identity:Series`` → Clark name; unprefixed names are HL7 v3."""
    if ":" in tag:
        prefix, local = tag.split(":", 1)
        return f"{{{_PREFIXES[prefix]}}}{local}"
    return f"{{{V3}}}{tag}"


def root(tag: str = "ClinicalDocument") -> etree._Element:
    """A new root element with the СЭМД namespace declarations."""
    return etree.Element(qname(tag), nsmap=NSMAP)


def el(parent: etree._Element, tag: str, attrs: dict[str, str] | None = None, text: str | None = None,
       xsi_type: str | None = None) -> etree._Element:
    """Append ``<tag attrs>text</tag>`` to ``parent`` and return it (``xsi:type`` written first)."""
    node = etree.SubElement(parent, qname(tag))
    if xsi_type:
        node.set(f"{{{XSI}}}type", xsi_type)
    for key, value in (attrs or {}).items():
        node.set(key, value)
    if text is not None:
        node.text = text
    return node


def coded(parent: etree._Element, tag: str, code: Code, xsi_type: str | None = None) -> etree._Element:
    """Append a coded element carrying ``code``."""
    return el(parent, tag, code.attrs(), xsi_type=xsi_type)


def serialize(tree: etree._Element, comment: str | None = None) -> bytes:
    """UTF-8 bytes with an XML declaration, indented with tabs for reading."""
    etree.indent(tree, space="\t")
    body = etree.tostring(tree, encoding="UTF-8", xml_declaration=False)
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    if comment:
        head += f"<!-- {comment} -->\n".encode()
    return head + body + b"\n"
