"""Every pack the portal publishes loads and gives a verdict (``../shared/packs-published``, 95 packs).

The packs are the ones the open 1C SEMD validator republishes (``<kind>/…xsd`` + ``<kind>/<kind>.sch``,
variants as ``<kind>_1``). Kind 106's ``CDA.xsd`` is refused by libxml2 ("complex type 'PQR': The
content model is not determinist"); it is loaded with its zero-occurrence particles removed, and the
tests below show that rewrite changes no verdict on packs libxml2 accepts either way.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from lxml import etree

from mock_remd.config import default_cache_dir
from mock_remd.validation.caches import ValidationCaches
from mock_remd.validation.context import DocumentContext, ValidationSettings
from mock_remd.validation.layers.xsd_layer import XsdLayer
from mock_remd.validation.packs import (
    PackSchema,
    compile_lxml,
    drop_zero_occurrence_particles,
    list_packs,
    load_schema,
)
from mock_remd.validation.pipeline import Validator
from mock_remd.validation.schematron.runner import get_validator

#: a document of kind 106 (Справка о постановке на учет по беременности, Р1) written from the pack's
#: own XSD and Schematron (it passes both): every element they require, nullFlavor where allowed
KIND_106 = """<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:identity="urn:hl7-ru:identity" xmlns:address="urn:hl7-ru:address" xmlns:fias="urn:hl7-ru:fias">
  <realmCode code="RU"/>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_MT000040"/>
  <templateId root="1.2.643.5.1.13.13.14.343.9.1"/>
  <id root="1.2.643.5.1.13.13.12.2.77.1.100.1.1.51" extension="106-1"/>
  <code code="343" codeSystem="1.2.643.5.1.13.13.11.1522" codeSystemName="Виды медицинской документации"
    codeSystemVersion="7.24" displayName="Справка о постановке на учет по беременности"/>
  <title>Справка о постановке на учет по беременности</title>
  <effectiveTime value="202401151030+0300"/>
  <confidentialityCode code="N" codeSystem="1.2.643.5.1.13.13.99.2.285" codeSystemName="Уровень конфиденциальности"
    codeSystemVersion="1.2" displayName="Обычный"/>
  <languageCode code="ru-RU"/>
  <setId root="1.2.643.5.1.13.13.12.2.77.1.100.1.1.50" extension="106-1"/>
  <versionNumber value="1"/>
  <recordTarget>
    <patientRole>
      <id root="1.2.643.5.1.13.13.12.2.77.1.100.1.1.10" extension="P1"/>
      <id root="1.2.643.100.3" extension="11223344595"/>
      <identity:IdentityDoc nullFlavor="NI"/>
      <identity:InsurancePolicy>
        <identity:InsurancePolicyType code="3" codeSystem="1.2.643.5.1.13.13.11.1035" codeSystemName="Виды полиса"
          codeSystemVersion="1.3" displayName="Полис ОМС единого образца"/>
        <identity:Series>-</identity:Series>
        <identity:Number>7700000000000000</identity:Number>
      </identity:InsurancePolicy>
      <addr nullFlavor="NI"/>
      <patient>
        <name><family>Иванова</family><given>Мария</given></name>
        <administrativeGenderCode code="2" codeSystem="1.2.643.5.1.13.13.11.1040" codeSystemName="Пол пациента"
          codeSystemVersion="2.1" displayName="Женский"/>
        <birthTime value="19900101"/>
      </patient>
      <providerOrganization>
        <id root="1.2.643.5.1.13.13.12.2.77.1"/>
        <identity:Props nullFlavor="NI"/>
        <name>Клиника</name>
      </providerOrganization>
    </patientRole>
  </recordTarget>
  <author>
    <time nullFlavor="NI"/>
    <assignedAuthor>
      <id root="1.2.643.5.1.13.13.12.2.77.1.100.1.1.70" extension="D1"/>
      <id root="1.2.643.100.3" extension="11223344595"/>
      <code code="1" codeSystem="1.2.643.5.1.13.13.11.1002" codeSystemName="Должности" codeSystemVersion="9.6"
        displayName="Врач"/>
      <assignedPerson><name><family>Петров</family><given>Пётр</given></name></assignedPerson>
    </assignedAuthor>
  </author>
  <custodian>
    <assignedCustodian>
      <representedCustodianOrganization classCode="ORG">
        <id root="1.2.643.5.1.13.13.12.2.77.1"/>
        <name>Клиника</name>
        <addr>
          <streetAddressLine>Москва</streetAddressLine>
          <address:stateCode code="77" codeSystem="1.2.643.5.1.13.13.99.2.206" codeSystemName="Субъекты"
            codeSystemVersion="6.5" displayName="Москва"/>
          <postalCode>101000</postalCode>
          <fias:Address nullFlavor="NI"/>
        </addr>
      </representedCustodianOrganization>
    </assignedCustodian>
  </custodian>
  <informationRecipient>
    <intendedRecipient>
      <receivedOrganization>
        <id root="1.2.643.5.1.13"/>
        <name>Министерство здравоохранения Российской Федерации</name>
      </receivedOrganization>
    </intendedRecipient>
  </informationRecipient>
  <legalAuthenticator>
    <time nullFlavor="NI"/>
    <signatureCode nullFlavor="NI"/>
    <assignedEntity>
      <id root="1.2.643.5.1.13.13.12.2.77.1.100.1.1.70" extension="D1"/>
      <id root="1.2.643.100.3" extension="11223344595"/>
      <code code="1" codeSystem="1.2.643.5.1.13.13.11.1002" codeSystemName="Должности" codeSystemVersion="9.6"
        displayName="Врач"/>
      <assignedPerson><name><family>Петров</family><given>Пётр</given></name></assignedPerson>
    </assignedEntity>
  </legalAuthenticator>
  <participant typeCode="IND">
    <associatedEntity classCode="GUAR">
      <code code="1" codeSystem="1.2.643.5.1.13.13.11.1039" codeSystemName="Источники оплаты"
        codeSystemVersion="5.1" displayName="ОМС"/>
      <identity:DocInfo>
        <identity:IdentityDocType code="1" codeSystem="1.2.643.5.1.13.13.99.2.724" codeSystemName="Документы"
          codeSystemVersion="1.1" displayName="Полис ОМС"/>
        <identity:InsurancePolicyType code="3" codeSystem="1.2.643.5.1.13.13.11.1035" codeSystemName="Виды полиса"
          codeSystemVersion="1.3" displayName="Полис ОМС единого образца"/>
        <identity:Series nullFlavor="NA"/>
        <identity:Number>7700000000000000</identity:Number>
        <identity:INN>7700000000</identity:INN>
        <identity:effectiveTime>
          <identity:low value="20200101"/>
          <identity:high value="20301231"/>
        </identity:effectiveTime>
      </identity:DocInfo>
    </associatedEntity>
  </participant>
  <component>
    <structuredBody>
      <component>
        <section>
          <code code="DOCINFO" codeSystem="1.2.643.5.1.13.13.99.2.197" codeSystemName="Секции"
            codeSystemVersion="4.29" displayName="Сведения о документе"/>
          <title>Сведения о документе</title>
          <text>Беременность</text>
          <entry>
            <observation classCode="OBS" moodCode="EVN">
              <code code="7000" codeSystem="1.2.643.5.1.13.13.99.2.166" codeSystemName="Кодируемые поля"
                codeSystemVersion="5.41" displayName="Срок"/>
              <value xsi:type="ST">12 недель</value>
            </observation>
          </entry>
          <entry>
            <observation classCode="OBS" moodCode="EVN">
              <code code="837" codeSystem="1.2.643.5.1.13.13.99.2.166" codeSystemName="Кодируемые поля"
                codeSystemVersion="5.41" displayName="Дата"/>
              <value xsi:type="CD" code="30" codeSystem="1.2.643.5.1.13.13.99.2.725" codeSystemName="Виды справок"
                codeSystemVersion="1.1" displayName="Справка"/>
            </observation>
          </entry>
          <entry>
            <act classCode="ACT" moodCode="EVN">
              <code code="8005" codeSystem="1.2.643.5.1.13.13.99.2.166" codeSystemName="Кодируемые поля"
                codeSystemVersion="5.41" displayName="Постановка на учёт"/>
              <effectiveTime value="20240115"/>
            </act>
          </entry>
        </section>
      </component>
    </structuredBody>
  </component>
