"""Every kind the registry accepts: the built-in catalog (NSI 1520 v12.85), its dates and format, and a
newer export imported into a running server (CONTRACT §6 /_admin/kinds, §8 nsi import)."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
import requests
from remd_requests import post

from mock_remd.catalog.kinds import BUILTIN_VERSION, KindRegistry, default_registry, import_nsi_1520
from mock_remd.cli.main import main
from mock_remd.generator import generate
from mock_remd.soap.builders import register_envelope

EXPORT_1285 = "1.2.643.5.1.13.13.11.1520_v12.85.csv"


class ReusedSigner:
    """Real TEST-PKI signatures made once and attached to every document: the signatures layer is off in
    these servers (it has its own tests); the registry still wants a signature in each request."""

    def __init__(self) -> None:
        first = generate("119", seed=1)
        self._personal = base64.b64decode(first.request.personal_signs[0].signature.data_b64)
        self._org = base64.b64decode(first.request.org_signature.data_b64) if first.request.org_signature else None

    def personal(self, content, world, doctor):  # noqa: ANN001 - the generator's Signer protocol
        return self._personal

    def organisation(self, content, world):  # noqa: ANN001
        return self._org


@pytest.fixture(scope="module")
def signer() -> ReusedSigner:
    return ReusedSigner()


def _register(srv, doc) -> requests.Response:
    return post(srv.soap_url, register_envelope(doc.request))


def open_cda_kinds(registry: KindRegistry, day: dt.date) -> list[str]:
    return [k.id for k in registry.all() if k.is_cda and k.valid_on(day)]


def test_builtin_catalog_holds_every_row_of_the_newest_export(nsi_export_dir: Path):
    exported = import_nsi_1520(nsi_export_dir / EXPORT_1285)  # the FNSI CSV as downloaded (;, quotes)
    reg = default_registry()
    assert reg.version == BUILTIN_VERSION == "12.85"
    assert len(reg) == len(exported) and {k.id for k in reg.all()} == {k.id for k in exported}
    for ours, theirs in zip(reg.all(), sorted(exported, key=lambda k: int(k.id)), strict=True):
        assert (ours.name, ours.format, ours.patient_info, ours.mo_sign, ours.series_required, ours.start_date,
                ours.end_date, ours.git_link, ours.implementation_guide) == (
            theirs.name, theirs.format, theirs.patient_info, theirs.mo_sign, theirs.series_required,
            theirs.start_date, theirs.end_date, theirs.git_link, theirs.implementation_guide)
    k290 = reg.get("290")
    assert k290.name == "Протокол консультации (CDA) Редакция 7" and k290.start_date == dt.date(2026, 1, 10)
    assert k290.generation == "C" and reg.by_template("1.2.643.5.1.13.13.15.13.7").id == "290"
    # the three templateId generations of semd.md §1.2 lead to their kinds
    assert reg.by_template("1.2.643.5.1.13.2.7.5.1.5.9.4").id == "119"  # A
    assert reg.by_template("1.2.643.5.1.13.13.14.7.9.5").id == "186"  # B
    assert reg.by_template("1.2.643.5.1.13.13.15.105.1").id == "204"  # C
    assert len(open_cda_kinds(reg, dt.date(2026, 12, 1))) >= 190


def test_every_open_cda_kind_registers_with_the_builtin_catalog(make_server, sink, signer):
    """One server, one document of each CDA kind open today: sync success, then the callback of the
    document's layers (xml, kind, header, cross run; no packs, no dictionaries)."""
    srv = make_server(validation="all", signatures="off")
    kinds = open_cda_kinds(default_registry(), dt.date.today())
    assert len(kinds) >= 190
    sent = {}
    for kind in kinds:
        doc = generate(kind, seed=3, signer=signer)
        resp = _register(srv, doc)
        assert "<ns3:status>success</ns3:status>" in resp.text, (kind, resp.text)
        sent[kind] = doc
    failed = {}
    for kind, doc in sent.items():
        result = sink.wait_for(doc.request.message_id, timeout=60)
        if result.status != "success":
            failed[kind] = result.errors
    assert not failed
    item = requests.get(f"{srv.url}/_admin/documents/{sent['290'].local_uid}").json()
    layers = {layer["name"]: layer for layer in item["layers"]}
    assert all(layers[n]["ran"] and layers[n]["passed"] for n in ("xml", "kind", "header", "cross"))
    assert not layers["xsd"]["ran"] and not layers["schematron"]["ran"]


def test_kind_outside_its_dates_and_a_pdf_kind(make_server, sink, signer):
    srv = make_server(validation="all", signatures="off")
    doc = generate("290", seed=4, signer=signer)
    doc.request.creation_date_time = "2025-05-02T10:00:00+03:00"
    resp = _register(srv, doc)
    assert "NO_DOCUMENT_KIND_ON_DATE" in resp.text and "Вид документов [290]" in resp.text
    # kind 66 "Протокол хирургической операции (PDF/A-1)": the registry's format error in the callback
    doc = generate("119", seed=5, signer=signer)
    doc.request.kind = "66"
    resp = _register(srv, doc)
    assert "<ns3:status>success</ns3:status>" in resp.text, resp.text
    result = sink.wait_for(doc.request.message_id, timeout=30)
    assert result.status == "error" and "INVALID_DOC_CONTENT_TYPE" in result.error_codes
    assert any("[66]" in e["message"] for e in result.errors)


