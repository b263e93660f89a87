"""One sentence in one language (issue 13): YAML mistakes in our own words, ``send`` option errors."""

from __future__ import annotations

import json
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
    assert f"{bad}:3: не YAML (столбец 12): " in out
    assert main(["scenarios", "lint", str(bad), "--lang", "en"]) == 1
    en = capsys.readouterr().out
    assert f"{bad}:3: not valid YAML at column 12: a colon where no value can start" in en
    assert not any(words in out + en for words in PARSER_WORDS), out + en


# ---- scenarios list: the description in the language of the run ------------------------------------------
def test_scenarios_list_describes_in_the_language_of_the_run(capsys) -> None:
    library = str(Path(__file__).resolve().parent.parent / "scenarios")
    assert main(["scenarios", "list", library]) == 0
    ru = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("callback-duplicate "))
    assert "правил:  1" in ru and "rule(s)" not in ru
    assert cyrillic(ru.split("правил:", 1)[1]) and "The result callback arrives twice" not in ru
    assert main(["scenarios", "list", library, "--lang", "en"]) == 0
    en = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("callback-duplicate "))
    assert "The result callback arrives twice" in en and not cyrillic(en)


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
    assert safe_text(info.value, "fallback", lang="en") == "--org-key and --org-cert go together"
    assert safe_text(info.value, "fallback") == "--org-key и --org-cert указываются вместе"
    assert safe_text(ValueError("Insufficient data - 117 bytes requested"), "fallback") == "fallback"