</ClinicalDocument>
""".encode()

XSD_LAYERS = frozenset({"xml", "xsd"})


def _xsd_report(packs: Path, content: bytes, kind: str):
    report = Validator(ValidationSettings(layers=XSD_LAYERS, packs_dir=packs), CACHES).validate(content, kind=kind)
    layer = report.layer("xsd")
    assert layer is not None
    return layer


#: this module's prepared packs (a server keeps them in its Validator's caches)
CACHES = ValidationCaches()


@pytest.fixture(scope="module")
def published(published_packs_dir: Path) -> dict[str, PackSchema]:
    """Every published pack's XSD, loaded once into this module's caches (as the server's warm-up does)."""
    packs = list_packs(published_packs_dir)
    assert len(packs) == 95
    return {p.kind: CACHES.pack_schema(p.xsd) for p in packs if p.xsd is not None}


# -- kind 106: the XSD libxml2 refuses --------------------------------------------------------------
def test_kind_106_xsd_is_loaded_normalised_and_says_so(published: dict[str, PackSchema]) -> None:
    schema = published["106"]
    assert schema.engine == "lxml" and schema.lxml is not None
    assert "PQR" in schema.refused and "not determinist" in schema.refused
    assert "zero-occurrence" not in schema.refused and "minOccurs=maxOccurs=0" in schema.normalised
    with pytest.raises(etree.XMLSchemaParseError, match="PQR"):
        compile_lxml(schema.path)  # as published: still refused, the rewrite is what makes it load


def test_kind_106_valid_document_passes(published_packs_dir: Path) -> None:
    layer = _xsd_report(published_packs_dir, KIND_106, "106")
    assert layer.ran and layer.passed, [f.message for f in layer.findings]
    assert layer.details["pack"].endswith("106/CDA.xsd")
    assert layer.details["engine"] == "lxml"
    assert "PQR" in layer.details["libxml2_refused"] and layer.details["normalised"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (b"<title>", b'<languageCode code="ru-RU"/><title>', "languageCode"),  # element out of place
        (b'code="343"', b'code="5"', "343"),  # fixed value of ClinicalDocument/code
        (b'<birthTime value="19900101"/>', b'<birthTime value="01.01.1990"/>', "01.01.1990"),  # ts pattern
    ],
)
def test_kind_106_xsd_invalid_document_fails(
    published_packs_dir: Path, old: bytes, new: bytes, expected: str
) -> None:
    assert old in KIND_106
    broken = KIND_106.replace(old, new, 1)
    layer = _xsd_report(published_packs_dir, broken, "106")
    assert layer.ran and not layer.passed
    assert layer.findings and all(f.code == "VALIDATION_ERROR" for f in layer.findings)
    assert all(f.message.startswith("Ошибка валидации СЭМД: ") for f in layer.findings)
    assert any(expected in f.message for f in layer.findings), [f.message for f in layer.findings]
    assert layer.details["messages"] == "lxml"  # xmlschema is not asked about a pack libxml2 refused