def test_admin_kinds_and_ready_report_the_catalog(make_server):
    srv = make_server()
    listing = requests.get(f"{srv.url}/_admin/kinds").json()
    assert listing["version"] == "12.85" and listing["total"] == len(default_registry())
    one = requests.get(f"{srv.url}/_admin/kinds/290").json()
    assert one["format"] == "CDA" and one["start_date"] == "2026-01-10" and one["pack"] is None
    assert "1.2.643.5.1.13.13.15.13.7" in one["template_ids"] and one["patient_info"].startswith("Обязательны")
    missing = requests.get(f"{srv.url}/_admin/kinds/99999")
    assert missing.status_code == 404 and "99999" in missing.json()["error"]
    ready = requests.get(f"{srv.url}/ready").json()["details"]
    assert ready["kinds"]["version"] == "12.85" and ready["packs"]["installed"] == 0
    spec = requests.get(f"{srv.url}/_admin/openapi.json").json()
    assert {"/_admin/kinds", "/_admin/kinds/{code}", "/_admin/packs"} <= set(spec["paths"])


def _export_with_one_more_kind(source: Path, target: Path) -> str:
    """The v12.85 FNSI CSV plus one new CDA kind, saved as v12.86 (the shape FNSI downloads have)."""
    text = source.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    new = dict(rows[0])
    new.update({"ID": "777", "OID": "777", "TYPE": "5", "NAME": "Протокол консультации (CDA) Редакция 99",
                "PATIENT_INFO": "Обязательны с указанием СНИЛС", "MO_SIGN": "Да", "FORMAT": "2",
                "START_DATE": "01.01.2024", "END_DATE": "", "GIT_LINK": "1.2.643.5.1.13.13.15.13.99",
                "SERIES_REQUIRED": "Нет"})
    changed = [dict(r, END_DATE="01.01.2024") if r["ID"] == "290" else r for r in rows]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=";", quoting=csv.QUOTE_NONNUMERIC,
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows([*changed, new])
    path = target / "1.2.643.5.1.13.13.11.1520_v12.86.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return str(path)


def test_nsi_import_updates_a_running_server(make_server, sink, signer, nsi_export_dir, tmp_path, capsys):
    nsi_dir = tmp_path / "nsi"
    nsi_dir.mkdir()
    srv = make_server(validation="all", signatures="off", nsi_dir=str(nsi_dir))
    export = _export_with_one_more_kind(nsi_export_dir / EXPORT_1285, tmp_path)
    newer = KindRegistry(import_nsi_1520(export), version="12.86")
    doc = generate("777", seed=6, signer=signer, catalog=newer)
    resp = _register(srv, doc)
    assert "отсутствует в справочнике" in resp.text and "[777]" in resp.text

    assert main(["nsi", "import", export, "--dir", str(nsi_dir)]) == 0
    assert "1.2.643.5.1.13.13.11.1520 v12.86" in capsys.readouterr().out

    doc = generate("777", seed=7, signer=signer, catalog=newer)
    resp = _register(srv, doc)
    assert "<ns3:status>success</ns3:status>" in resp.text, resp.text
    result = sink.wait_for(doc.request.message_id, timeout=30)
    assert result.status == "success", result.errors
    # dates changed too: 290 closed on 2024-01-01 in the newer export
    doc290 = generate("290", seed=8, signer=signer)
    assert "NO_DOCUMENT_KIND_ON_DATE" in _register(srv, doc290).text
    assert requests.get(f"{srv.url}/_admin/kinds").json()["version"] == "12.86"
    assert requests.get(f"{srv.url}/ready").json()["details"]["kinds"]["version"] == "12.86"
    assert requests.get(f"{srv.url}/_admin/kinds/777").json()["git_link"] == "1.2.643.5.1.13.13.15.13.99"


@pytest.mark.parametrize("form", ["json-rest", "json-records", "tsv"])
def test_nsi_import_reads_fnsi_json_and_tsv(form, nsi_export_dir, tmp_path):
    rows = list(csv.DictReader(io.StringIO((nsi_export_dir / EXPORT_1285).read_text(encoding="utf-8-sig")),
                               delimiter=";"))[:5]
    path = tmp_path / ("kinds.json" if form.startswith("json") else "kinds.tsv")
    if form == "json-rest":
        body = {"result": "OK", "total": len(rows), "list": [[{"column": c, "value": v} for c, v in r.items()]
                                                             for r in rows]}
        path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        extra = ["--version", "12.90"]
    elif form == "json-records":
        path.write_text(json.dumps({"oid": "1.2.643.5.1.13.13.11.1520", "version": "12.91", "records": rows},
                                   ensure_ascii=False), encoding="utf-8")
        extra = []
    else:
        lines = ["\t".join(rows[0])] + ["\t".join(r.values()) for r in rows]
        path.write_text("\n".join(lines), encoding="utf-8")
        extra = ["--version", "12.92"]
    target = tmp_path / "nsi"
    assert main(["nsi", "import", str(path), "--dir", str(target), *extra]) == 0
    from mock_remd.validation.nsi.kinds import newest_kinds_dictionary

    d = newest_kinds_dictionary(target)
    assert d is not None and d.oid == "1.2.643.5.1.13.13.11.1520" and len(d.rows) == 5