# ---- sweep: no sentence mixes Russian and English ----------------------------------------------------------
def test_send_and_generate_say_what_is_wrong_with_a_document_in_one_language(capsys, tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"<ClinicalDocument xmlns='urn:hl7-org:v3'><id></ClinicalDocument>")
    other = tmp_path / "other.xml"
    other.write_bytes(b"<html/>")
    argv = ["--url", "http://127.0.0.1:9", "--system", "demo"]
    cases = [
        (["send", str(broken), *argv], f"mock-remd send: {broken}: документ — не корректный XML: закрывающий тег не совпадает "
         "с открывающим (строка 1",
         f"mock-remd send: {broken}: the document is not well-formed XML: a closing tag does not match its opening tag "
         "(line 1"),
        (["send", str(other), *argv], f"mock-remd send: {other}: корневой элемент — не ClinicalDocument CDA",
         f"mock-remd send: {other}: the root element is not a CDA ClinicalDocument"),
        (["generate", "--version-of", str(broken)], f"mock-remd generate: {broken}: документ — не корректный XML",
         f"mock-remd generate: {broken}: the document is not well-formed XML: a closing tag does not match"),
    ]
    for words, ru, en in cases:
        assert main(words) == 2
        err = capsys.readouterr().err
        assert err.startswith(ru), err
        assert main([*words, "--lang", "en"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(en) and not cyrillic(err), err


def test_validate_request_refused_before_parsing_in_english(capsys, tmp_path: Path, examples_dir: Path) -> None:
    request = tmp_path / "req.xml"
    request.write_bytes(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    doc = str(examples_dir / "consultation-119-valid.xml")
    assert main(["validate", doc, "--request", str(request), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"mock-remd validate: request {request} is refused: DOCTYPE declarations are not allowed"
    assert main(["validate", doc, "--request", str(request)]) == 2
    assert capsys.readouterr().err.strip() == \
        f"mock-remd validate: запрос {request} отклонён: объявления DOCTYPE не допускаются"


def test_option_errors_of_generate_and_packs_in_the_language_of_the_run(capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MOCK_REMD_PORT", "abc")
    assert main(["packs", "list"]) == 2
    assert capsys.readouterr().err.strip() == "mock-remd packs list: MOCK_REMD_PORT abc: ожидалось число"
    assert main(["packs", "list", "--lang", "en"]) == 2
    assert capsys.readouterr().err.strip() == "mock-remd packs list: MOCK_REMD_PORT abc: expected a number"
    monkeypatch.delenv("MOCK_REMD_PORT")
    assert main(["generate", "--kind", "119", "--packs", str(tmp_path / "nosuch")]) == 2
    assert capsys.readouterr().err.strip() == f"mock-remd generate: --packs {tmp_path / 'nosuch'}: нет такого каталога"


def test_send_progress_never_shows_the_http_library_words() -> None:
    import socket

    from mock_remd.client.admin_client import AdminClient
    from mock_remd.client.outcome import _final_entry

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    doc, seen = _final_entry(AdminClient(f"http://127.0.0.1:{port}", timeout=2), "uid", "urn:uuid:x")
    assert doc is None and seen == f"admin API: the server at 127.0.0.1:{port} refused the connection"


def test_conformance_refusal_is_one_language(capsys) -> None:
    from mock_remd.config import Settings
    from mock_remd.server.threaded import ThreadedServer

    with ThreadedServer(Settings.load({"db_url": "sqlite://", "port": 0}, environ={})) as srv:
        assert main(["conformance", "run", "--url", srv.url, "--system", "nosuch"]) == 2
        russian = capsys.readouterr().err.strip()
        assert main(["conformance", "run", "--url", srv.url, "--system", "nosuch", "--lang", "en"]) == 2
        english = capsys.readouterr().err.strip()
    assert russian == "mock-remd conformance: сервер отказал в прогоне (HTTP 404): система nosuch не найдена — " \
                      "PUT /_admin/systems/{mnemonic} регистрирует систему"
    assert english == "mock-remd conformance: the server refused the run (HTTP 404): system nosuch not found — " \
                      "PUT /_admin/systems/{mnemonic} registers it"


def test_sign_with_junk_key_is_one_sentence_naming_the_option(capsys, tmp_path: Path) -> None:
    from mock_remd.signing.testkeys import test_doctor

    doc = tmp_path / "doc.xml"
    doc.write_bytes(b"<x/>")
    junk, cert = tmp_path / "junk.pem", tmp_path / "c.pem"
    junk.write_bytes(b"junk\x00\x01")
    cert.write_bytes(test_doctor().cert_pem)
    assert main(["sign", str(doc), "--key", str(junk), "--cert", str(cert)]) == 2
    assert capsys.readouterr().err.strip() == \
        "mock-remd sign: --key: это не закрытый ключ ГОСТ Р 34.10-2012 (PKCS#8, PEM или DER)"
    assert main(["sign", str(doc), "--key", str(junk), "--lang", "en"]) == 2
    assert capsys.readouterr().err.strip() == "mock-remd sign: --key and --cert go together"
    assert main(["sign", str(doc)]) == 0
    assert capsys.readouterr().err.strip().startswith(f"{doc}.sig: отсоединённая подпись CMS (base64)")


def test_every_message_takes_the_same_values_in_both_languages() -> None:
    """A stored message (a conformance verdict: key and values) renders in either language, so each template
    pair names the same placeholders."""
    import string

    from mock_remd.catalog.user_messages import MESSAGES, Text, text

    names = string.Formatter()
    differ = {key for key, (ru, en) in MESSAGES.items()
              if {f[1] for f in names.parse(ru) if f[1]} != {f[1] for f in names.parse(en) if f[1]}}
    assert not differ, sorted(differ)
    stored = text("judge.expected", checks=[text("judge.expect.no_resend"),
                                            text("judge.expect.poll", within=text("judge.secs", n="6"))]).as_dict()
    again = Text.from_dict(stored)
    assert again is not None and again.render("en") == \
        "The MIS does not re-send the document; calls searchRegistryItem or getRegistryItem within 6 s."
    assert again.render("ru") == \
        "МИС не отправляет документ повторно; вызывает searchRegistryItem или getRegistryItem в течение 6 с."
    assert Text.from_dict({"key": "judge.gone", "values": {}}) is None  # a key this version lacks: caller falls back


# ---- nsi import: why an export is unusable, in the language of the run --------------------------------
@pytest.mark.parametrize(("name", "text", "ru", "en"), [
    ("codes.tsv", "ID\tNAME\n1\tone\n", "не удалось определить OID справочника", "cannot tell the dictionary OID"),
    ("1.2.643.5.1.13.13.99.2.1.tsv", "ID\tNAME\n1\tone\n", "не удалось определить версию справочника",
     "cannot tell the dictionary version"),
    ("1.2.643.5.1.13.13.99.2.1_v1.0.tsv", "# only a comment\n", "нет строки заголовка", "no header row"),
    ("1.2.643.5.1.13.13.99.2.1_v1.0.json", "{oops", "не является корректным JSON", "not valid JSON"),
    ("1.2.643.5.1.13.13.99.2.1_v1.0.json", '{"list": []}', "в выгрузке JSON нет записей",
     "no records in the JSON export"),
    ("1.2.643.5.1.13.13.99.2.1_v1.0.json", '{"list": [1, 2]}', "запись выгрузки JSON — ни объект",
     "a record of the JSON export is neither"),
    ("1.2.643.5.1.13.13.99.2.1_v1.0.tsv", "ID\tNAME\n\tone\n", "в столбце ID нет кодов", "no codes in column ID"),
])
def test_nsi_import_refusal_in_the_language_of_the_run(capsys, tmp_path, name, text, ru, en) -> None:
    export = tmp_path / name
    export.write_text(text, encoding="utf-8")
    target = str(tmp_path / "nsi")
    assert main(["nsi", "import", "--dir", target, str(export)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"mock-remd nsi import: {export}: {ru}"), err
    assert err.count(name) == 1 and not any(w in err for w in (" the ", " no ", " or ", "cannot", "data rows")), err
    assert main(["nsi", "import", "--dir", target, str(export), "--lang", "en"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"mock-remd nsi import: {export}: {en}") and not cyrillic(err), err


def test_nsi_import_names_the_column_option_in_both_languages(capsys, tmp_path) -> None:
    export = tmp_path / "1.2.643.5.1.13.13.99.2.1_v1.0.tsv"
    export.write_text("ID\tNAME\n1\tone\n", encoding="utf-8")
    assert main(["nsi", "import", "--dir", str(tmp_path / "nsi"), "--code-column", "CODE", str(export)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"mock-remd nsi import: {export}: нет столбца кода CODE (столбцы: ID, NAME)", err
    assert main(["nsi", "import", "--dir", str(tmp_path / "nsi"), "--code-column", "CODE", str(export),
                 "--lang", "en"]) == 1
    assert capsys.readouterr().err.strip() == f"mock-remd nsi import: {export}: no code column CODE (columns: ID, NAME)"


def _broken_nsi_dir(tmp_path: Path, overrides: str) -> Path:
    nsi = tmp_path / "nsi"
    nsi.mkdir()
    (nsi / "overrides.json").write_text(overrides, encoding="utf-8")
    (nsi / "1.2.643.5.1.13.13.99.2.1_v1.0.json").write_text('{"format": "mock-remd-nsi/1"}', encoding="utf-8")
    (nsi / "1.2.643.5.1.13.13.99.2.2_v1.0.json").write_text("{oops", encoding="utf-8")
    (nsi / "1.2.643.5.1.13.13.99.2.3_v1.0.tsv").write_text("# only a comment\n", encoding="utf-8")
    return nsi


@pytest.mark.parametrize(("overrides", "ru", "en"), [
    ("[1]", "переопределения НСИ должны сопоставлять каждому OID объект", "NSI overrides must map each OID to an object"),
    ("{oops", "не является корректным JSON (строка 1, позиция 2)", "not valid JSON (line 1, column 2)"),
], ids=["overrides-shape", "overrides-json"])
def test_nsi_list_unreadable_files_in_the_language_of_the_run(capsys, tmp_path, overrides, ru, en) -> None:
    nsi = str(_broken_nsi_dir(tmp_path, overrides))
    assert main(["nsi", "list", "--dir", nsi]) == 0
    err = capsys.readouterr().err
    for line in ("не читается: 1.2.643.5.1.13.13.99.2.1_v1.0.json: файл словаря повреждён",
                 "не читается: 1.2.643.5.1.13.13.99.2.2_v1.0.json: не является корректным JSON (строка 1, позиция 2)",
                 "не читается: 1.2.643.5.1.13.13.99.2.3_v1.0.tsv: нет строки заголовка"):
        assert line in err, err
    assert "не читается: overrides.json: " in err and ru in err, err
    assert main(["nsi", "list", "--dir", nsi, "--lang", "en"]) == 0
    err = capsys.readouterr().err
    assert not cyrillic(err), err
    for line in ("unreadable: 1.2.643.5.1.13.13.99.2.1_v1.0.json: the dictionary file is damaged",
                 "unreadable: 1.2.643.5.1.13.13.99.2.3_v1.0.tsv: no header row"):
        assert line in err, err
    assert "unreadable: overrides.json: " in err and en in err, err
    assert main(["nsi", "list", "--dir", nsi, "--lang", "en", "--format", "json"]) == 0
    errors = json.loads(capsys.readouterr().out)["errors"]
    assert errors["1.2.643.5.1.13.13.99.2.3_v1.0.tsv"] == "no header row" and not cyrillic(json.dumps(errors))


def test_nsi_import_with_broken_overrides_says_why(capsys, tmp_path) -> None:
    nsi = _broken_nsi_dir(tmp_path, "[1]")
    export = tmp_path / "1.2.643.5.1.13.13.99.2.1_v1.0.tsv"
    export.write_text("ID\tNAME\n1\tone\n", encoding="utf-8")
    assert main(["nsi", "import", "--dir", str(nsi), str(export), "--lang", "en"]) == 1
    assert capsys.readouterr().err.strip() == \
        f"mock-remd nsi import: {export}: NSI overrides must map each OID to an object"


# ---- the xml layer: the registry's Russian sentence, no library words -----------------------------------
@pytest.mark.parametrize(("content", "options", "rule", "sentence"), [
    (b'<?xml version="1.0" encoding="UTF-8"?><ClinicalDocument>\xe9t\xe9</ClinicalDocument>', {}, "xml-encoding",
     "Ошибка валидации СЭМД: документ не в кодировке UTF-8 (байт 56)"),
    (b"<ClinicalDocument>" + b" " * 200 + b"</ClinicalDocument>", {"max_document_bytes": 100}, "xml-unsafe",
     "Ошибка валидации СЭМД: XML размером 237 байт больше допустимых 100 байт"),
    (b'<!DOCTYPE x [<!ENTITY e "x">]><ClinicalDocument>&e;</ClinicalDocument>', {}, "xml-unsafe",
     "Ошибка валидации СЭМД: объявления DOCTYPE не допускаются"),
])
def test_xml_layer_findings_are_one_language(content, options, rule, sentence) -> None:
    from mock_remd.validation.caches import ValidationCaches
    from mock_remd.validation.context import DocumentContext, ValidationSettings
    from mock_remd.validation.layers.xml_layer import XmlLayer

    settings = ValidationSettings(options=options)
    report = XmlLayer(settings).run(DocumentContext(content=content, settings=settings,
                                                   caches=ValidationCaches()))
    (finding,) = report.findings
    assert (finding.rule, finding.message) == (rule, sentence)
