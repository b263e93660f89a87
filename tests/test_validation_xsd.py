"""Layer ``xsd``: official packs loaded with lxml (backslash locations), Xerces-style messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_remd.validation.caches import ValidationCaches
from mock_remd.validation.context import DocumentContext, ValidationSettings
from mock_remd.validation.packs import find_pack, find_root_xsd, list_packs, load_schema, normalise_location
from mock_remd.validation.pipeline import Validator

XSD_ONLY = frozenset({"xml", "kind", "xsd"})


@pytest.fixture(scope="session")
def xsd_validator(packs_dir: Path) -> Validator:
    return Validator(ValidationSettings(layers=XSD_ONLY, packs_dir=packs_dir))


def _xsd(validator: Validator, content: bytes, kind: str = "119"):
    layer = validator.validate(content, kind=kind).layer("xsd")
    assert layer is not None
    return layer


def test_valid_example_passes_xsd(xsd_validator: Validator, valid_119_bytes: bytes) -> None:
    layer = _xsd(xsd_validator, valid_119_bytes)
    assert layer.ran and layer.passed, layer.findings
    assert layer.details["pack"].endswith("119/CDA.xsd")


def test_invalid_xsd_example_has_its_three_errors(xsd_validator: Validator, examples_dir: Path) -> None:
    layer = _xsd(xsd_validator, (examples_dir / "consultation-119-invalid-xsd.xml").read_bytes())
    assert layer.ran and not layer.passed
    got = [(f.rule, f.line) for f in layer.findings]
    assert got == [("cvc-complex-type.2.4.a", 8), ("cvc-pattern-valid", 49), ("cvc-attribute.3", 49)]
    assert all(
        f.code == "VALIDATION_ERROR" and f.message.startswith("Ошибка валидации СЭМД: cvc-")
        for f in layer.findings
    )
    first = layer.findings[0]
    assert "Invalid content was found starting with element 'title'" in first.message
    assert "(строка 8)" in first.message and first.path == "/ClinicalDocument[1]/title[1]"
    assert "'12.04.1979'" in layer.findings[1].message
    assert "attribute 'value' on element 'birthTime'" in layer.findings[2].message
    assert layer.findings[2].path.endswith("/patient[1]/birthTime[1]")


def test_libxml2_messages_when_full_messages_are_off(packs_dir: Path, examples_dir: Path) -> None:
    settings = ValidationSettings(layers=XSD_ONLY, packs_dir=packs_dir, options={"xsd_full_messages": False})
    layer = _xsd(Validator(settings), (examples_dir / "consultation-119-invalid-xsd.xml").read_bytes())
    assert layer.details["engine"] == "lxml"
    assert [f.rule for f in layer.findings] == ["cvc-complex-type.2.4.a"]
    assert "'title'" in layer.findings[0].message and layer.findings[0].line == 8


def test_schematron_broken_example_is_xsd_valid(xsd_validator: Validator, examples_dir: Path) -> None:
    layer = _xsd(xsd_validator, (examples_dir / "consultation-119-invalid-schematron.xml").read_bytes())
    assert layer.ran and layer.passed, layer.findings


def test_skipped_without_packs_or_pack(valid_119_bytes: bytes, packs_dir: Path) -> None:
    no_packs = (
        Validator(ValidationSettings(layers=XSD_ONLY)).validate(valid_119_bytes, kind="119").layer("xsd")
    )
    assert no_packs is not None and not no_packs.ran and "MOCK_REMD_PACKS_DIR" in no_packs.reason
    layer = Validator(ValidationSettings(layers=frozenset({"xml", "xsd"}), packs_dir=packs_dir))
    other = layer.validate(valid_119_bytes, kind="999").layer("xsd")
    assert other is not None and not other.ran and "999" in other.reason


def test_every_official_pack_loads(packs_dir: Path) -> None:
    packs = list_packs(packs_dir)
    assert {p.kind for p in packs} >= {"119", "174", "186", "204"}
    caches = ValidationCaches()
    for pack in packs:
        assert pack.xsd is not None and pack.xsd.name == "CDA.xsd"
        assert caches.pack_schema(pack.xsd) is caches.pack_schema(pack.xsd)  # loaded once per owner
    assert ValidationCaches().pack_schema(pack.xsd) is not caches.pack_schema(pack.xsd)  # owners keep their own


def test_a_pack_named_through_a_symlink_is_the_same_prepared_schema(packs_dir: Path, tmp_path: Path) -> None:
    pack = find_pack(packs_dir, "119")
    assert pack is not None and pack.xsd is not None
    link = tmp_path / "packs"
    link.symlink_to(pack.xsd.parent.parent)
    via_link = link / pack.xsd.parent.name / pack.xsd.name
    caches = ValidationCaches()
    assert caches.resolved(via_link) == pack.xsd.resolve() and caches.resolved(via_link) is caches.resolved(via_link)
    assert caches.pack_schema(via_link) is caches.pack_schema(pack.xsd)  # loaded once, whichever name


def test_a_document_context_needs_its_validators_caches(valid_119_bytes: bytes) -> None:
    # no silent per-document caches: a context made without them would reload the XSD every time
    with pytest.raises(TypeError, match="caches"):
        DocumentContext(content=valid_119_bytes, settings=ValidationSettings())  # type: ignore[call-arg]


def test_pack_lookup_refuses_path_like_kinds(packs_dir: Path) -> None:
    assert find_pack(packs_dir, "../packs") is None
    assert find_pack(packs_dir, "") is None
    assert find_pack(None, "119") is None


def test_backslash_schema_locations_are_resolved(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "types.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t" xmlns="urn:t">'
        '<xs:simpleType name="code"><xs:restriction base="xs:string"><xs:pattern value="[0-9]+"/></xs:restriction>'
        "</xs:simpleType></xs:schema>"
    )
    (tmp_path / "Root.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t" xmlns="urn:t">'
        '<xs:include schemaLocation="sub\\types.xsd"/>'
        '<xs:element name="ClinicalDocument" type="code"/></xs:schema>'
    )
    assert find_root_xsd(tmp_path) == tmp_path / "Root.xsd"
    from lxml import etree

    schema = load_schema(tmp_path / "Root.xsd").lxml
    assert schema.validate(etree.fromstring(b'<ClinicalDocument xmlns="urn:t">42</ClinicalDocument>'))
    assert not schema.validate(etree.fromstring(b'<ClinicalDocument xmlns="urn:t">x</ClinicalDocument>'))
    assert normalise_location("coreschemas\\datatypes.xsd") == "coreschemas/datatypes.xsd"
    assert normalise_location("file:///p/coreschemas%5Cvoc.xsd") == "file:///p/coreschemas/voc.xsd"
