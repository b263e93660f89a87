"""Packs as users get them (CONTRACT §8 packs import|list|download, §6 /_admin/packs): portal packages
(ZIP and folder) built here from the official files, the 1C validator's layout of ../shared/packs-published,
a download from a local HTTP server, editions chosen by the document's templateId."""

from __future__ import annotations

import http.server
import json
import re
import shutil
import socket
import threading
import zipfile
from pathlib import Path

import pytest
import requests

from mock_remd.cli.main import main
from mock_remd.validation.context import ValidationSettings
from mock_remd.validation.pack_index import installed_packs
from mock_remd.validation.pipeline import Validator

PORTAL_TOP = "СЭМД «Протокол консультации» Редакция 4"


@pytest.fixture(scope="module")
def published(shared_dir: Path) -> Path:
    d = shared_dir / "packs-published"
    if not d.is_dir():
        pytest.skip(f"{d} is absent")
    return d


def _portal_folder(root: Path, packs_dir: Path, published: Path, examples_dir: Path) -> Path:
    """The portal's package of kind 119 edition 4 as users unpack it: folders in Russian with spaces, the
    generic "XSD CDA" set beside the kind's own, the Schematron, XSL, guides, the example."""
    top = root / PORTAL_TOP / "Пакет документов"
    shutil.copytree(published / "101" / "XSD CDA", top / "XSD CDA")
    shutil.copytree(packs_dir / "119", top / "XSD схемы СЭМД", ignore=shutil.ignore_patterns("*.sch"))
    (top / "Схематрон").mkdir(parents=True)
    shutil.copy(packs_dir / "119" / "119.sch", top / "Схематрон" / "Схематрон Протокол консультации Р4.sch")
    (top / "Визуализация").mkdir()
    shutil.copy(published / "101" / "Shema.xsl", top / "Визуализация" / "Shema.xsl")
    (top / "Руководство по реализации СЭМД.pdf").write_bytes(b"%PDF-1.4\n% guide\n")
    (top / "Описание изменений.docx").write_bytes(b"PK\x03\x04 docx")
    (top / "Пример").mkdir()
    shutil.copy(examples_dir / "consultation-119-valid.xml", top / "Пример" / "Пример заполнения СЭМД.xml")
    return root / PORTAL_TOP


