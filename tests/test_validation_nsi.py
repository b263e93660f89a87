"""The nsi layer and the FNSI importer, on the exports in ../shared/data/nsi and mutated copies of the 119 example."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mock_remd.validation.context import ValidationSettings
from mock_remd.validation.nsi import load_dir, load_kinds_from_nsi_dir
from mock_remd.validation.nsi.exports import ExportError, detect_columns, parse_meta, read_export
from mock_remd.validation.nsi.overrides import OVERRIDES
from mock_remd.validation.nsi.store import import_file
from mock_remd.validation.pipeline import Validator
from mock_remd.validation.report import LayerReport

GENDER = "1.2.643.5.1.13.13.11.1040"
GENDER_PATH = "/ClinicalDocument[1]/recordTarget[1]/patientRole[1]/patient[1]/administrativeGenderCode[1]"
GENDER_EL = (
    '<administrativeGenderCode code="2" codeSystem="1.2.643.5.1.13.13.11.1040" codeSystemVersion="2.1" '
    'codeSystemName="Пол пациента" displayName="Женский"/>'
)
#: the example's versions of these two differ from the shared exports (4.45 vs 7.24, 1.34 vs 5.41)
LAGGING = ("1.2.643.5.1.13.13.11.1522", "1.2.643.5.1.13.13.99.2.166")


@pytest.fixture(scope="module")
def store(tmp_path_factory, nsi_export_dir: Path) -> Path:
    """Every shared export imported into a fresh NSI directory."""
    target = tmp_path_factory.mktemp("nsi-all")
    for path in sorted(nsi_export_dir.glob("*.tsv")):
        import_file(path, target)
    return target


@pytest.fixture(scope="module")
def matching_store(tmp_path_factory, nsi_export_dir: Path) -> Path:
    """The imports whose versions the 119 example uses (the two lagging dictionaries left out)."""
    target = tmp_path_factory.mktemp("nsi-matching")
    for path in sorted(nsi_export_dir.glob("*.tsv")):
        if not path.name.startswith(LAGGING):
            import_file(path, target)
    return target


def nsi_report(content: bytes, nsi_dir: Path | None, **options) -> LayerReport:
    settings = ValidationSettings(layers=frozenset({"xml", "nsi"}), nsi_dir=nsi_dir, options={"nsi": options})
    report = Validator(settings).validate(content)
    layer = report.layer("nsi")
    assert layer is not None
    return layer


def mutate(original: bytes, old: str, new: str) -> bytes:
    text = original.decode("utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in the example"
    return text.replace(old, new).encode("utf-8")


# ---- importer ------------------------------------------------------------------------------------


def test_import_every_shared_export(nsi_export_dir: Path, tmp_path: Path) -> None:
    files = sorted(nsi_export_dir.glob("*.tsv"))
    assert len(files) >= 20
    for path in files:
        oid, version = path.stem.split("_v")
        meta = parse_meta(path.read_text(encoding="utf-8").splitlines()[0])
        result = import_file(path, tmp_path)
        d = result.dictionary
        assert (d.oid, d.version) == (oid, version)
        assert d.full_name == meta["fullName"] and d.full_name
        assert len(d.entries) == int(meta["rows"]), path.name
        assert (d.code_column, d.name_column) == (OVERRIDES[oid]["code"], OVERRIDES[oid]["name"])
        assert all(name for name in d.entries.values()), f"{path.name}: empty names"
        stored = json.loads(result.target.read_text(encoding="utf-8"))
        assert stored["oid"] == oid and stored["version"] == version and stored["entries"] == d.entries
    loaded = load_dir(tmp_path)
    assert not loaded.errors
    assert len(loaded.all()) == len(files)
    assert loaded.get(GENDER, "2.1").name_of("2") == "Женский"
    assert loaded.get("1.2.643.5.1.13.13.99.2.285", "1.2").name_of("N") == "Обычный"
    assert loaded.get("1.2.643.5.1.13.13.99.2.206", "6.5").name_of("50") == "Московская область"


def test_column_detection_agrees_with_override_table(nsi_export_dir: Path) -> None:
    for path in sorted(nsi_export_dir.glob("*.tsv")):
        d = read_export(path).dictionary  # no override table
        oid = d.oid
        assert (d.code_column, d.name_column) == (OVERRIDES[oid]["code"], OVERRIDES[oid]["name"]), path.name


def test_detect_columns_prefers_code_and_a_textual_name() -> None:
    assert detect_columns(["ID", "CODE", "NAME"], [["1", "N", "Обычный"]]) == ("CODE", "NAME")
    assert detect_columns(["ID", "PARENT_ID", "Type"], [["1", "", "Консультация"]]) == ("ID", "Type")


def test_parse_meta_keeps_values_with_spaces() -> None:
    meta = parse_meta("# SOURCE: x (cached). fullName=Пол пациента version=2.1 rows=3 publishDate=18.12.2016 00:00")
    assert meta == {"fullName": "Пол пациента", "version": "2.1", "rows": "3", "publishDate": "18.12.2016 00:00"}


def test_csv_export_in_cp1251_with_explicit_oid(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("ID;NAME\n1;Мужской\n2;Женский\n2;Дубль\n".encode("cp1251"))
    result = import_file(path, tmp_path / "nsi", oid=GENDER, version="9.9")
    assert result.dictionary.entries == {"1": "Мужской", "2": "Женский"}
    assert result.parsed.duplicates == ["2"]
    assert (tmp_path / "nsi" / f"{GENDER}_v9.9.json").is_file()


def test_export_without_oid_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "export.tsv"
    path.write_text("ID\tNAME\n1\tx\n", encoding="utf-8")
    with pytest.raises(ExportError, match="OID"):
        import_file(path, tmp_path / "nsi")


def test_export_without_codes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / f"{GENDER}_v2.1.tsv"
    path.write_text("ID\tNAME\n", encoding="utf-8")
    with pytest.raises(ExportError, match="нет кодов"):
        import_file(path, tmp_path / "nsi")


def test_unknown_override_column_is_refused(nsi_export_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="NOPE"):
        import_file(nsi_export_dir / f"{GENDER}_v2.1.tsv", tmp_path, name_column="NOPE")


def test_kinds_from_imported_1520(store: Path) -> None:
    kinds = {k.id: k for k in load_kinds_from_nsi_dir(store)}
    assert len(kinds) == 181
    assert "Протокол консультации" in kinds["119"].name


def test_kinds_from_raw_export_dir(nsi_export_dir: Path, tmp_path: Path) -> None:
    assert load_kinds_from_nsi_dir(tmp_path) == []
    assert len(load_kinds_from_nsi_dir(nsi_export_dir)) == 288  # the newest export there: v12.85 (CSV)


# ---- the layer -----------------------------------------------------------------------------------


def test_layer_does_not_run_without_dictionaries(valid_119_bytes: bytes, tmp_path: Path) -> None:
    no_dir = nsi_report(valid_119_bytes, None)
    assert (no_dir.ran, no_dir.passed, no_dir.findings) == (False, True, [])
    assert "MOCK_REMD_NSI_DIR" in no_dir.reason
    empty = nsi_report(valid_119_bytes, tmp_path)
    assert not empty.ran and "nsi import" in empty.reason
    missing = nsi_report(valid_119_bytes, tmp_path / "absent")
    assert not missing.ran and "нет каталога" in missing.reason


def test_valid_example_passes_when_versions_match(valid_119_bytes: bytes, matching_store: Path) -> None:
    layer = nsi_report(valid_119_bytes, matching_store)
    assert layer.ran and layer.passed and layer.findings == []
    assert layer.details["checked"][GENDER] == {"2.1": 1}
    assert layer.details["coded_elements"] == 42
    # lenient by default: NSI dictionaries that are not loaded are skipped, and said so
    assert layer.details["skipped"]["1.2.643.5.1.13.13.11.1005"] == "справочник НСИ не загружен"
    assert LAGGING[0] in layer.details["skipped"]


def test_lagging_versions_are_invalid_dictionary_version(valid_119_bytes: bytes, store: Path) -> None:
    layer = nsi_report(valid_119_bytes, store)
    assert not layer.passed
    assert [f.code for f in layer.findings] == ["INVALID_DICTIONARY_VERSION"] * 2
    first = layer.findings[0]
    assert first.message == (
        "Справочник OID [1.2.643.5.1.13.13.11.1522]. Версия [4.45] недопустима для документа вида [119]. Требуется: [7.24]"
    )
    assert (first.path, first.line) == ("/ClinicalDocument[1]/code[1]", 8)


def test_unknown_version_latest_checks_against_newest(valid_119_bytes: bytes, store: Path) -> None:
    layer = nsi_report(valid_119_bytes, store, unknown_version="latest")
    assert layer.passed and layer.findings == []
    assert layer.details["version_fallbacks"][LAGGING[0]] == {"4.45": "7.24"}


def test_unknown_code(valid_119_bytes: bytes, matching_store: Path) -> None:
    bad = mutate(valid_119_bytes, GENDER_EL, GENDER_EL.replace('code="2"', 'code="7"'))
    layer = nsi_report(bad, matching_store)
    assert [f.code for f in layer.findings] == ["INVALID_ELEMENT_VALUE_CODE"]
    f = layer.findings[0]
    assert f.message == f"Справочник OID [{GENDER}], версия [2.1]. Элемент с кодом [7] отсутствует"
    assert (f.path, f.line, f.layer, f.rule) == (GENDER_PATH, 48, "nsi", "nsi-code")


def test_wrong_display_name(valid_119_bytes: bytes, matching_store: Path) -> None:
    bad = mutate(valid_119_bytes, GENDER_EL, GENDER_EL.replace('displayName="Женский"', 'displayName="Женская"'))
    layer = nsi_report(bad, matching_store)
    assert [f.code for f in layer.findings] == ["INVALID_ELEMENT_VALUE_NAME"]
    assert layer.findings[0].message == (
        f"Справочник OID [{GENDER}], версия [2.1]. Наименование [Женская] не соответствует наименованию в НСИ [Женский]"
    )
    assert layer.findings[0].path == GENDER_PATH
    skipped = nsi_report(bad, matching_store, overrides={GENDER: {"skip_display_name": True}})
    assert skipped.passed and skipped.findings == []


def test_display_name_compared_with_whitespace_collapsed(valid_119_bytes: bytes, matching_store: Path) -> None:
    spaced = mutate(valid_119_bytes, GENDER_EL, GENDER_EL.replace('displayName="Женский"', 'displayName=" Женский "'))
    assert nsi_report(spaced, matching_store).findings == []


def test_unknown_version_names_oid_version_and_kind(valid_119_bytes: bytes, matching_store: Path) -> None:
    bad = mutate(valid_119_bytes, GENDER_EL, GENDER_EL.replace('codeSystemVersion="2.1"', 'codeSystemVersion="2.0"'))
    layer = nsi_report(bad, matching_store)
    assert [f.code for f in layer.findings] == ["INVALID_DICTIONARY_VERSION"]
    assert layer.findings[0].message == (
        f"Справочник OID [{GENDER}]. Версия [2.0] недопустима для документа вида [119]. Требуется: [2.1]"
    )


def test_any_imported_version_is_allowed(valid_119_bytes: bytes, matching_store: Path, nsi_export_dir: Path, tmp_path: Path) -> None:
    nsi_dir = tmp_path / "nsi"
    shutil.copytree(matching_store, nsi_dir)
    import_file(nsi_export_dir / f"{GENDER}_v2.1.tsv", nsi_dir, version="2.0")
    bad = mutate(valid_119_bytes, GENDER_EL, GENDER_EL.replace('codeSystemVersion="2.1"', 'codeSystemVersion="2.0"'))
    layer = nsi_report(bad, nsi_dir)
    assert layer.passed, layer.findings
    assert layer.details["checked"][GENDER] == {"2.0": 1}


def test_unloaded_dictionary_oid_only_in_strict_mode(valid_119_bytes: bytes, matching_store: Path) -> None:
    bad = mutate(valid_119_bytes, GENDER_EL, GENDER_EL.replace(f'codeSystem="{GENDER}"', 'codeSystem="1.2.643.5.1.13.13.11.104099"'))
    lenient = nsi_report(bad, matching_store)
    assert lenient.passed and lenient.findings == []
    assert lenient.details["skipped"]["1.2.643.5.1.13.13.11.104099"] == "справочник НСИ не загружен"
    strict = nsi_report(bad, matching_store, strict_unknown=True)
    assert {f.code for f in strict.findings} == {"INVALID_DICTIONARY_OID"}
    # one finding per unloaded OID (1005, 1006 … and the mutated one), never for non-NSI OIDs
    assert len(strict.findings) == len({f.message for f in strict.findings})
    [f] = [f for f in strict.findings if "104099" in f.message]
    assert f.message == "Справочник OID [1.2.643.5.1.13.13.11.104099]. Справочник с указанным кодом отсутствует"
    assert f.path == GENDER_PATH


def test_wrong_code_system_name(valid_119_bytes: bytes, matching_store: Path) -> None:
    bad = mutate(valid_119_bytes, GENDER_EL, GENDER_EL.replace('codeSystemName="Пол пациента"', 'codeSystemName="Пол"'))
    layer = nsi_report(bad, matching_store)
    assert [(f.code, f.rule) for f in layer.findings] == [("VALIDATION_ERROR", "nsi-code-system-name")]
    assert "[Пол]" in layer.findings[0].message and "[Пол пациента]" in layer.findings[0].message


def test_extension_namespace_element_is_checked(valid_119_bytes: bytes, matching_store: Path) -> None:
    old = '<address:Type xsi:type="CD" code="3"'
    bad = mutate(valid_119_bytes, old, old.replace('code="3"', 'code="9"'))
    layer = nsi_report(bad, matching_store)
    assert [f.code for f in layer.findings] == ["INVALID_ELEMENT_VALUE_CODE"]
    assert layer.findings[0].path.endswith("/addr[1]/address:Type[1]")
    assert layer.findings[0].line == 32


def test_skip_override_ignores_a_dictionary(valid_119_bytes: bytes, matching_store: Path) -> None:
    bad = mutate(valid_119_bytes, GENDER_EL, GENDER_EL.replace('code="2"', 'code="7"'))
    layer = nsi_report(bad, matching_store, overrides={GENDER: {"skip": True}})
    assert layer.passed and GENDER in layer.details["skipped"]


def test_raw_exports_directory_is_usable_as_is(valid_119_bytes: bytes, nsi_export_dir: Path) -> None:
    bad = mutate(valid_119_bytes, GENDER_EL, GENDER_EL.replace('code="2"', 'code="7"'))
    layer = nsi_report(bad, nsi_export_dir)
    assert layer.ran
    assert "INVALID_ELEMENT_VALUE_CODE" in [f.code for f in layer.findings]


def test_sorted_versions_follow_added_dictionaries() -> None:
    """Versions are sorted once per OID and re-sorted when a version is added."""
    from mock_remd.validation.nsi.model import Dictionary
    from mock_remd.validation.nsi.store import DictionarySet

    ds = DictionarySet()
    for v in ("1.10", "1.2"):
        ds.add(Dictionary("1.2.3", v))
    assert ds.versions("1.2.3") == ["1.2", "1.10"] and ds.loaded_labels() == ["1.2.3 v1.2", "1.2.3 v1.10"]
    ds.versions("1.2.3").append("junk")  # a caller's list is its own
    ds.add(Dictionary("1.2.3", "1.9"))
    assert ds.versions("1.2.3") == ["1.2", "1.9", "1.10"] and ds.latest("1.2.3").version == "1.10"
    assert ds.loaded_labels()[1] == "1.2.3 v1.9" and ds.versions("9.9") == []
