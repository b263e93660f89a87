"""``mock-remd validate`` and ``mock-remd nsi``: outputs parsed and asserted, exit statuses 0/1/2, --request."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from mock_remd.cli.main import main
from mock_remd.domain.model import RegisterRequest
from mock_remd.namespaces import SERVICE
from mock_remd.soap.builders import register_body, register_envelope
from mock_remd.validation.nsi.store import import_file
from mock_remd.validation.report import LAYER_ORDER

#: the report's own words in English, which a Russian report must not contain (layer names such as
#: ``kind`` are identifiers and stay)
LATIN_STATUS = re.compile(r"\b(VALID|INVALID|PARTIAL|skipped|ok|FAILED|findings?|rule|line|path|shown under)\b"
                          r"|\bkind (\d|unknown)")
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)

ROOT = Path(__file__).resolve().parent.parent
GENDER_OLD = 'administrativeGenderCode code="2"'
GENDER_NEW = 'administrativeGenderCode code="7"'
LAGGING = ("1.2.643.5.1.13.13.11.1522", "1.2.643.5.1.13.13.99.2.166")
#: layers that need no packs, no request and no signatures
OFFLINE_LAYERS = "xml,kind,header,nsi"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No MOCK_REMD_* from the caller's shell, and no ./.mock-remd/nsi picked up by default."""
    for name in ("MOCK_REMD_CONFIG", "MOCK_REMD_PACKS_DIR", "MOCK_REMD_NSI_DIR", "MOCK_REMD_VALIDATION", "MOCK_REMD_SIGNATURES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def nsi_dir(tmp_path_factory, nsi_export_dir: Path) -> Path:
    """The shared exports whose versions the 119 example uses."""
    target = tmp_path_factory.mktemp("nsi")
    for path in sorted(nsi_export_dir.glob("*.tsv")):
        if not path.name.startswith(LAGGING):
            import_file(path, target)
    return target


@pytest.fixture
def valid_file(examples_dir: Path) -> Path:
    return examples_dir / "consultation-119-valid.xml"


@pytest.fixture
def bad_code_file(tmp_path: Path, valid_119_bytes: bytes) -> Path:
    text = valid_119_bytes.decode("utf-8")
    assert text.count(GENDER_OLD) == 1
    path = tmp_path / "bad-code.xml"
    path.write_text(text.replace(GENDER_OLD, GENDER_NEW), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["validate", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_valid_document_exits_0(capsys, valid_file: Path, nsi_dir: Path) -> None:
    status, out, _ = run(capsys, str(valid_file), "--layers", OFFLINE_LAYERS, "--nsi", str(nsi_dir))
    assert status == 0
    first = out.splitlines()[0]
    assert first.endswith(": ДЕЙСТВИТЕЛЕН, вид 119")
    assert "[   пройден] nsi" in out
    assert "[  пропущен] xsd — слой отключён настройкой (--layers / MOCK_REMD_VALIDATION)" in out
    assert not LATIN_STATUS.search(out)


def test_valid_document_in_english(capsys, valid_file: Path, nsi_dir: Path) -> None:
    status, out, _ = run(capsys, str(valid_file), "--layers", OFFLINE_LAYERS, "--nsi", str(nsi_dir), "--lang", "en")
    assert status == 0
    assert out.splitlines()[0].endswith(": VALID, kind 119")
    assert "[     ok] nsi" in out
    assert "[skipped] xsd — the layer is turned off (--layers / MOCK_REMD_VALIDATION)" in out
    assert not CYRILLIC.search(out)


def test_json_output(capsys, bad_code_file: Path, nsi_dir: Path) -> None:
    status, out, _ = run(capsys, str(bad_code_file), "--layers", OFFLINE_LAYERS, "--nsi", str(nsi_dir), "--format", "json")
    assert status == 1
    data = json.loads(out)
    assert data["valid"] is False and data["kind"] == "119"
    assert [lr["name"] for lr in data["layers"]] == list(LAYER_ORDER)
    for lr in data["layers"]:
        assert {"name", "ran", "passed"} <= set(lr)
    nsi = next(lr for lr in data["layers"] if lr["name"] == "nsi")
    assert nsi["ran"] is True and nsi["passed"] is False
    assert next(lr for lr in data["layers"] if lr["name"] == "xsd")["ran"] is False
    [error] = data["errors"]
    assert {"code", "message", "layer", "path"} <= set(error)
    assert error["code"] == "INVALID_ELEMENT_VALUE_CODE" and error["layer"] == "nsi"
    assert error["message"] == "Справочник OID [1.2.643.5.1.13.13.11.1040], версия [2.1]. Элемент с кодом [7] отсутствует"
    assert error["path"].endswith("/patient[1]/administrativeGenderCode[1]") and error["line"] == 48


def test_text_output_lists_finding_details(capsys, bad_code_file: Path, nsi_dir: Path) -> None:
    status, out, _ = run(capsys, str(bad_code_file), "--layers", OFFLINE_LAYERS, "--nsi", str(nsi_dir))
    assert status == 1
    assert out.splitlines()[0].endswith(": НЕДЕЙСТВИТЕЛЕН (1 ошибка), вид 119")
    assert "[НЕ ПРОЙДЕН] nsi — 1 замечание" in out
    assert "INVALID_ELEMENT_VALUE_CODE: Справочник OID [1.2.643.5.1.13.13.11.1040], версия [2.1]. Элемент с кодом [7]" in out
    assert "правило nsi-code · строка 48 · путь /ClinicalDocument[1]/recordTarget[1]" in out
    assert not LATIN_STATUS.search(out)
    status, out, _ = run(capsys, str(bad_code_file), "--layers", OFFLINE_LAYERS, "--nsi", str(nsi_dir), "--lang", "en")
    assert status == 1
    assert out.splitlines()[0].endswith(": INVALID (1 error), kind 119")
    assert "[ FAILED] nsi — 1 finding" in out
    assert "rule nsi-code · line 48 · path /ClinicalDocument[1]/recordTarget[1]" in out
    # the only Russian in an English report is the registry's own finding message
    assert not CYRILLIC.search(out.replace("Справочник OID", "").replace("версия", "").replace("Элемент с кодом",
                                                                                             "").replace("отсутствует", ""))


def test_junit_output(capsys, bad_code_file: Path, nsi_dir: Path) -> None:
    status, out, _ = run(capsys, str(bad_code_file), "--layers", OFFLINE_LAYERS, "--nsi", str(nsi_dir), "--format", "junit")
    assert status == 1
    root = etree.fromstring(out.encode("utf-8"))
    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == list(LAYER_ORDER)
    assert suite.get("tests") == "8" and suite.get("failures") == "1" and suite.get("skipped") == "4"
    failure = cases["nsi"].find("failure")
    assert failure is not None and failure.get("type") == "INVALID_ELEMENT_VALUE_CODE"
    assert "Элемент с кодом [7] отсутствует" in failure.text and "line 48" in failure.text
    assert cases["xsd"].find("skipped") is not None
    assert cases["xml"].find("failure") is None and cases["xml"].find("skipped") is None


def test_not_well_formed_exits_1(capsys, tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    path.write_text("<ClinicalDocument xmlns='urn:hl7-org:v3'><id></ClinicalDocument>", encoding="utf-8")
    status, out, _ = run(capsys, str(path), "--format", "json", "--layers", "xml")
    assert status == 1
    data = json.loads(out)
    assert data["valid"] is False
    assert data["errors"][0]["code"] == "INVALID_CONTENT" and data["errors"][0]["layer"] == "xml"


def test_xml_that_is_not_a_cda_document_is_not_called_unparsed(capsys, tmp_path: Path) -> None:
    path = tmp_path / "other.xml"
    path.write_text("<a/>", encoding="utf-8")
    status, out, _ = run(capsys, str(path), "--format", "json")
    assert status == 1
    reasons = {layer["name"]: layer for layer in json.loads(out)["layers"]}
    assert "ClinicalDocument" in reasons["kind"]["reason"], reasons["kind"]
    assert "не разобран как XML" not in out


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["missing.xml"], "нет такого файла"),
        (["{valid}", "--format", "yaml"], "аргумент --format: недопустимое значение 'yaml'"),
        (["{valid}", "--format", "yaml", "--lang", "en"], "argument --format: invalid choice: 'yaml'"),
        (["{valid}", "--layers", "xml,bogus"], "bogus"),
        (["{valid}", "--nsi", "no-such-dir"], "--nsi no-such-dir: нет такого каталога"),
        (["{valid}", "--packs", "/nosuch"], "--packs /nosuch: нет такого каталога"),
        (["{valid}", "--request", "no-such-request.xml"], "нет такого файла запроса"),
        (["{valid}", "--request", "."], ". — это каталог"),
        (["{valid}", "--lang", "en", "--packs", "/nosuch"], "--packs /nosuch: no such directory"),
    ],
)
def test_unusable_input_exits_2(capsys, valid_file: Path, argv: list[str], needle: str) -> None:
    status, out, err = run(capsys, *[a.replace("{valid}", str(valid_file)) for a in argv])
    assert status == 2
    assert needle in err and out == ""


@pytest.mark.parametrize("content", [b"not xml at all", b"<x:Envelope xmlns:x='urn:x'><x:Body/></x:Envelope>"])
def test_unreadable_request_exits_2(capsys, valid_file: Path, tmp_path: Path, content: bytes) -> None:
    req = tmp_path / "req.xml"
    req.write_bytes(content)
    status, _, err = run(capsys, str(valid_file), "--request", str(req))
    assert status == 2 and "запрос" in err and "Error" not in err


def _request(local_uid: str) -> RegisterRequest:
    return RegisterRequest(local_uid=local_uid, kind="119", organization="1.2.643.5.1.13.13.12.2.50.99999")


@pytest.mark.parametrize("shape", ["envelope", "bare"])
def test_request_is_read_from_envelope_or_bare(capsys, valid_file: Path, tmp_path: Path, shape: str) -> None:
    req = _request("WRONG-UID-0001")
    if shape == "envelope":
        data = register_envelope(req, message_id="urn:uuid:6a2b1c3d-0000-4000-8000-000000000001")
    else:
        body = register_body(req).replace("<ser:registerDocumentRequest>", f'<ser:registerDocumentRequest xmlns:ser="{SERVICE}">', 1)
        data = body.encode("utf-8")
    path = tmp_path / f"{shape}.xml"
    path.write_bytes(data)
    status, out, _ = run(capsys, str(valid_file), "--request", str(path), "--layers", "xml,cross", "--format", "json")
    report = json.loads(out)
    assert report["kind"] == "119"  # the request's kind (no kind layer ran)
    cross = next(lr for lr in report["layers"] if lr["name"] == "cross")
    assert cross["ran"] is True
    assert status == 1
    assert any("WRONG-UID-0001" in e["message"] and e["layer"] == "cross" for e in report["errors"])


def test_real_subprocess(valid_file: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mock_remd", "validate", str(valid_file), "--layers", "xml", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["valid"] is True
    assert [lr["ran"] for lr in data["layers"]] == [True] + [False] * 7
    missing = subprocess.run(
        [sys.executable, "-m", "mock_remd", "validate", str(tmp_path / "absent.xml")],
        capture_output=True, text=True, cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}, timeout=60,
    )
    assert missing.returncode == 2 and "нет такого файла" in missing.stderr


# ---- mock-remd nsi --------------------------------------------------------------------------------


def test_nsi_import_and_list(capsys, nsi_export_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "dicts"
    assert main(["nsi", "import", str(nsi_export_dir), "--dir", str(target)]) == 0
    out = capsys.readouterr().out
    exports = len([*nsi_export_dir.glob("*.tsv"), *nsi_export_dir.glob("*.csv")])
    assert out.count("импортирован ") == exports
    assert "видов — 181; mock-remd serve и validate используют их" in out and "import_nsi_1520" not in out
    assert not re.search(r"\b(imported|codes?|column|kinds|warning)\b", out)
    assert main(["nsi", "import", str(nsi_export_dir), "--dir", str(target), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert out.count("imported ") == exports and "181 kinds; mock-remd serve and validate use them" in out
    assert " codes (code column " in out
    assert main(["nsi", "list", "--dir", str(target), "--format", "json"]) == 0
    items = {it["oid"]: it for it in json.loads(capsys.readouterr().out)["items"]}
    assert items["1.2.643.5.1.13.13.11.1504"]["name_column"] == "ADDRESS_TYPE"
    assert items["1.2.643.5.1.13.13.11.1002"]["codes"] == 553


def test_nsi_import_defaults_to_env_dir(capsys, nsi_export_dir: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MOCK_REMD_NSI_DIR", str(tmp_path / "env-dir"))
    assert main(["nsi", "import", str(nsi_export_dir / "1.2.643.5.1.13.13.11.1040_v2.1.tsv")]) == 0
    assert (tmp_path / "env-dir" / "1.2.643.5.1.13.13.11.1040_v2.1.json").is_file()
    monkeypatch.delenv("MOCK_REMD_NSI_DIR")
    assert main(["nsi", "import", str(nsi_export_dir / "1.2.643.5.1.13.13.11.1040_v2.1.tsv")]) == 0
    assert (tmp_path / ".mock-remd" / "nsi" / "1.2.643.5.1.13.13.11.1040_v2.1.json").is_file()
    capsys.readouterr()


def test_nsi_import_missing_file_exits_2(capsys, tmp_path: Path) -> None:
    assert main(["nsi", "import", str(tmp_path / "absent.tsv"), "--dir", str(tmp_path)]) == 2
    assert "нет такого файла или каталога" in capsys.readouterr().err
    assert main(["nsi", "import", str(tmp_path / "absent.tsv"), "--dir", str(tmp_path), "--lang", "en"]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_validate_uses_default_nsi_dir(capsys, valid_file: Path, bad_code_file: Path, nsi_export_dir: Path) -> None:
    """After ``nsi import`` with no options, ``validate`` with no options uses those dictionaries."""
    assert main(["nsi", "import", str(nsi_export_dir / "1.2.643.5.1.13.13.11.1040_v2.1.tsv")]) == 0
    capsys.readouterr()
    status, out, _ = run(capsys, str(bad_code_file), "--layers", "xml,nsi", "--format", "json")
    assert status == 1
    assert [e["code"] for e in json.loads(out)["errors"]] == ["INVALID_ELEMENT_VALUE_CODE"]