def test_zero_occurrence_rewrite_changes_no_verdict(
    published: dict[str, PackSchema], examples_dir: Path
) -> None:
    """On every pack libxml2 loads as published and that has zero-occurrence particles, the schema
    without them gives the same verdict and the same errors on the same documents."""
    documents = [KIND_106] + [
        (examples_dir / name).read_bytes()
        for name in ("consultation-119-valid.xml", "consultation-119-invalid-xsd.xml")
    ]
    roots = [etree.fromstring(d) for d in documents]
    compared = 0
    for kind, schema in sorted(published.items()):
        if schema.refused:
            continue
        normalised, removed = compile_lxml(schema.path, normalise=True)
        if not removed:
            continue
        for root in roots:
            as_published = schema.lxml.validate(root)
            errors_published = [(e.line, e.message) for e in schema.lxml.error_log]
            assert normalised.validate(root) == as_published, kind
            assert [(e.line, e.message) for e in normalised.error_log] == errors_published, kind
        compared += 1
    assert compared >= 10
    _, none_removed = drop_zero_occurrence_particles(
        b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>'
    )
    assert none_removed == 0


def test_xmlschema_runs_where_libxml2_and_the_rewrite_cannot(tmp_path: Path) -> None:
    # a content model libxml2 refuses for a reason the rewrite does not touch (a?, a)
    pack = tmp_path / "901"  # a pack folder is named by its kind (NSI 1520 id)
    pack.mkdir()
    (pack / "CDA.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:hl7-org:v3"'
        ' xmlns="urn:hl7-org:v3" elementFormDefault="qualified">'
        '<xs:complexType name="T"><xs:sequence><xs:element name="a" minOccurs="0"/><xs:element name="a"/>'
        '</xs:sequence></xs:complexType><xs:element name="ClinicalDocument" type="T"/></xs:schema>'
    )
    packs = tmp_path
    schema = load_schema(pack / "CDA.xsd")
    assert schema.engine == "xmlschema" and schema.lxml is None and "determinist" in schema.refused
    good = _xsd_report(
        packs, b'<ClinicalDocument xmlns="urn:hl7-org:v3"><a/><a/></ClinicalDocument>', "901"
    )
    assert good.ran and good.passed and good.details["engine"] == "xmlschema"
    bad = _xsd_report(
        packs, b'<ClinicalDocument xmlns="urn:hl7-org:v3"><b/></ClinicalDocument>', "901"
    )
    assert bad.ran and not bad.passed and bad.details["engine"] == "xmlschema"
    assert all(
        f.code == "VALIDATION_ERROR" and f.message.startswith("Ошибка валидации СЭМД: ") for f in bad.findings
    )


