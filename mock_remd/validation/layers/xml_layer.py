"""Layer ``xml``: the bytes are UTF-8 XML with a CDA ``ClinicalDocument`` root, parsed safely."""

from __future__ import annotations

from lxml import etree

from mock_remd.validation.context import DocumentContext, ValidationSettings
from mock_remd.validation.report import Finding, LayerReport
from mock_remd.xmlsafe import (
    UnsafeXmlError,
    XmlTooLargeError,
    describe_syntax_error,
    local_name,
    parse_bytes,
    strip_bom,
)

CDA_NS = "urn:hl7-org:v3"


class XmlLayer:
    """Decode and parse the document; on success ``ctx.root`` holds the tree."""

    name = "xml"

    def __init__(self, settings: ValidationSettings) -> None:
        self.max_bytes = int(settings.options.get("max_document_bytes", 64 * 1024 * 1024))

    def run(self, ctx: DocumentContext) -> LayerReport:
        data = strip_bom(ctx.content)
        findings: list[Finding] = []
        if not data or data.isspace():  # nothing but ASCII whitespace (data.strip() would copy it all)
            findings.append(Finding("INVALID_CONTENT", "Ошибка валидации СЭМД: файл документа пуст", rule="xml-empty"))
            return LayerReport(self.name, True, False, findings)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            findings.append(
                Finding(
                    "INVALID_CONTENT",
                    f"Ошибка валидации СЭМД: документ не в кодировке UTF-8 (байт {exc.start})",  # not Python's reason
                    rule="xml-encoding",
                )
            )
            return LayerReport(self.name, True, False, findings)
        try:
            root = parse_bytes(data, max_bytes=self.max_bytes)
        except (UnsafeXmlError, XmlTooLargeError) as exc:
            findings.append(Finding("INVALID_CONTENT", f"Ошибка валидации СЭМД: {exc}", rule="xml-unsafe"))
            return LayerReport(self.name, True, False, findings)
        except etree.XMLSyntaxError as exc:
            line = exc.lineno if getattr(exc, "lineno", None) else None
            findings.append(
                Finding(
                    "INVALID_CONTENT",
                    f"Ошибка валидации СЭМД: Переданный файл не является валидным XML файлом: {describe_syntax_error(exc)}",
                    rule="xml-wellformed",
                    line=line,
                )
            )
            return LayerReport(self.name, True, False, findings)
        if local_name(root) != "ClinicalDocument":
            findings.append(
                Finding(
                    "INVALID_CONTENT",
                    f"Ошибка валидации СЭМД: корневой элемент [{local_name(root)}] не является ClinicalDocument",
                    rule="xml-root",
                    path=f"/{local_name(root)}",
                )
            )
            return LayerReport(self.name, True, False, findings)
        if etree.QName(root).namespace != CDA_NS:
            findings.append(
                Finding(
                    "VALIDATION_ERROR",
                    f"Ошибка валидации СЭМД: пространство имён корневого элемента [{etree.QName(root).namespace or ''}] "
                    f"должно быть {CDA_NS}",
                    rule="xml-namespace",
                    path="/ClinicalDocument",
                )
            )
        ctx.root = root
        return LayerReport(self.name, True, not findings, findings)
