"""``mock-remd generate`` on the command line: files, determinism, exit codes."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from mock_remd.cli.main import main
from mock_remd.generator import RULES
from mock_remd.namespaces import SERVICE

V3 = "urn:hl7-org:v3"


def _files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def test_writes_document_and_request_per_localuid(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["generate", "--kind", "119", "--count", "2", "--seed", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.split()
    files = sorted(out.iterdir())
    assert len(files) == 4 and sorted(str(f) for f in files) == sorted(printed)
    for cda in (f for f in files if not f.name.endswith(".request.xml")):
        uid = cda.name.removesuffix(".xml")
        root = etree.fromstring(cda.read_bytes())
        assert root.find(f"{{{V3}}}id").get("extension") == uid
        request = etree.fromstring((out / f"{uid}.request.xml").read_bytes())
        assert request.findtext(f".//{{{SERVICE}}}localUid") == uid
        assert request.findtext(f".//{{{SERVICE}}}kind") == "119"
        assert request.find(f".//{{{SERVICE}}}personalSign/{{{SERVICE}}}signature/{{{SERVICE}}}data") is not None
        assert request.find(f".//{{{SERVICE}}}orgSignature") is not None


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    args = ["generate", "--kind", "204", "--count", "2", "--seed", "9", "--unsigned"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert main(["generate", "--kind", "204", "--seed", "11", "--unsigned", "--out", str(tmp_path / "c")]) == 0
    assert not set(_files(tmp_path / "c")) & set(_files(tmp_path / "a"))


def test_signed_runs_share_the_document_bytes(tmp_path: Path) -> None:
    for d in ("a", "b"):
        assert main(["generate", "--kind", "174", "--seed", "4", "--out", str(tmp_path / d)]) == 0
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a.keys() == b.keys()
    cda = next(n for n in a if not n.endswith(".request.xml"))
    assert a[cda] == b[cda]


def test_invalid_rule_is_written_and_marked(tmp_path: Path) -> None:
    assert main(["generate", "--kind", "186", "--invalid", "missing-information-recipient",
                 "--unsigned", "--out", str(tmp_path)]) == 0
    cda = next(p for p in tmp_path.iterdir() if not p.name.endswith(".request.xml"))
    content = cda.read_bytes()
    assert b"DELIBERATELY INVALID" in content
    assert etree.fromstring(content).find(f"{{{V3}}}informationRecipient") is None


def test_list_invalid_names_every_rule(capsys) -> None:
    assert main(["generate", "--list-invalid"]) == 0
    out = capsys.readouterr().out
    for name, rule in RULES.items():
        assert name in out and rule.code in out


def test_bad_input_exits_2_with_a_message(tmp_path: Path, capsys) -> None:
    assert main(["generate", "--kind", "999", "--out", str(tmp_path)]) == 2
    assert "119, 174, 186, 204" in capsys.readouterr().err
    assert main(["generate", "--out", str(tmp_path)]) == 2
    assert main(["generate", "--kind", "119", "--invalid", "nope", "--out", str(tmp_path)]) == 2
    assert "--list-invalid" in capsys.readouterr().err
    assert main(["generate", "--kind", "204", "--invalid", "effective-time-seconds", "--out", str(tmp_path)]) == 2
    assert main(["generate", "--kind", "119", "--count", "0", "--out", str(tmp_path)]) == 2
    assert list(tmp_path.iterdir()) == []


def test_without_seed_each_run_makes_new_documents(tmp_path: Path, capsys) -> None:
    assert main(["generate", "--kind", "119", "--unsigned", "--out", str(tmp_path / "a")]) == 0
    first = capsys.readouterr()
    assert main(["generate", "--kind", "119", "--unsigned", "--out", str(tmp_path / "b")]) == 0
    second = capsys.readouterr()
    names_a = {p.name for p in (tmp_path / "a").iterdir()}
    names_b = {p.name for p in (tmp_path / "b").iterdir()}
    assert names_a.isdisjoint(names_b)  # new localUids: a running registry will not call them duplicates
    seed = int(first.err.split("--seed ")[1].split(")")[0])
    assert main(["generate", "--kind", "119", "--unsigned", "--seed", str(seed), "--out", str(tmp_path / "c")]) == 0
    assert {p.name for p in (tmp_path / "c").iterdir()} == names_a and "seed" in second.err


def test_messages_are_in_the_language_of_the_run(tmp_path: Path, capsys) -> None:
    """Russian by default, English with --lang en: the seed line and every refusal, one language each."""
    import re

    cyrillic = re.compile("[А-Яа-яЁё]")
    runs = (["--kind", "999"], [], ["--kind", "119", "--invalid", "nope"],
            ["--kind", "204", "--invalid", "effective-time-seconds"], ["--kind", "119", "--count", "0"],
            ["--kind", "119", "--unsigned"])
    for argv in runs:
        for lang in ("ru", "en"):
            main(["generate", *argv, "--out", str(tmp_path / lang), "--lang", lang])
            line = capsys.readouterr().err.strip().splitlines()[0]
            text = line.removeprefix("mock-remd generate: ")
            if lang == "en":
                assert not cyrillic.search(text), line
            else:
                assert cyrillic.search(text) and not re.search(r"\b(required|cannot|unknown|must|repeat|only)\b",
                                                               text), line