def test_a_pack_no_validator_can_load_is_a_server_fault(tmp_path: Path) -> None:
    (tmp_path / "902").mkdir()
    (tmp_path / "902" / "CDA.xsd").write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element')
    validator = Validator(ValidationSettings(layers=XSD_LAYERS, packs_dir=tmp_path))
    layer = validator.validate(b'<ClinicalDocument xmlns="urn:hl7-org:v3"/>', kind="902").layer("xsd")
    assert layer is not None and not layer.ran and not layer.findings  # not a defect of the document
    assert layer.details["incident"] in layer.reason
    assert "не загружается" in validator.server_faults["xsd"]  # what /ready shows
    assert "Error" not in layer.reason and str(tmp_path) not in validator.server_faults["xsd"]


# -- the whole published set ------------------------------------------------------------------------
def test_every_published_xsd_loads(published: dict[str, PackSchema]) -> None:
    assert len(published) == 95
    assert {k for k, s in published.items() if s.refused} == {"106"}
    assert all(s.engine == "lxml" and s.lxml is not None for s in published.values())
    assert all(CACHES.pack_schema(s.path) is s for s in published.values())  # once per owner


def test_every_published_pack_gives_an_xsd_verdict(
    published: dict[str, PackSchema], published_packs_dir: Path, valid_119_bytes: bytes
) -> None:
    """The valid kind-119 example against each of the 95 packs (every edition, variants included) and
    through the layer for each of their kinds: pass or VALIDATION_ERROR findings, never an internal
    error or a layer that did not run."""
    root = etree.fromstring(valid_119_bytes)
    verdicts = {}
    for folder, schema in published.items():
        verdicts[folder] = schema.lxml.validate(root)
    assert verdicts["119"] is True and verdicts["106"] is False and len(verdicts) == 95
    settings = ValidationSettings(
        layers=XSD_LAYERS, packs_dir=published_packs_dir, options={"xsd_full_messages": False}
    )
    layer = XsdLayer(settings)
    kinds = sorted({folder.split("_")[0] for folder in published})
    for kind in kinds:
        ctx = DocumentContext(content=valid_119_bytes, settings=settings, requested_kind=kind, root=root,
                              caches=CACHES)
        report = layer.run(ctx)
        assert report.ran, (kind, report.reason)
        assert report.passed == (not report.findings)
        assert all(f.code == "VALIDATION_ERROR" for f in report.findings), kind
        if "_" not in report.details["pack"].rsplit("/", 2)[-2]:
            assert report.passed == verdicts[kind], kind
    assert len(kinds) == 93


def test_every_published_schematron_compiles(published_packs_dir: Path) -> None:
    """Our Schematron→XSLT compiler on all 95 ``.sch`` (disk-cached by content hash after the first run)."""
    packs = list_packs(published_packs_dir)
    assert sum(1 for p in packs if p.schematron is not None) == 95
    for pack in packs:
        validator = get_validator(pack.schematron, "optimised", default_cache_dir())
        assert validator.compiled.rule_count > 0, pack.kind


def _saxon_sample(kinds: list[str], size: int = 4) -> list[str]:
    """A few kinds, a different few each day, so the default run stays short and all are seen over time."""
    start = (dt.date.today().toordinal() * size) % len(kinds)
    return [kinds[(start + i) % len(kinds)] for i in range(size)]


def _run_schematrons(packs_dir: Path, kinds: list[str], document: bytes) -> None:
    by_kind = {p.kind: p for p in list_packs(packs_dir)}
    for kind in kinds:
        validator = get_validator(by_kind[kind].schematron, "optimised", default_cache_dir())
        result = validator.validate(document)
        assert all(f.code == "VALIDATION_ERROR" for f in result.findings), kind


def test_sample_of_published_schematrons_runs(published_packs_dir: Path, valid_119_bytes: bytes) -> None:
    kinds = sorted(p.kind for p in list_packs(published_packs_dir))
    _run_schematrons(published_packs_dir, sorted({"119", "106", *_saxon_sample(kinds)}), valid_119_bytes)


@pytest.mark.slow  # all 95 Saxon compilations take minutes: --run-slow / make soak
def test_every_published_schematron_runs(published_packs_dir: Path, valid_119_bytes: bytes) -> None:
    kinds = sorted(p.kind for p in list_packs(published_packs_dir))
    _run_schematrons(published_packs_dir, kinds, valid_119_bytes)
