"""Help of every command in one language (issue 13): Russian by default, English with --lang en, given
before or after the subcommand; argparse's own words and errors follow."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from mock_remd.cli.help_texts import RU, help_texts
from mock_remd.cli.main import build_parser, main

CYRILLIC = re.compile("[А-Яа-яЁё]")


def _commands(parser, prefix=()):
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, child in action.choices.items():
                yield (*prefix, name)
                yield from _commands(child, (*prefix, name))


COMMANDS = [(), *_commands(build_parser("en"))]


def test_every_help_text_has_its_russian_rendering() -> None:
    english = help_texts(build_parser("en"))
    missing = [t for t in english if t not in RU]
    assert not missing, "help texts without a Russian rendering in mock_remd/cli/help_texts.py RU:\n" + "\n".join(missing)
    assert not [t for t in english if CYRILLIC.search(t)], "English help with Cyrillic words"
    russian = help_texts(build_parser("ru"))
    assert not [t for t in russian if not CYRILLIC.search(t)], "Russian help left in English"
    assert not [t for t in RU if t not in english and t not in ("positional arguments", "options",
                                                                "show this help message and exit")], \
        "Russian renderings of help texts nobody uses any more"


def _help(capsys, argv: list[str]) -> str:
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert not err
    return out


@pytest.mark.parametrize("words", COMMANDS, ids=lambda w: " ".join(w) or "mock-remd")
def test_help_in_russian_by_default_and_english_on_request(capsys, words: tuple[str, ...]) -> None:
    ru = _help(capsys, [*words, "--help"])
    assert ru.startswith("использование: mock-remd") and "параметры:" in ru
    assert "показать эту справку и выйти" in ru and "usage:" not in ru and "options:" not in ru
    for en in (_help(capsys, [*words, "--help", "--lang", "en"]), _help(capsys, ["--lang", "en", *words, "--help"]),
               _help(capsys, [*words, "--lang=en", "--help"])):
        assert en.startswith("usage: mock-remd") and "options:" in en
        assert not CYRILLIC.search(en), en
    for text in (ru, en):
        assert "``" not in text and "CONTRACT" not in text


def test_help_from_the_installed_command(tmp_path) -> None:
    exe = [sys.executable, "-m", "mock_remd"]
    ru = subprocess.run([*exe, "send", "--help"], capture_output=True, text=True, timeout=60)
    en = subprocess.run([*exe, "--lang", "en", "send", "--help"], capture_output=True, text=True, timeout=60)
    assert ru.returncode == 0 and "Зарегистрировать файл СЭМД в запущенном mock-remd" in ru.stdout
    assert en.returncode == 0 and "Register a SEMD file with a running mock-remd" in en.stdout
    assert not CYRILLIC.search(en.stdout)


def test_option_errors_in_the_language_of_the_run(capsys) -> None:
    assert main(["validate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("использование: mock-remd validate")
    assert err.strip().endswith("mock-remd validate: ошибка: не указаны обязательные аргументы: FILE")
    assert main(["validate", "x.xml", "--format", "yaml"]) == 2
    assert "аргумент --format: недопустимое значение 'yaml' (допустимы: 'text', 'json', 'junit')" in \
        capsys.readouterr().err
    assert main(["send", "x.xml", "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "error: the following arguments are required: --url, --system" in err and not CYRILLIC.search(err)


@pytest.mark.parametrize(("argv", "usage", "error"), [
    (["wait", "--url", "x"], "использование: mock-remd wait ", "mock-remd wait: ошибка: неизвестные аргументы: --url"),
    (["nsi", "list", "--bogus", "--lang", "en"], "usage: mock-remd nsi list ",
     "mock-remd nsi list: error: unrecognized arguments: --bogus"),
    (["--bogus"], "использование: mock-remd [", "mock-remd: ошибка: неизвестные аргументы: --bogus"),
], ids=["wait", "nsi-list-en", "top"])
def test_unknown_option_gets_the_usage_of_its_subcommand(capsys, argv, usage, error) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(usage) and err.strip().endswith(error), err
