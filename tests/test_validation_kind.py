"""Layer ``kind``: identification by templateId / code, request mismatch, validity dates, CDA format."""

from __future__ import annotations

import pytest
from _cda_testing import context, matching_request, one, parse
from lxml import etree

from mock_remd.catalog.kinds import default_registry
from mock_remd.validation.context import ValidationSettings
from mock_remd.validation.layers.kind_layer import KindLayer
from mock_remd.validation.pipeline import Validator

SETTINGS = ValidationSettings()
LAYER = KindLayer(SETTINGS)
NSI_1520 = "1.2.643.5.1.13.13.11.1520"
NSI_1079 = "1.2.643.5.1.13.13.99.2.1079"


@pytest.fixture
def doc(valid_119_bytes: bytes) -> etree._Element:
    return parse(valid_119_bytes)


def set_template(root: etree._Element, value: str) -> None:
    one(root, "/hl7:ClinicalDocument/hl7:templateId").set("root", value)


def set_code(
    root: etree._Element, code: str, system: str, translation: tuple[str, str] | None = None
) -> None:
    el = one(root, "/hl7:ClinicalDocument/hl7:code")
    el.set("code", code)
    el.set("codeSystem", system)
    if translation:
        etree.SubElement(el, "{urn:hl7-org:v3}translation", code=translation[0], codeSystem=translation[1])


def codes(report) -> list[str]:
    return [f.code for f in report.findings if f.severity == "error"]


def test_valid_example_is_119_without_request(doc):
    ctx = context(doc)
    report = LAYER.run(ctx)
    assert report.passed and report.findings == []
    assert ctx.kind is not None and ctx.kind.id == "119"
    assert report.details["identified_by"] == "templateId"


def test_valid_example_matches_requested_119(doc):
    ctx = context(doc, kind="119")
    assert LAYER.run(ctx).findings == []
    assert ctx.kind.id == "119"


def test_pipeline_reports_the_kind(valid_119_bytes):
    report = Validator(ValidationSettings(layers=frozenset({"xml", "kind"}))).validate(valid_119_bytes)
    assert report.kind == "119" and report.valid


def test_requested_kind_differs_from_document_kind(doc):
    ctx = context(doc, kind="186")
    report = LAYER.run(ctx)
    (finding,) = report.findings
    assert finding.code == "VALIDATION_ERROR" and finding.rule == "K-mismatch"
    assert finding.message == (
        "Вид документа в ЭМД [119] отличается от вида документа в запросе на регистрацию сведений [186]"
    )
    assert finding.path == "/ClinicalDocument[1]/templateId[1]"
    assert ctx.kind.id == "119"  # the document's own kind wins


def test_generation_b_template(doc):
    set_template(doc, "1.2.643.5.1.13.13.14.7.9.5")
    set_code(doc, "7", "1.2.643.5.1.13.13.11.1522")
    ctx = context(doc, kind="186")
    assert LAYER.run(ctx).findings == []
    assert ctx.kind.id == "186"


def test_generation_c_template_with_translation(doc):
    set_template(doc, "1.2.643.5.1.13.13.15.105.1")
    set_code(doc, "105", NSI_1079, translation=("204", NSI_1520))
    ctx = context(doc, kind="204")
    assert LAYER.run(ctx).findings == []
    assert ctx.kind.id == "204"


def test_kind_from_translation_when_template_unknown(doc):
    set_template(doc, "1.2.643.5.1.13.13.15.999.9")
    set_code(doc, "105", NSI_1079, translation=("204", NSI_1520))
    ctx = context(doc)
    report = LAYER.run(ctx)
    assert report.details["identified_by"] == "code"
    assert ctx.kind.id == "204"


def test_translation_contradicting_template(doc):
    set_template(doc, "1.2.643.5.1.13.13.15.105.1")
    set_code(doc, "105", NSI_1079, translation=("203", NSI_1520))
    report = LAYER.run(context(doc))
    (finding,) = report.findings
    assert finding.rule == "K-code" and "'204'" in finding.message
    assert finding.path == "/ClinicalDocument[1]/code[1]/translation[1]"


def test_document_type_code_contradicting_template(doc):
    one(doc, "/hl7:ClinicalDocument/hl7:code").set("code", "7")
    (finding,) = LAYER.run(context(doc, kind="119")).findings
    assert finding.code == "VALIDATION_ERROR" and finding.rule == "K-code"
    assert "равное '5'" in finding.message and finding.line == 8


