"""Layer ``xml``: the bytes are UTF-8 XML with a CDA ``ClinicalDocument`` root, parsed safely."""

from __future__ import annotations

from lxml import etree

from mock_remd.catalog.findings import text as finding_text
from mock_remd.catalog.user_messages import xml_refusal, xml_syntax
from mock_remd.validation.context import DocumentContext, ValidationSettings
from mock_remd.validation.report import Finding, LayerReport
from mock_remd.xmlsafe import (
    UnsafeXmlError,
    XmlTooLargeError,
    local_name,
    parse_bytes,
    strip_bom,
)

CDA_NS = "urn:hl7-org:v3"
_CDA_ROOT = f"{{{CDA_NS}}}ClinicalDocument"


class XmlLayer:
    """Decode and parse the document; on success ``ctx.root`` holds the tree."""

    name = "xml"

    def __init__(self, settings: ValidationSettings) -> None:
        self.max_bytes = int(settings.options.get("max_document_bytes", 64 * 1024 * 1024))

    def run(self, ctx: DocumentContext) -> LayerReport:
        data = strip_bom(ctx.content)
        findings: list[Finding] = []
        if not data or data.isspace():  # nothing but ASCII whitespace (data.strip() would copy it all)
            findings.append(Finding("INVALID_CONTENT", finding_text("xml.empty"), rule="xml-empty"))
            return LayerReport(self.name, True, False, findings)
        try:
            root = parse_bytes(data, max_bytes=self.max_bytes)
        except (UnsafeXmlError, XmlTooLargeError) as exc:
            findings.append(_not_utf8(data) or Finding("INVALID_CONTENT", finding_text("xml.refused", reason=xml_refusal("ru", exc)),
                                                       rule="xml-unsafe"))
            return LayerReport(self.name, True, False, findings)
        except etree.XMLSyntaxError as exc:
            encoding = _not_utf8(data)
            if encoding is not None:
                return LayerReport(self.name, True, False, [encoding])
            line = exc.lineno if getattr(exc, "lineno", None) else None
            findings.append(
                Finding(
                    "INVALID_CONTENT",
                    finding_text("xml.not_well_formed", problem=xml_syntax("ru", exc)),
                    rule="xml-wellformed",
                    line=line,
                )
            )
            return LayerReport(self.name, True, False, findings)
        # libxml2 refuses every byte sequence that is not UTF-8 in a document it reads as UTF-8: one that
        # starts with "<" and an 8-bit character and declares UTF-8 or nothing. Any other (UTF-16, a
        # declared single-byte encoding) is decoded here, to say where it is not UTF-8.
        read_as_utf8 = data[:1] == b"<" and data[1:2] not in (b"\x00", b"") and (
            (root.getroottree().docinfo.encoding or "").lower() == "utf-8")
        encoding = None if read_as_utf8 else _not_utf8(data)
        if encoding is not None:
            return LayerReport(self.name, True, False, [encoding])
        if local_name(root) != "ClinicalDocument":
            findings.append(
                Finding(
                    "INVALID_CONTENT",
                    finding_text("xml.not_cda_root", name=local_name(root)),
                    rule="xml-root",
                    path=f"/{local_name(root)}",
                )
            )
            return LayerReport(self.name, True, False, findings)
        if root.tag != _CDA_ROOT:  # the local name is ClinicalDocument: the namespace is not CDA's
            findings.append(
                Finding(
                    "VALIDATION_ERROR",
                    finding_text("xml.namespace", namespace=etree.QName(root).namespace or "", expected=CDA_NS),
                    rule="xml-namespace",
                    path="/ClinicalDocument",
                )
            )
        ctx.root = root
        return LayerReport(self.name, True, not findings, findings)


def _not_utf8(data: bytes) -> Finding | None:
    """The finding for bytes that are not UTF-8 (naming the first bad byte), None for UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Finding(
            "INVALID_CONTENT",
            finding_text("xml.not_utf8", position=exc.start),  # not Python's reason
            rule="xml-encoding",
        )
    return None
