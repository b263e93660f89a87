"""The kind registry (NSI 1520 seed + importer) and the error classifier."""

from __future__ import annotations

import datetime as dt

from mock_remd.catalog import errors as E
from mock_remd.catalog.kinds import KindRegistry, default_registry, import_nsi_1520


def test_seed_has_common_kinds_with_their_flags():
    reg = default_registry()
    k119 = reg.get("119")
    assert k119.type_1522 == "5" and k119.edition == "4" and k119.is_cda and k119.mo_sign
    assert k119.requires_patient_snils and not k119.series_required
    assert reg.get("125").series_required and not reg.get("125").requires_patient
    assert not reg.get("6").is_cda  # PDF/A-1 consultation
    assert reg.by_template("1.2.643.5.1.13.2.7.5.1.5.9.4").id == "119"
    assert reg.by_template("1.2.643.5.1.13.13.14.7.9.5").id == "186"
    assert reg.by_template("1.2.643.5.1.13.13.15.105.1").id == "204"
    assert not reg.get("13").valid_on(dt.date(2024, 1, 1)) and reg.get("13").valid_on(dt.date(2020, 1, 1))


def test_import_official_nsi_1520_export(nsi_export_dir):
    kinds = import_nsi_1520(nsi_export_dir / "1.2.643.5.1.13.13.11.1520_v12.14.tsv")
    assert len(kinds) == 181
    by_id = {k.id: k for k in kinds}
    assert by_id["186"].name.startswith("Протокол лабораторного исследования")
    assert by_id["186"].git_link == "1.2.643.5.1.13.13.15.18.5"
    assert by_id["58"].series_required and by_id["58"].patient_info == "Не обязательны"
    assert by_id["5"].format == "1" and by_id["5"].end_date == dt.date(2024, 1, 1)
    assert by_id["119"].template_ids == ("1.2.643.5.1.13.2.7.5.1.5.9.4",)  # the seed's asserted template kept
    reg = KindRegistry(kinds)
    assert len(reg) == 181 and reg.by_template("1.2.643.5.1.13.13.15.35.6").id == "125"


def test_import_refuses_other_files(tmp_path):
    bad = tmp_path / "x.tsv"
    bad.write_text("CODE\tNAME\n1\tx\n", encoding="utf-8")
    try:
        import_nsi_1520(bad)
    except ValueError as exc:
        assert "ID" in str(exc)
    else:
        raise AssertionError("accepted a file without an ID column")


def test_error_catalogue_codes_and_messages():
    assert E.is_known("RATE_LIMIT") and E.is_known("RECIPIENT_INFO_MISMATCH") and not E.is_known("NOPE")
    assert E.message("NOT_UNIQUE_PROVIDED_ID", local_uid="a", emdr_id="1.50.26.11.000000001") == (
        "Документ с идентификатором 'a' уже зарегистрирован с номером [1.50.26.11.000000001]")
    assert E.message("INVALID_ELEMENT_VALUE_CODE", oid="1.2", version="3", code="X") == (
        "Справочник OID [1.2], версия [3]. Элемент с кодом [X] отсутствует")
    assert E.message("ORDER_NOT_FOUND") == E.describe("ORDER_NOT_FOUND") != ""


def test_one_document_sees_one_catalog_and_the_next_document_sees_an_import(nsi_export_dir, tmp_path):
    """The layers of one document share one look at the followed NSI directory; an FNSI export of NSI
    1520 dropped into it between two documents is seen by the second."""
    import shutil

    from mock_remd.validation.context import DocumentContext, ValidationSettings
    from mock_remd.validation.nsi.kinds import kind_catalog
    from mock_remd.validation.pipeline import ValidationCaches

    nsi = tmp_path / "nsi"
    nsi.mkdir()
    settings = ValidationSettings(kinds=kind_catalog(nsi))
    first = DocumentContext(content=b"", settings=settings, caches=ValidationCaches())
    built_in = first.kinds().version
    assert first.kinds() is first.kinds() and first.kinds().get("119") is not None
    shutil.copy(nsi_export_dir / "1.2.643.5.1.13.13.11.1520_v12.85.csv", nsi / "1.2.643.5.1.13.13.11.1520_v99.1.csv")
    assert first.kinds().version == built_in != "99.1"
    second = DocumentContext(content=b"", settings=settings, caches=ValidationCaches())
    assert second.kinds().version == "99.1" and second.kinds().by_template("1.2.643.5.1.13.13.14.7.9.5").id == "186"
    assert "1520_v99.1.csv" in second.kinds().source and settings.kinds.version == "99.1"


def test_an_absent_nsi_directory_is_looked_for_once_a_second(nsi_export_dir, tmp_path, monkeypatch):
    """Lookups while the followed NSI directory does not exist look for it once per second (each look
    is a system call), and find it, with the import in it, after that."""
    import os
    import shutil
    import types

    from mock_remd.validation.nsi import kinds as nsi_kinds

    clock = [100.0]
    monkeypatch.setattr(nsi_kinds, "time", types.SimpleNamespace(monotonic=lambda: clock[0]))
    nsi = tmp_path / "nsi"
    looks = []
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda path, *a, **kw: (looks.append(path) if str(path) == str(nsi) else None,
                                                            real_stat(path, *a, **kw))[1])
    registry = nsi_kinds.kind_catalog(nsi)
    built_in = registry.version
    looks.clear()
    assert all(registry.get("119") is not None for _ in range(50)) and looks == []
    nsi.mkdir()
    shutil.copy(nsi_export_dir / "1.2.643.5.1.13.13.11.1520_v12.85.csv", nsi / "1.2.643.5.1.13.13.11.1520_v99.1.csv")
    clock[0] += nsi_kinds.ABSENT_RECHECK_SECONDS - 0.01
    assert registry.get("119") is not None and registry.version == built_in and looks == []
    clock[0] += 0.01
    assert registry.get("186") is not None and registry.version == "99.1" and looks
    seen = len(looks)
    assert registry.get("119") is not None and len(looks) == seen + 1  # an existing directory: looked at every time