def test_older_edition_template_against_requested_kind(examples_dir, packs_dir):
    # the official example carries templateId ...5.9.3: "Протокол консультации (CDA) Редакция 3" (kind 68)
    root = parse((examples_dir / "consultation-119-invalid-schematron.xml").read_bytes())
    ctx = context(root, kind="119")
    (finding,) = LAYER.run(ctx).findings
    assert finding.rule == "K-mismatch" and "[68]" in finding.message and "[119]" in finding.message
    assert ctx.kind.id == "68"  # the document's own kind, while neither has a pack
    with_packs = ValidationSettings(packs_dir=packs_dir)
    ctx = context(root, kind="119", settings=with_packs)
    KindLayer(with_packs).run(ctx)
    assert ctx.kind.id == "119"  # only the requested kind has a pack: its Schematron reports the template


def test_unknown_template_against_requested_kind(doc):
    set_template(doc, "1.2.643.5.1.13.13.99.99.9.1")
    ctx = context(doc, kind="119")
    (finding,) = LAYER.run(ctx).findings
    assert finding.rule == "K-mismatch" and "1.2.643.5.1.13.13.99.99.9.1" in finding.message
    assert ctx.kind.id == "119"  # falls back to the requested kind


def test_template_of_another_edition_gives_the_current_edition_of_its_type(examples_dir, packs_dir):
    # templateId ….5.9.3 is kind 68 (edition 3, closed in NSI 1520 v12.85), code 5 of NSI 1522: the
    # document is checked as a current edition of "Протокол консультации" — the one whose pack is
    # installed (119 in ../shared/packs), else the newest one in force on the document's date (227,
    # edition 5, from 07.03.2024; 290 only starts on 10.01.2026 and would add a date error) (issue 13)
    root = parse((examples_dir / "consultation-119-invalid-schematron.xml").read_bytes())
    with_packs = ValidationSettings(packs_dir=packs_dir)
    ctx = context(root, settings=with_packs)
    report = KindLayer(with_packs).run(ctx)
    assert report.passed and ctx.kind.id == "119"
    (finding,) = report.findings
    assert finding.severity == "warning" and finding.rule == "K-edition" and "[119]" in finding.message
    ctx = context(root)
    report = LAYER.run(ctx)
    assert ctx.kind.id == "227"
    assert "NO_DOCUMENT_KIND_ON_DATE" not in codes(report)


def test_unknown_template_without_request_is_a_warning(doc):
    set_template(doc, "1.2.643.5.1.13.13.99.99.9.1")
    one(doc, "/hl7:ClinicalDocument/hl7:code").set("codeSystem", "1.2.643.5.1.13.13.99.99")
    ctx = context(doc)
    report = LAYER.run(ctx)
    assert report.passed and ctx.kind is None
    (finding,) = report.findings
    assert finding.severity == "warning" and finding.rule == "K-undetermined"


def test_kinds_sharing_a_template_take_the_requested_one(doc):
    # 76 (свидетельство о рождении Р4) and 118 (его бумажная форма Р4) assert the same templateId
    set_template(doc, "1.2.643.5.1.13.2.7.5.1.33.9.4")
    one(doc, "/hl7:ClinicalDocument/hl7:code").set("code", "33")
    for requested in ("76", "118"):
        ctx = context(doc, kind=requested)
        report = LAYER.run(ctx)
        assert ctx.kind.id == requested and not [f for f in report.findings if f.rule == "K-mismatch"]


def test_unknown_requested_kind(doc):
    report = LAYER.run(context(doc, kind="9999"))
    assert codes(report) == ["VALIDATION_ERROR"]
    assert "[9999]" in report.findings[0].message


def test_kind_not_valid_on_creation_date(doc):
    one(doc, "/hl7:ClinicalDocument/hl7:effectiveTime").set(
        "value", "202112311000+0300"
    )  # 119 starts 2022-01-01
    report = LAYER.run(context(doc, kind="119"))
    (finding,) = report.findings
    assert finding.code == "NO_DOCUMENT_KIND_ON_DATE"
    assert finding.message == "Вид документов [119] не актуален на дату создания документа"


def test_kind_date_uses_request_when_document_date_missing(doc):
    eff = one(doc, "/hl7:ClinicalDocument/hl7:effectiveTime")
    del eff.attrib["value"]
    eff.set("nullFlavor", "NA")
    request = matching_request()
    request.creation_date_time = "2021-06-01T10:00:00+03:00"
    assert codes(LAYER.run(context(doc, request=request))) == ["NO_DOCUMENT_KIND_ON_DATE"]


def test_requested_kind_not_cda(doc):
    # kind 6 is "Протокол консультации (PDF/A-1)"
    assert not default_registry().get("6").is_cda
    (finding,) = LAYER.run(context(doc, kind="6")).findings
    assert finding.code == "INVALID_DOC_CONTENT_TYPE"
    assert finding.message == "Документ не соответствует допустимому формату для вида документов [6]"


def test_document_kind_not_cda_in_registry(doc):
    settings = ValidationSettings(kinds=default_registry().with_overrides(**{"119": {"format": "1"}}))
    report = KindLayer(settings).run(context(doc, settings=settings))
    assert codes(report) == ["INVALID_DOC_CONTENT_TYPE"]
