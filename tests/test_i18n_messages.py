"""One sentence in one language (issue 13): YAML mistakes in our own words, ``send`` option errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_remd import yamlsafe
from mock_remd.catalog.user_messages import yaml_text
from mock_remd.cli.main import main

#: PyYAML's own wording: none of it may reach a user
PARSER_WORDS = ("found character", "mapping values", "while scanning", "could not find expected", "expected <",
                "undefined alias", "special characters", "unacceptable character", "end of stream", "ReaderError",
                "ScannerError", "ParserError", "constructor")


def cyrillic(text: str) -> bool:
    return any("а" <= ch <= "я" or ch == "ё" for ch in text.lower())


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("MOCK_REMD_CONFIG", "MOCK_REMD_PACKS_DIR", "MOCK_REMD_NSI_DIR", "MOCK_REMD_VALIDATION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


# ---- YAML: our sentence with line and column, ru and en ------------------------------------------------
@pytest.mark.parametrize(("text", "line", "column", "ru", "en"), [
    ("a:\n\tb: 1\n", 2, 1, "табуляции", "a tab character"),
    ("a: b: c\n", 1, 5, "двоеточие", "a colon where no value can start"),
    ("x: *nope\n", 1, 4, "якорь, которого нет", "an alias *name to an anchor that does not exist"),
    ('x: "abc\n', 2, 1, "не закрыта", "not closed"),
    ("a: [1, 2\n", 2, 1, "не закрыта", "not closed"),
    ('x: "\\q"\n', 1, 6, "escape", "unknown escape"),
    ("a: 1\nb: \x07\n", 2, 4, "управляющий символ U+0007", "the control character U+0007"),
    ("x: !!python/object:os.system foo\n", 1, 4, "неизвестный тег", "an unknown tag"),
])
def test_yaml_mistakes_are_our_sentences(text: str, line: int, column: int, ru: str, en: str) -> None:
    with pytest.raises(yamlsafe.YamlSyntaxError) as info:
        yamlsafe.load(text)
    exc = info.value
    text = {lang: yaml_text(lang, exc) for lang in ("ru", "en")}
    assert (exc.line, exc.column) == (line, column), text
    assert text["ru"].startswith("не YAML: ") and ru in text["ru"]
    assert f"(строка {line}, столбец {column})" in text["ru"]
    assert text["en"].startswith("not valid YAML: ") and en in text["en"]
    assert f"(line {line}, column {column})" in text["en"]
    assert not cyrillic(text["en"])
    for words in PARSER_WORDS:
        assert words not in text["ru"] and words not in text["en"], words


def test_config_file_syntax_error_is_one_russian_sentence(capsys, tmp_path: Path) -> None:
    config = tmp_path / "remd.yaml"
    config.write_text("systems:\n\t- demo\n", encoding="utf-8")
    assert main(["validate", "doc.xml", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"mock-remd validate: файл настроек {config}: не YAML: символ табуляции там, где YAML допускает " \
                  "только пробелы (строка 2, столбец 1)"
    assert main(["validate", "doc.xml", "--config", str(config), "--lang", "en"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"mock-remd validate: config file {config}: not valid YAML: a tab character where YAML allows " \
                  "only spaces (line 2, column 1)"


def test_scenario_lint_names_line_and_column_without_parser_words(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nrules:\n  - sync: a: b\n", encoding="utf-8")
    assert main(["scenarios", "lint", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:3: not valid YAML at column 12: a colon where no value can start" in out
    assert not any(words in out for words in PARSER_WORDS), out


# ---- scenarios list: the description in the language of the run ------------------------------------------
def test_scenarios_list_describes_in_the_language_of_the_run(capsys) -> None:
    library = str(Path(__file__).resolve().parent.parent / "scenarios")
    assert main(["scenarios", "list", library]) == 0
    ru = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("callback-duplicate "))
    assert "правил:  1" in ru and "rule(s)" not in ru
    assert cyrillic(ru.split("правил:", 1)[1]) and "the result callback arrives twice" not in ru
    assert main(["scenarios", "list", library, "--lang", "en"]) == 0
    en = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("callback-duplicate "))
    assert "the result callback arrives twice" in en and not cyrillic(en)


# ---- send: keys that cannot sign get a catalogue sentence naming the option, never the library's words ---
@pytest.mark.parametrize(("key", "cert", "ru", "en"), [
    ("junk", "cert", "--key: это не закрытый ключ ГОСТ Р 34.10-2012 (PKCS#8, PEM или DER)",
     "--key: not a GOST R 34.10-2012 private key (PKCS#8, PEM or DER)"),
    ("key", "junk", "--cert: это не сертификат X.509 (PEM или DER)", "--cert: not an X.509 certificate (PEM or DER)"),
    ("cert", "key", "--key: это не закрытый ключ", "--key: not a GOST R 34.10-2012 private key"),
])
def test_send_with_a_key_that_cannot_sign(capsys, tmp_path: Path, examples_dir: Path, key: str, cert: str,
                                          ru: str, en: str) -> None:
    from mock_remd.signing.testkeys import test_doctor

    ident = test_doctor()
    files = {"junk": tmp_path / "junk.pem", "key": tmp_path / "k.pem", "cert": tmp_path / "c.pem"}
    files["junk"].write_bytes(b"junk\x00\x01")
    files["key"].write_bytes(ident.key_pem)
    files["cert"].write_bytes(ident.cert_pem)
    argv = ["send", str(examples_dir / "consultation-119-valid.xml"), "--url", "http://127.0.0.1:9", "--system",
            "demo", "--org-key", str(files[key]), "--org-cert", str(files[cert])]
    argv = [a.replace("--org-", "--") for a in argv]
    for lang, expected in (("ru", ru), ("en", en)):
        assert main([*argv, "--lang", lang]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"mock-remd send: {expected}"), err
        assert len(err.strip().splitlines()) == 1
        assert "Insufficient data" not in err and "Error parsing" not in err and "expected PEM" not in err
    # the library's words are in --verbose only
    assert main([*argv, "--verbose"]) == 2
    assert "ValueError" in capsys.readouterr().err


def test_signer_options_error_is_ours_for_safe_text() -> None:
    from mock_remd.catalog.incidents import safe_text
    from mock_remd.client.signers import SignerOptionsError, SignerSet

    with pytest.raises(SignerOptionsError) as info:
        SignerSet(org_key_pem=b"x")
    assert safe_text(info.value, "fallback") == "--org-key and --org-cert go together"
    assert safe_text(ValueError("Insufficient data - 117 bytes requested"), "fallback") == "fallback"
