"""Header rules name their source and agree with the official packs on which parts are required.

The table test reads each of the 95 published Schematrons itself (a plain pattern search over the
asserts of ``ClinicalDocument`` rules, independent of the product's parser) and checks that the
header layer requires ``legalAuthenticator``, ``informationRecipient``, ``realmCode`` … exactly for
the kinds whose pack requires them, with the packs installed and with only the built-in table.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from _cda_testing import CACHES, NS, context, parse, remove
from lxml import etree

from mock_remd.catalog.kinds import SEED, Kind, KindRegistry
from mock_remd.validation.cda import header_rules
from mock_remd.validation.cda.pack_requirements import CDA_R2_REQUIRED
from mock_remd.validation.cda.published_requirements import PUBLISHED
from mock_remd.validation.context import ValidationSettings
from mock_remd.validation.layers.header_layer import HeaderLayer
from mock_remd.validation.packs import list_packs
from mock_remd.validation.pipeline import Validator

SCH = "{http://purl.oclc.org/dsdl/schematron}"
#: header parts that CDA R2 leaves optional: required only where the kind's Schematron says so
PACK_ONLY = ("legalAuthenticator", "informationRecipient", "realmCode", "templateId", "title", "languageCode",
             "setId", "versionNumber")
RULE_OF = {rule.element: rule.id for rule in header_rules.HEADER_RULES if rule.element}
KIND_290_TEMPLATE = "1.2.643.5.1.13.13.15.13.7"


def _schematron_requires(sch: Path, element: str) -> bool:
    """Does an assert at context ClinicalDocument demand at least one ``element``?"""
    demand = re.compile(
        rf"^(count\(\s*{element}\b(\[[^\]]*(\[[^\]]*\][^\]]*)*\]|/[\w/]+)?\s*\)\s*(=\s*1|>=\s*1|>\s*0)"
        rf"|{element}(\[last\(\)\s*=\s*1\]|/[\w/]+\[last\(\)\s*=\s*1\]))$"
    )
    for rule in etree.parse(str(sch)).getroot().iter(f"{SCH}rule"):
        if rule.get("context", "").strip().lstrip("/") != "ClinicalDocument":
            continue
        for assertion in rule.iter(f"{SCH}assert"):
            test = " ".join(assertion.get("test", "").split())
            if " or " in test:
                continue
            for atom in test.split(" and "):
                if demand.match(atom.strip()) and "not(" not in atom:
                    return True
    return False


@pytest.fixture(scope="module")
def sch_requirements(published_packs_dir: Path) -> dict[str, set[str]]:
    """Kind → the PACK_ONLY parts its published Schematron requires (read by the test itself)."""
    out = {}
    for pack in list_packs(published_packs_dir):
        out[pack.kind] = {e for e in PACK_ONLY if _schematron_requires(pack.schematron, e)}
    assert len(out) == 95
    return out


def _header(root: etree._Element, kind: str, packs_dir: Path | None):
    settings = ValidationSettings(packs_dir=packs_dir)
    return HeaderLayer(settings).run(context(root, kind=kind, settings=settings))


def _fired(root: etree._Element, kind: str, packs_dir: Path | None) -> set[str]:
    return {f.rule for f in _header(root, kind, packs_dir).findings}


def test_every_header_rule_names_its_source() -> None:
    emitted = set(re.findall(r'"(H-[A-Za-z-]+)"', Path(header_rules.__file__).read_text(encoding="utf-8")))
    assert emitted <= set(header_rules.RULES_BY_ID), emitted - set(header_rules.RULES_BY_ID)
    for rule in header_rules.HEADER_RULES:
        assert rule.source.strip(), rule.id
    snils = header_rules.RULES_BY_ID["H-patient-snils"].source
    assert "не валидно контрольное число" in snils  # the registry's own text, remd-error-messages.tsv


def test_registry_text_behind_the_snils_rule_is_real(shared_dir: Path) -> None:
    text = (shared_dir / "data" / "remd-error-messages.tsv").read_text(encoding="utf-8")
    assert "не валидно контрольное число" in text


def test_built_in_table_matches_the_published_packs(sch_requirements: dict[str, set[str]]) -> None:
    assert set(PUBLISHED) == set(sch_requirements)
    for kind, required in sch_requirements.items():
        assert required == set(PUBLISHED[kind][0]) & set(PACK_ONLY), kind


@pytest.mark.parametrize("element", PACK_ONLY)
def test_header_rule_applies_exactly_where_the_pack_requires_the_element(
    element: str, sch_requirements: dict[str, set[str]], published_packs_dir: Path, valid_119_bytes: bytes
) -> None:
    rule = RULE_OF[element]
    expected = {folder for folder, required in sch_requirements.items() if element in required}

    def document(template: str = "") -> etree._Element:
        doc = parse(valid_119_bytes)
        remove(doc, f"/hl7:ClinicalDocument/hl7:{element}")
        if template and element != "templateId":
            doc.find("hl7:templateId", NS).set("root", template)
        return doc

    # installed: each pack folder's kind, with that edition's templateId; the rule must fire exactly
    # when the edition the pack index selects (the one the schematron layer runs) requires the element
    seen = set()
    for pack in CACHES.pack_index(published_packs_dir).packs:
        roots = (pack.template_id,) if pack.template_id else ()
        selected = CACHES.select_pack(published_packs_dir, pack.kind, roots)[1].directory
        report = _header(document(pack.template_id), pack.kind, published_packs_dir)
        assert report.details["required_by"].endswith(f"{selected}.sch"), report.details["required_by"]
        fired = rule in {f.rule for f in report.findings}
        assert fired == (selected in expected), (element, pack.directory, selected)
        seen.add(selected)
    assert len(seen) >= 93
    # the built-in table, no packs directory: by folder name as the table records it
    applies = {folder for folder in sch_requirements if rule in _fired(document(), folder, None)}
    assert applies == expected, (element, sorted(applies ^ expected))


def test_cda_r2_parts_are_required_for_every_kind(published_packs_dir: Path, valid_119_bytes: bytes) -> None:
    """recordTarget, author, custodian …: every official XSD derives from CDA R2, which requires them."""
    for element in ("recordTarget", "author", "custodian"):
        assert element in CDA_R2_REQUIRED
        doc = parse(valid_119_bytes)
        remove(doc, f"/hl7:ClinicalDocument/hl7:{element}")
        for kind in ("15", "119", "290", ""):
            assert RULE_OF[element] in _fired(doc, kind, published_packs_dir), (element, kind)


def _kind_290_document(valid_119_bytes: bytes) -> etree._Element:
    """The 119 example made a Протокол консультации Р7 (kind 290) without legalAuthenticator, as the
    official 290 example is: its Schematron (v1.7) requires ClinicalDocument parts У1-1…У1-22, no legalAuthenticator."""
    doc = parse(valid_119_bytes)
    doc.find("hl7:templateId", NS).set("root", KIND_290_TEMPLATE)
    remove(doc, "/hl7:ClinicalDocument/hl7:legalAuthenticator")
    return doc


def test_kind_290_without_legal_authenticator_is_not_refused(published_packs_dir: Path, valid_119_bytes: bytes) -> None:
    doc = _kind_290_document(valid_119_bytes)
    for kind in ("290", ""):  # asked for, or only declared by templateId
        for packs_dir in (published_packs_dir, None):
            report = _header(doc, kind, packs_dir)
            assert "H-legalAuthenticator" not in {f.rule for f in report.findings}
            assert "legalAuthenticator" not in report.details["required"]
    # the same document as kind 119 is refused: 119's pack requires legalAuthenticator (Main06-1)
    assert "H-legalAuthenticator" in _fired(doc, "119", published_packs_dir)


def test_installed_pack_decides(tmp_path: Path, valid_119_bytes: bytes) -> None:
    """A kind-290 pack installed in the packs directory: its ClinicalDocument rule is what counts."""
    (tmp_path / "290").mkdir()
    (tmp_path / "290" / "290.sch").write_text(
        '<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2"><pattern>'
        '<rule context="ClinicalDocument">'
        '<assert test="count(realmCode)=1">У1-1</assert>'
        '<assert test="count(informationRecipient[intendedRecipient/receivedOrganization/id/@root=\'1.2.643.5.1.13\'])=1">'
        "У1-15</assert>"
        '<assert test="count(participant[@typeCode=\'IND\'])&gt;=0 and count(participant[@typeCode=\'IND\'])&lt;=1">'
        "У1-17</assert>"
        "</rule></pattern></schema>",
        encoding="utf-8",
    )
    doc = _kind_290_document(valid_119_bytes)
    report = _header(doc, "290", tmp_path)
    assert report.passed, [f.message for f in report.findings]
    assert "290.sch" in report.details["required_by"] and report.details["ministry_recipient"] is True
    assert "participant" not in report.details["required"]
    remove(doc, "/hl7:ClinicalDocument/hl7:informationRecipient")
    assert _fired(doc, "290", tmp_path) == {"H-informationRecipient"}


def test_kind_290_through_the_pipeline_with_290_in_the_catalog(valid_119_bytes: bytes) -> None:
    """With NSI 1520 row 290 known (Протокол консультации Р7), the kind layer names the document 290
    and the header layer does not ask for legalAuthenticator."""
    kind_290 = Kind(
        id="290", type_1522="5", edition="7", name="Протокол консультации (CDA) Редакция 7",
        start_date=dt.date(2026, 1, 10), git_link=KIND_290_TEMPLATE, template_ids=(KIND_290_TEMPLATE,),
    )
    settings = ValidationSettings(
        layers=frozenset({"xml", "kind", "header"}), kinds=KindRegistry([*SEED, kind_290])
    )
    content = etree.tostring(_kind_290_document(valid_119_bytes))
    report = Validator(settings).validate(content, kind="290")
    header = report.layer("header")
    assert header is not None and header.details["kind"] == "290"
    assert "H-legalAuthenticator" not in {f.rule for f in header.findings}, [f.message for f in header.findings]


def test_a_document_its_official_pack_accepts_passes_the_header(published_packs_dir: Path) -> None:
    """Kind 106 (not one of ours): a document its published XSD and Schematron accept is not refused
    by the header rules, with the pack installed or known only from the built-in table."""
    from test_packs_published import KIND_106

    official = Validator(
        ValidationSettings(layers=frozenset({"xml", "xsd", "schematron"}), packs_dir=published_packs_dir)
    ).validate(KIND_106, kind="106")
    assert official.valid, [f.message for f in official.errors]
    for packs_dir in (published_packs_dir, None):
        assert _fired(parse(KIND_106), "106", packs_dir) == set()


def test_time_form_follows_the_kind(valid_119_bytes: bytes) -> None:
    """author/time as nullFlavor="NI" is what 119's pack asserts; kind 15's pack asks for a @value."""
    doc = parse(valid_119_bytes)
    time = doc.find("hl7:author/hl7:time", NS)
    del time.attrib["nullFlavor"]
    time.set("value", "20240115")
    assert "H-author" in _fired(doc, "119", None)
    assert "H-author" not in _fired(doc, "15", None)
    assert "H-author" not in _fired(doc, "290", None)  # no pack known: the time form is not ours to decide


def test_shape_rules_are_left_to_an_installed_pack(packs_dir: Path, valid_119_bytes: bytes) -> None:
    doc = parse(valid_119_bytes)
    signature = doc.find("hl7:legalAuthenticator/hl7:signatureCode", NS)
    del signature.attrib["nullFlavor"]
    signature.set("code", "S")
    report = _header(doc, "119", packs_dir)  # 119 installed, Schematron layer on: the pack decides
    assert report.passed and report.details["left_to_pack"] == ["H-legalAuthenticator"]
    settings = ValidationSettings(packs_dir=packs_dir, layers=frozenset({"xml", "header"}))
    alone = HeaderLayer(settings).run(context(doc, kind="119", settings=settings))
    assert {f.rule for f in alone.findings} == {"H-legalAuthenticator"}  # no Schematron run: our copy stands


def test_every_cross_rule_names_its_source(shared_dir: Path) -> None:
    from mock_remd.validation.layers import cross_layer

    emitted = set(re.findall(r'"(C-[A-Za-z-]+)"', Path(cross_layer.__file__).read_text(encoding="utf-8")))
    table = {rule.id: rule for rule in cross_layer.CROSS_RULES}
    assert emitted == set(table), emitted ^ set(table)
    assert all(rule.source.strip() and rule.scope.strip() for rule in table.values())
    texts = (shared_dir / "data" / "remd-error-messages.tsv").read_text(encoding="utf-8")
    quoted = [q for rule in table.values() if "remd-error-messages.tsv" in rule.source
              for q in re.findall(r"«([^«»]+?)(?: \[\.\.\]| …)", rule.source)]
    assert quoted and all(" ".join(q.split()) in " ".join(texts.split()) for q in quoted), quoted


def test_docs_list_every_rule() -> None:
    from mock_remd.validation.layers import cross_layer

    docs = (Path(__file__).resolve().parents[1] / "docs" / "validation-rules.md").read_text(encoding="utf-8")
    ids = [r.id for r in header_rules.HEADER_RULES] + [r.id for r in cross_layer.CROSS_RULES]
    assert [i for i in ids if f"`{i}`" not in docs] == []
