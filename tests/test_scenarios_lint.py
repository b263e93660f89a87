"""``mock-remd scenarios lint``: every mistake with file, line and key; the server refuses the same."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from scenario_harness import running_mock

from mock_remd.catalog.user_messages import render
from mock_remd.cli.main import main
from mock_remd.scenarios.lint import compile_text

LIBRARY = Path(__file__).resolve().parent.parent / "scenarios"

BROKEN = """\
name: broken
descripton: typo in a top-level key
rules:
  - match:
      operation: registerDocument
      colour: red
      nth: two
      probability: 1.5
      local_uid: "[unclosed"
      patient_snils: "123"
    sync:
      errors: [{code: NO_SUCH_CODE}]
      drop: explode
  - match: {kind: 119}
    callback:
      repeat: "twice"
      skip: maybe
      status: done
      errors: [{code: ALSO_NOT_A_CODE, message: 5}]
      wait: 10
    extra: 1
"""


def issues_of(text: str) -> list[tuple[int | None, str, str]]:
    scenario, issues = compile_text(text, filename="f.yaml")
    assert scenario is None or not issues
    return [(i.line, i.key, render("en", i.message)) for i in issues]


def test_every_mistake_with_its_line_and_key():
    found = issues_of(BROKEN)
    where = {(line, key) for line, key, _ in found}
    assert (2, "descripton") in where
    assert (6, "rules[1].match.colour") in where
    assert (7, "rules[1].match.nth") in where
    assert (8, "rules[1].match.probability") in where
    assert (9, "rules[1].match.local_uid") in where
    assert (10, "rules[1].match.patient_snils") in where
    assert (12, "rules[1].sync.errors[1].code") in where
    assert (13, "rules[1].sync.drop") in where
    assert (16, "rules[2].callback.repeat") in where
    assert (17, "rules[2].callback.skip") in where
    assert (18, "rules[2].callback.status") in where
    assert (19, "rules[2].callback.errors[1].code") in where
    assert (19, "rules[2].callback.errors[1].message") in where
    assert (20, "rules[2].callback.wait") in where
    assert (21, "rules[2].extra") in where
    messages = {key: msg for _, key, msg in found}
    assert "unknown key 'colour'" in messages["rules[1].match.colour"]
    assert "expected a whole number, got str 'two'" == messages["rules[1].match.nth"]
    assert "not a valid regular expression '[unclosed'" in messages["rules[1].match.local_uid"]
    assert "unknown error code 'NO_SUCH_CODE'" in messages["rules[1].sync.errors[1].code"]
    assert "errors and drop each replace the answer" in messages["rules[1].sync"]


@pytest.mark.parametrize(
    ("text", "line", "key", "fragment"),
    [
        ("name: x\nrules: [{sync: {delay_ms: -1}}]\n", 2, "rules[1].sync.delay_ms", "between 0 and 110000"),
        ("name: x\nrules: [{sync: {http_status: 99}}]\n", 2, "rules[1].sync.http_status", "between 200 and 599"),
        ("name: x\nrules: [{sync: {fault: {code: Oops}}}]\n", 2, "rules[1].sync.fault.code", "Sender or Receiver"),
        ("name: x\nrules: [{sync: {fault: Receiver}}]\n", 2, "rules[1].sync.fault", "expected a mapping"),
        ("name: x\nrules: [{sync: {errors: RATE_LIMIT}}]\n", 2, "rules[1].sync.errors", "expected a list"),
        ("name: x\nrules: [{match: {operation: register}, sync: {http_status: 503}}]\n", 2,
         "rules[1].match.operation", "unknown operation 'register'"),
        ("name: x\nrules: [{match: {operation: getRegistryItem}, callback: {skip: true}}]\n", 2,
         "rules[1].callback", "has no result callback"),
        ("name: x\nrules: [{match: {attempt: 0}, sync: {http_status: 503}}]\n", 2, "rules[1].match.attempt", "at least 1"),
        ("name: x\nrules: [{callback: {status: success, errors: [RATE_LIMIT]}}]\n", 2, "rules[1].callback.errors",
         "cannot carry errors"),
        ("name: x\nrules: [{callback: {fremd: {status: maybe}}}]\n", 2, "rules[1].callback.fremd.status",
         "success or error"),
        ("name: x\nrules: [{match: {nth: 1}}]\n", 2, "rules[1]", "changes nothing"),
        ("name: x\nrules: []\n", 2, "rules", "empty"),
        ("name: x\nseed: abc\nrules: [{sync: {http_status: 503}}]\n", 2, "seed", "whole number"),
        ("name: x\ndescription_ru: [a]\nrules: [{sync: {http_status: 503}}]\n", 2, "description_ru", "expected"),
        ("name: has space\nrules: [{sync: {http_status: 503}}]\n", 1, "name", "no spaces"),
        ("rules: [{sync: {http_status: 503}}]\n", 1, "name", "needs a name"),
        ("name: x\nname: y\nrules: [{sync: {http_status: 503}}]\n", 2, "name", "given twice"),
        ("name: x\nrules:\n  - sync: {http_status: 503\n", 4, "", "not valid YAML"),
        ("- just\n- a list\n", 1, "", "expected a scenario"),
        ("name: a\nrules: [{sync: {http_status: 503}}]\n---\nname: b\n", 4, "", "several YAML documents"),
    ],
)
def test_single_mistakes(text, line, key, fragment):
    found = issues_of(text)
    assert any(i_line == line and i_key == key and fragment in msg for i_line, i_key, msg in found), found


def test_the_library_is_valid_and_large_enough(capsys):
    assert main(["scenarios", "lint", str(LIBRARY)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("сценариев: ") and out.rstrip().endswith(", все без ошибок")
    assert int(out.split()[1].rstrip(",")) >= 15
    assert main(["scenarios", "lint", str(LIBRARY), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert int(out.split()[0]) >= 15 and out.rstrip().endswith(" scenario(s), all valid")


def test_every_library_scenario_is_described_in_both_languages():
    for path in sorted(LIBRARY.glob("*.yaml")):
        scenario, issues = compile_text(path.read_text(encoding="utf-8"), filename=path.name)
        assert scenario is not None and not issues, issues
        assert scenario.description and scenario.description_ru, path.name
        assert scenario.summary()["description_ru"] == scenario.description_ru


def test_cli_reports_file_line_key_and_exits_1(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BROKEN, encoding="utf-8")
    good = tmp_path / "good.yaml"
    good.write_text("name: good\nrules: [{sync: {http_status: 503}}]\n", encoding="utf-8")
    assert main(["scenarios", "lint", str(good)]) == 0
    capsys.readouterr()
    assert main(["scenarios", "lint", str(good), str(bad)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert f"{bad}:7: rules[1].match.nth: ожидалось целое число, а указано: str 'two'" in out
    assert all(line.startswith(str(bad)) for line in out)
    assert not any(re.search(r"\b(expected|unknown key|got|given twice)\b", line) for line in out), out
    assert main(["scenarios", "lint", str(good), str(bad), "--lang", "en"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert f"{bad}:7: rules[1].match.nth: expected a whole number, got str 'two'" in out
    assert not any(re.search("[а-яё]", line, re.IGNORECASE) for line in out), out
    assert main(["scenarios", "lint", "--format", "json", str(bad)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False and {"file", "line", "key", "message"} <= set(report["issues"][0])
    assert main(["scenarios", "lint", str(tmp_path / "missing.yaml")]) == 1


def test_cli_reports_a_name_used_twice(tmp_path, capsys):
    for n in (1, 2):
        (tmp_path / f"s{n}.yaml").write_text("name: same\nrules: [{sync: {http_status: 503}}]\n", encoding="utf-8")
    assert main(["scenarios", "lint", str(tmp_path)]) == 1
    assert "уже занято" in capsys.readouterr().out


def test_cli_list(capsys):
    assert main(["scenarios", "list", str(LIBRARY)]) == 0
    out = capsys.readouterr().out
    assert "chaos" in out and "fremd-two-phase" in out


def test_server_refuses_an_invalid_upload_with_the_same_messages():
    _, lint_issues = compile_text(BROKEN, filename="upload")
    with running_mock() as h:
        resp = h.upload(BROKEN)
        assert resp.status_code == 400
        body = resp.json()
        assert body["error"] == "сценарий содержит ошибки"
        assert [d["text"] for d in body["detail"]] == [i.render("ru") for i in lint_issues]
        assert "неизвестный ключ 'colour'" in " ".join(d["message"] for d in body["detail"])
        english = h.api("POST", "/scenarios", data=BROKEN.encode(),
                        headers={"Content-Type": "application/yaml", "Accept-Language": "en"}).json()
        assert [d["text"] for d in english["detail"]] == [i.render("en") for i in lint_issues]
        assert not re.search("[а-яё]", json.dumps(english["detail"], ensure_ascii=False), re.IGNORECASE)
        assert any(d["line"] == 7 and d["key"] == "rules[1].match.nth" for d in body["detail"])
        names = [i["name"] for i in h.api("GET", "/scenarios").json()["items"]]
        assert "broken" not in names
        resp = h.upload('{"name": "j", "rules": [{"sync": {"drop": "boom"}}]}', "application/json")
        assert resp.status_code == 400 and resp.json()["detail"][0]["key"] == "rules[1].sync.drop"
        assert h.upload("").status_code == 400


def test_dashboard_lint_errors_follow_the_page_language(tmp_path):
    """The scenarios page shows a refused upload's issues in the page's language (one language per line)."""
    from mock_remd.admin.dashboard.scenarios_view import error_text
    from mock_remd.scenarios.engine import ScenarioEngine, ScenarioError
    from mock_remd.store.repository import Store

    engine = ScenarioEngine(Store(f"sqlite:///{tmp_path / 'db.sqlite'}"))
    with pytest.raises(ScenarioError) as refused:
        engine.upload(BROKEN)
    head_ru, lines_ru = error_text(refused.value, "ru")
    head_en, lines_en = error_text(refused.value, "en")
    assert head_ru == "сценарий содержит ошибки" and len(lines_ru) == len(lines_en) > 5
    assert any("ожидалось целое число, а указано: str 'two'" in line for line in lines_ru)
    assert any("expected a whole number, got str 'two'" in line for line in lines_en)
    assert not any(re.search("[а-яё]", line, re.IGNORECASE) for line in lines_en), lines_en