def _zip(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            zf.write(p, p.relative_to(folder.parent))
    return target


def _one_c_data(root: Path, published: Path, kinds: tuple[str, ...]) -> Path:
    """The 1C repository's shape: data/<kind>/…xsd with data/<kind>.sch beside it, variants data/<kind>_1.sch."""
    data = root / "semd_validator-master" / "data"
    data.mkdir(parents=True)
    for kind in kinds:
        src = published / kind
        if "_" in kind:  # a variant: only its Schematron, beside the kind's folder
            shutil.copy(src / f"{kind}.sch", data / f"{kind}.sch")
            continue
        shutil.copytree(src, data / kind, ignore=shutil.ignore_patterns("*.sch"))
        shutil.copy(src / f"{kind}.sch", data / f"{kind}.sch")
    return data


def test_portal_zip_installs_with_its_example_checked(tmp_path, packs_dir, published, examples_dir, capsys):
    archive = _zip(_portal_folder(tmp_path / "src", packs_dir, published, examples_dir), tmp_path / "пакет 119.zip")
    target = tmp_path / "packs"
    assert main(["packs", "import", str(archive), "--dir", str(target)]) == 0
    out = capsys.readouterr().out
    assert "установлен 119 редакция 4 (templateId 1.2.643.5.1.13.2.7.5.1.5.9.4)" in out and "пример проходит" in out
    assert "установлено пакетов: 1 из 1" in out and not re.search(r"\b(installed|edition|files|example)\b", out)
    (pack,) = installed_packs(target).packs
    assert pack.kind == "119" and pack.edition == "4" and len(pack.hash) == 64
    assert pack.example["passed"] and pack.example["source"] == "Пример заполнения СЭМД.xml"
    assert "119.sch" in pack.files and "coreschemas/datatypes-base.xsd" in pack.files
    assert main(["packs", "list", "--dir", str(target), "--format", "json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["total"] == 1 and listing["items"][0]["template_id"] == "1.2.643.5.1.13.2.7.5.1.5.9.4"
    assert main(["packs", "list", "--dir", str(target)]) == 0
    assert re.search(r"^119\t4\t1\.2\.643\S+\t\d+ файл(а|ов)?\t", capsys.readouterr().out)
    assert main(["packs", "list", "--dir", str(target), "--lang", "en"]) == 0
    assert re.search(r"^119\t4\t1\.2\.643\S+\t\d+ files\t", capsys.readouterr().out)
    # the installed pack validates: the official example passes xsd and schematron through it
    report = Validator(ValidationSettings(layers=frozenset({"xml", "kind", "xsd", "schematron"}), packs_dir=target)
                       ).validate((examples_dir / "consultation-119-valid.xml").read_bytes(), kind="119")
    assert report.valid and {"xsd", "schematron"} <= {layer.name for layer in report.layers if layer.ran}


def test_portal_folder_picks_the_kinds_own_xsd_not_the_generic_set(tmp_path, published, examples_dir, capsys):
    """Kind 101's package: its own XSD set fixes templateId 1.2.643.5.1.13.13.14.73.9.1, the "XSD CDA" set
    beside it is the generic HL7 one; the shipped example (of another kind) fails the self-check: warning."""
    top = tmp_path / "Пакет СЭМД 101" / "Материалы"
    shutil.copytree(published / "101" / "XSD CDA", top / "XSD CDA")
    shutil.copytree(published / "101", top / "XSD", ignore=shutil.ignore_patterns("*.sch", "XSD CDA", "*.xsl"))
    shutil.copy(published / "101" / "101.sch", top / "Схематрон СЭМД.sch")
    shutil.copy(examples_dir / "consultation-119-valid.xml", top / "Пример.xml")
    target = tmp_path / "packs"
    assert main(["packs", "import", str(tmp_path / "Пакет СЭМД 101"), "--dir", str(target)]) == 0
    err = capsys.readouterr().err
    assert "предупреждение: Пример.xml: собственный пример пакета его не проходит" in err
    (pack,) = installed_packs(target).packs
    assert pack.kind == "101" and pack.template_id == "1.2.643.5.1.13.13.14.73.9.1"
    assert "RECORD_TARGET.xsd" in pack.files and not pack.example["passed"] and pack.example["findings"]


def test_broken_pack_is_refused_naming_the_file(tmp_path, packs_dir, capsys):
    bad = tmp_path / "119"
    shutil.copytree(packs_dir / "119", bad)
    (bad / "119.sch").write_text("<schema xmlns='http://purl.oclc.org/dsdl/schematron'><pattern>", encoding="utf-8")
    assert main(["packs", "import", str(bad), "--dir", str(tmp_path / "packs"), "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert "refused 119/119.sch: not well-formed XML (the document is cut short (line 1" in err
    assert not any("а" <= ch <= "я" for ch in err.lower()), err  # one language per sentence
    assert main(["packs", "import", str(bad), "--dir", str(tmp_path / "packs")]) == 1  # Russian by default
    err = capsys.readouterr().err
    assert "отклонён: 119/119.sch: XML построен с ошибкой (" in err
    assert not re.search(r"\b(refused|not well-formed|document|line)\b", err), err
    missing = tmp_path / "nothing-here"
    assert main(["packs", "import", str(missing), "--dir", str(tmp_path / "packs")]) == 2


def test_one_c_layout_with_variants_and_editions_by_template(tmp_path, published, examples_dir, capsys):
    data = _one_c_data(tmp_path / "repo", published, ("119", "186", "76", "76_1", "102", "102_1"))
    target = tmp_path / "packs"
    assert main(["packs", "import", str(data), "--dir", str(target)]) == 0
    index = installed_packs(target)
    assert sorted((p.kind, p.edition, p.directory) for p in index.packs) == [
        ("102", "1", "102"), ("102", "1-1", "102_1"), ("119", "4", "119"), ("186", "5", "186"),
        ("76", "4", "76"), ("76", "4-1", "76_1")]
    # a second edition of 119 with its own templateId: validation picks the edition by the document's templateId
    other = tmp_path / "119-next"
    shutil.copytree(published / "119", other)
    sch = other / "119.sch"
    sch.write_text(sch.read_text(encoding="utf-8-sig").replace("1.2.643.5.1.13.2.7.5.1.5.9.4",
                                                               "1.2.643.5.1.13.2.7.5.1.5.9.40"), encoding="utf-8")
    assert main(["packs", "import", str(other), "--dir", str(target), "--kind", "119",
                 "--no-example-check"]) == 0
    assert {p.edition for p in installed_packs(target).for_kind("119")} == {"4", "40"}
    validator = Validator(ValidationSettings(layers=frozenset({"xml", "kind", "xsd", "schematron"}), packs_dir=target))
    valid = (examples_dir / "consultation-119-valid.xml").read_bytes()
    for root, edition in (("1.2.643.5.1.13.2.7.5.1.5.9.4", "4"), ("1.2.643.5.1.13.2.7.5.1.5.9.40", "40")):
        doc = valid.replace(b"1.2.643.5.1.13.2.7.5.1.5.9.4", root.encode())
        report = validator.validate(doc, kind="119")
        layers = {layer.name: layer for layer in report.layers}
        assert layers["schematron"].details["edition"] == edition
        assert layers["xsd"].details["edition"] == edition
        assert layers["schematron"].passed  # each edition accepts its own templateId


def test_published_layout_in_place_without_an_index(published):
    """MOCK_REMD_PACKS_DIR pointing straight at the 95 published packs: folders read, editions known."""
    index = installed_packs(published)
    assert len(index.packs) == 95 and not index.indexed
    assert index.select("76", ["1.2.643.5.1.13.2.7.5.1.33.9.4"]).directory == "76"
    assert index.select("199", ["1.2.643.5.1.13.13.15.89.1.2"]).kind == "199"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # noqa: ANN002
        pass


@pytest.fixture
def zip_server(tmp_path, published):
    """A local HTTP server with a ZIP in the 1C repository's layout (a subset of the published packs)."""
    data = _one_c_data(tmp_path / "repo", published, ("119", "186", "204"))
    web = tmp_path / "web"
    web.mkdir()
    archive = web / "master.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(data.parent.rglob("*")):
            zf.write(p, p.relative_to(data.parent.parent))

    def handler(*args, **kwargs):
        return _Quiet(*args, directory=str(web), **kwargs)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/master.zip"
    srv.shutdown()
    srv.server_close()


def test_download_installs_from_a_url(zip_server, tmp_path, capsys):
    target = tmp_path / "packs"
    assert main(["packs", "download", "119", "204", "--source", zip_server, "--dir", str(target)]) == 0
    assert "установлено пакетов: 2 из 2" in capsys.readouterr().out
    assert sorted(p.kind for p in installed_packs(target).packs) == ["119", "204"]
    assert main(["packs", "download", "--source", zip_server, "--dir", str(target)]) == 0
    assert sorted(p.kind for p in installed_packs(target).packs) == ["119", "186", "204"]


def test_download_from_an_unreachable_source_exits_2(tmp_path, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    assert main(["packs", "download", "--source", f"http://127.0.0.1:{port}/x.zip", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "недоступен (нет соединения)" in err and "Error" not in err
    assert main(["packs", "download", "--source", f"http://127.0.0.1:{port}/x.zip", "--dir", str(tmp_path),
                 "--lang", "en"]) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot be reached (no connection)" in err and not re.search("[а-яё]", err, re.IGNORECASE)


def test_admin_packs_and_ready_count(make_server, tmp_path, packs_dir):
    target = tmp_path / "packs"
    assert main(["packs", "import", str(packs_dir / "119"), str(packs_dir / "186"), "--dir", str(target),
                 "--no-example-check"]) == 0
    srv = make_server(packs_dir=str(target))
    listing = requests.get(f"{srv.url}/_admin/packs").json()
    assert listing["total"] == 2 and {p["kind"] for p in listing["items"]} == {"119", "186"}
    assert all(len(p["hash"]) == 64 and p["files"] for p in listing["items"])
    ready = requests.get(f"{srv.url}/ready").json()["details"]
    assert ready["packs"]["installed"] == 2
    kind = requests.get(f"{srv.url}/_admin/kinds/119").json()
    assert kind["pack"][0]["edition"] == "4"
    bare = make_server(validation="all")
    gaps = requests.get(f"{bare.url}/ready").json()["details"]["layers_without_material"]
    assert {g["layer"] for g in gaps} >= {"xsd", "schematron"}
    assert all(g["fix"] == "mock-remd packs download" for g in gaps if g["layer"] in ("xsd", "schematron"))
    # one language per sentence: Russian by default, English for Accept-Language: en; the keys stay
    assert all(g["reason"].startswith(("нет официальных пакетов", "нет справочников ФНСИ")) for g in gaps), gaps
    english = requests.get(f"{bare.url}/ready", headers={"Accept-Language": "en-GB,en;q=0.9"}).json()["details"]
    assert [g["layer"] for g in english["layers_without_material"]] == [g["layer"] for g in gaps]
    assert all(g["reason"].startswith(("no official XSD/Schematron packs", "no FNSI dictionaries"))
               for g in english["layers_without_material"])
    assert not re.search("[а-яё]", json.dumps(english, ensure_ascii=False), re.IGNORECASE), english
    missing = requests.get(f"{bare.url}/_admin/packs", headers={"Accept-Language": "en"}).json()["missing"]
    assert missing and all("не" not in g["reason"] for g in missing)


def test_dashboard_kinds_page(make_server, tmp_path, packs_dir):
    bare = make_server(validation="all")
    page = requests.get(f"{bare.url}/kinds").text
    assert "12.85" in page and 'id="kind-290"' in page and "mock-remd packs download" in page
    assert 'id="kind-66"' not in page  # PDF kinds only with show=all
    assert 'id="kind-66"' in requests.get(f"{bare.url}/kinds", params={"show": "all"}).text
    target = tmp_path / "packs"
    assert main(["packs", "import", str(packs_dir / "119"), "--dir", str(target), "--no-example-check"]) == 0
    srv = make_server(validation="all", packs_dir=str(target))
    page = requests.get(f"{srv.url}/kinds", params={"show": "packs"}).text
    assert 'id="kind-119"' in page and "редакция 4" in page and 'id="kind-290"' not in page
    assert "mock-remd packs download" not in page


LET_SCH = """<?xml version="1.0" encoding="UTF-8"?>
<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2">
  <ns prefix="identity" uri="urn:hl7-ru:identity"/>
  <pattern>
    <rule context="ClinicalDocument/templateId">
      <let name="expected" value="'1.2.643.5.1.13.2.7.5.1.5.9.4'"/>
      <assert test="@root = $expected">У1-1. templateId/@root должен быть равен <value-of select="$expected"/>.</assert>
    </rule>
    <rule context="ClinicalDocument/recordTarget/patientRole">
      <let name="snils" value="id[@root='1.2.643.100.3']/@extension"/>
      <assert test="string-length($snils) = 11">У1-2. СНИЛС пациента <value-of select="$snils"/> из 11 цифр.</assert>
    </rule>
  </pattern>
</schema>"""


def test_installed_pack_with_rule_level_let(tmp_path, packs_dir, examples_dir):
    """A pack whose Schematron declares variables inside rules (as current official packs do)."""
    src = tmp_path / "Пакет с let"
    shutil.copytree(packs_dir / "119", src / "XSD", ignore=shutil.ignore_patterns("*.sch"))
    (src / "Схематрон.sch").write_text(LET_SCH, encoding="utf-8")
    target = tmp_path / "packs"
    assert main(["packs", "import", str(src), "--dir", str(target), "--no-example-check"]) == 0
    (pack,) = installed_packs(target).packs
    assert pack.kind == "119" and pack.template_id == "1.2.643.5.1.13.2.7.5.1.5.9.4"
    validator = Validator(ValidationSettings(layers=frozenset({"xml", "kind", "schematron"}), packs_dir=target))
    valid = (examples_dir / "consultation-119-valid.xml").read_bytes()
    assert validator.validate(valid, kind="119").valid
    broken = valid.replace(b"1.2.643.5.1.13.2.7.5.1.5.9.4", b"1.2.643.5.1.13.2.7.5.1.5.9.3")
    layer = {x.name: x for x in validator.validate(broken, kind="119").layers}["schematron"]
    (finding,) = layer.findings
    assert "У1-1. templateId/@root должен быть равен 1.2.643.5.1.13.2.7.5.1.5.9.4" in finding.message


@pytest.mark.parametrize("kind", ["101", "142", "194", "211"])
def test_generated_document_of_a_packed_kind_fits_its_xsd(kind, published):
    """generate --kind N with the pack installed: the kind's templateId and its XSD's shape (the
    Schematron's body rules are not modelled yet: see README)."""
    from mock_remd.generator import generate

    doc = generate(kind, seed=2, signer=None, packs_dir=published)
    report = Validator(ValidationSettings(layers=frozenset({"xml", "kind", "xsd"}), packs_dir=published)
                       ).validate(doc.content, doc.request)
    layers = {layer.name: layer for layer in report.layers}
    assert layers["kind"].passed and layers["xsd"].ran and layers["xsd"].passed, layers["xsd"].findings[:3]
