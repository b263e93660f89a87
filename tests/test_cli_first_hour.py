"""A new user's first hour with the command line (issue 13): honest verdicts, one-sentence errors, help."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mock_remd.cli.main import build_parser, main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("MOCK_REMD_CONFIG", "MOCK_REMD_PACKS_DIR", "MOCK_REMD_NSI_DIR", "MOCK_REMD_VALIDATION",
                 "MOCK_REMD_SIGNATURES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def validate(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(["validate", *argv])
    out, err = capsys.readouterr()
    return status, out, err


# ---- validate: PARTIAL when a deciding layer did not run --------------------------------------------
def test_unchecked_document_is_partial_not_valid(capsys, examples_dir: Path) -> None:
    status, out, err = validate(capsys, str(examples_dir / "consultation-119-valid.xml"))
    first = out.splitlines()[0]
    assert status == 2  # CONTRACT §8: 0 valid, 1 invalid, 2 no verdict (a partial check included)
    assert err.startswith("mock-remd validate: проверка неполная, вердикт не вынесен (код выхода 2; "
                          "с --allow-partial — 0): не выполнялись: xsd, schematron")
    assert "mock-remd packs import" in err
    assert ": ЧАСТИЧНО, вид 119" in first and "ДЕЙСТВИТЕЛЕН" not in first and "PARTIAL" not in first
    assert "не выполнялись: xsd, schematron" in first and "mock-remd packs import" in first
    assert "nsi (" in first and "mock-remd nsi import" in first


def test_partial_check_exits_2_in_english_too(capsys, examples_dir: Path) -> None:
    status, out, err = validate(capsys, str(examples_dir / "consultation-119-valid.xml"), "--lang", "en",
                                "--format", "json")
    assert status == 2 and json.loads(out)["verdict"] == "PARTIAL"
    assert err.startswith("mock-remd validate: the check is partial, no verdict (exit status 2; 0 with "
                          "--allow-partial): not run: xsd, schematron")
    assert not any("а" <= ch <= "я" for ch in err.lower())


def test_partial_text_report_in_english(capsys, examples_dir: Path) -> None:
    status, out, _ = validate(capsys, str(examples_dir / "consultation-119-valid.xml"), "--lang", "en")
    first = out.splitlines()[0]
    assert status == 2 and ": PARTIAL, kind 119 — not run: xsd, schematron" in first
    assert "[skipped] xsd — the official packs are not installed" in out
    assert not any("а" <= ch <= "я" for ch in out.lower())


def test_allow_partial_exits_0_and_json_says_partial(capsys, examples_dir: Path) -> None:
    status, out, _ = validate(capsys, str(examples_dir / "consultation-119-valid.xml"), "--allow-partial",
                              "--format", "json", "--lang", "en")
    data = json.loads(out)
    assert status == 0
    assert data["verdict"] == "PARTIAL" and data["valid"] is False
    assert [n["layer"] for n in data["not_run"]] == ["xsd", "schematron", "nsi"]
    assert "mock-remd packs import" in data["not_run"][0]["reason"] and "не" not in data["not_run"][0]["reason"]


def test_fully_checked_document_is_valid(capsys, examples_dir: Path, packs_dir: Path, nsi_export_dir: Path) -> None:
    status, out, _ = validate(capsys, str(examples_dir / "consultation-119-valid.xml"), "--packs", str(packs_dir),
                              "--layers", "xml,kind,header,xsd,schematron")
    assert status == 0 and out.splitlines()[0].endswith(": ДЕЙСТВИТЕЛЕН, вид 119")


def test_schematron_example_is_kind_119_and_each_defect_shown_once(capsys, examples_dir: Path,
                                                                   packs_dir: Path) -> None:
    status, out, _ = validate(capsys, str(examples_dir / "consultation-119-invalid-schematron.xml"),
                              "--packs", str(packs_dir))
    assert status == 1
    assert out.splitlines()[0].endswith(": НЕДЕЙСТВИТЕЛЕН (9 ошибок), вид 119")  # the 9 Schematron asserts, once each
    assert "показано под schematron" in out and "то же нашёл слой header" in out
    status, out, _ = validate(capsys, str(examples_dir / "consultation-119-invalid-schematron.xml"),
                              "--packs", str(packs_dir), "--format", "json")
    data = json.loads(out)
    assert data["kind"] == "119" and len(data["errors"]) == 9
    assert any(a["layer"] == "header" for e in data["errors"] for a in e["also"])


def test_validate_a_directory_says_so(capsys, tmp_path: Path) -> None:
    status, _, err = validate(capsys, str(tmp_path))
    assert status == 2 and err.strip() == f"mock-remd validate: {tmp_path} — это каталог, а нужен файл документа"


# ---- generate --list-invalid names the layer a user will see ------------------------------------------
def test_list_invalid_names_the_layer_without_packs(capsys) -> None:
    assert main(["generate", "--list-invalid", "--lang", "en"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("missing-information-recipient"))
    assert "schematron/VALIDATION_ERROR (header without packs)" in line


def test_list_invalid_speaks_the_language_of_the_run(capsys) -> None:
    assert main(["generate", "--list-invalid"]) == 0  # Russian by default
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("missing-information-recipient"))
    assert "(header, если пакеты не установлены)" in line and "в заголовке нет informationRecipient" in line
    assert "(виды 119)" in out and not re.search(r"\b(the|with|without|request|kinds)\b", out), out
    assert main(["generate", "--list-invalid", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    # the official rule id У1-15 and the recipient's name are quoted as they are
    assert not re.search("[а-яё]", out.replace("(Минздрав)", "").replace("У1-15", ""), re.IGNORECASE), out


def test_generated_breaker_fails_the_named_layers(capsys, tmp_path: Path) -> None:
    out_dir = tmp_path / "g"
    assert main(["generate", "--kind", "119", "--invalid", "missing-information-recipient", "--seed", "7",
                 "--out", str(out_dir)]) == 0
    capsys.readouterr()
    doc = next(p for p in out_dir.glob("*.xml") if not p.name.endswith(".request.xml"))
    status, out, _ = validate(capsys, str(doc), "--format", "json")
    failed = [lr["name"] for lr in json.loads(out)["layers"] if lr["ran"] and not lr["passed"]]
    assert status == 1 and failed == ["header"]


# ---- help and options -------------------------------------------------------------------------------
def _help(capsys, *words: str) -> str:
    """``mock-remd WORDS --help`` in this process (the installed command's help is
    test_cli_help_languages.test_help_from_the_installed_command; a subprocess per command cost 20 s)."""
    assert main([*words, "--help"]) == 0
    out, err = capsys.readouterr()
    assert not err
    return out


def _commands(parser, prefix=()):
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, child in action.choices.items():
                yield (*prefix, name), child
                yield from _commands(child, (*prefix, name))


def test_help_is_complete(capsys) -> None:
    for words, child in _commands(build_parser()):
        text = _help(capsys, *words)
        assert "``" not in text and "CONTRACT" not in text, words
        for action in child._actions:
            if action.help is None:
                raise AssertionError(f"{' '.join(words)} {action.option_strings or action.dest} has no description")
    assert "(--kind KIND | --list-invalid" in _help(capsys, "generate")  # shown required, not optional


def test_user_documents_do_not_send_users_to_the_contract() -> None:
    """README and docs/ are what users have; the project's CONTRACT.md is not shipped (issue 13: help and
    documents pointed to "CONTRACT §7")."""
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    found = [f"{p.relative_to(ROOT)}:{n}" for p in docs if p.name != "architecture.md"
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if "CONTRACT" in line]
    assert found == []


def test_version() -> None:
    proc = subprocess.run([sys.executable, "-m", "mock_remd", "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("mock-remd ")


def test_scenarios_list_of_only_broken_files_fails(capsys, tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("name: x\nrules: 12\n", encoding="utf-8")
    status = main(["scenarios", "list", str(tmp_path)])
    assert status != 0


# ---- packaging and the plugin -------------------------------------------------------------------------
def test_license_is_an_spdx_string() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"  # a TOML table makes setuptools warn on every install


def test_users_pytest_run_shows_no_dependency_deprecation(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(
        "def test_uses_the_mock(remd_server):\n    assert remd_server.url.startswith('http')\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "cgi" not in proc.stdout and "DeprecationWarning" not in proc.stdout


def test_users_strict_warnings_do_not_fail_on_our_dependencies(tmp_path: Path) -> None:
    """A project whose pytest turns every warning into an error (``filterwarnings = error``) still runs
    the mock: spyne's import probes (six's ImportWarning) and its cgi import are ours to hide."""
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings =\n    error\n", encoding="utf-8")
    (tmp_path / "test_user.py").write_text(
        "def test_uses_the_mock(remd_server):\n    assert remd_server.url.startswith('http')\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_output_piped_into_a_reader_that_stops_is_not_an_incident(tmp_path: Path) -> None:
    """``mock-remd generate --list-invalid | head -5``: the reader closes the pipe; the command stops
    quietly (exit 141, as cat does) instead of reporting an internal error with an incident id."""
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    try:
        proc = subprocess.run([sys.executable, "-m", "mock_remd", "generate", "--list-invalid"], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=120, cwd=tmp_path)
    finally:
        os.close(write_end)
    assert proc.returncode == 141, proc.stderr
    assert proc.stderr == ""
    assert not (tmp_path / ".mock-remd" / "incidents.log").exists()
