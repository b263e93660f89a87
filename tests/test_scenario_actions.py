"""One declaration of each scenario action (mock_remd/domain/actions.py) drives the engine's fields, the
linter, the OpenAPI schema and docs/scenarios.md: these tests hold each of them to the table.

The OpenAPI schema is checked with ``jsonschema`` (another implementation than our linter) against
every scenario of the library and against one right and one wrong value of every action."""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from mock_remd.admin.openapi import openapi_document
from mock_remd.domain.actions import ACTIONS, BLOCKS, Action, actions_of, keys_of, markdown_table
from mock_remd.domain.behaviour import CallbackBehaviour, SyncBehaviour
from mock_remd.scenarios.lint import compile_text

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "scenarios.md"
LIBRARY = ROOT / "scenarios"
ENGINE = {"sync": SyncBehaviour, "callback": CallbackBehaviour}


def good_value(a: Action):
    """A value the action takes."""
    if a.kind == "integer":
        return a.high if a.high is not None else a.low
    if a.kind == "choice":
        return a.choices[-1]
    return {"boolean": True, "text": "urn:uuid:x", "errors": [{"code": "RATE_LIMIT"}, "VALIDATION_ERROR"],
            "fault": {"code": "Sender.Busy", "reason": "busy"}, "block": {"skip": True}}[a.kind]


def bad_value(a: Action):
    """A value the action refuses."""
    if a.kind == "integer":
        return (a.high + 1) if a.high is not None else a.low - 1
    return {"boolean": "maybe", "text": ["x"], "choice": "nope", "errors": "RATE_LIMIT", "fault": "Receiver",
            "block": "skip"}[a.kind]


def rule_with(a: Action, value) -> dict:
    body: dict = {a.key: value}
    for part in reversed(a.block.split(".")):
        body = {part: body}
    return body


def scenario_with(a: Action, value) -> dict:
    return {"name": "x", "rules": [rule_with(a, value)]}


def test_every_engine_field_is_one_action_and_every_action_an_engine_field():
    for block, cls in ENGINE.items():
        assert sorted(keys_of(block)) == sorted(f.name for f in dataclasses.fields(cls)), block
    assert set(BLOCKS) == {a.block for a in ACTIONS}
    assert len({(a.block, a.key) for a in ACTIONS}) == len(ACTIONS)
    for a in ACTIONS:
        if a.kind == "block":
            assert a.nested in BLOCKS and actions_of(a.nested)


def test_exclusive_actions_replace_the_synchronous_answer():
    for a in actions_of("sync"):
        if a.exclusive:
            assert SyncBehaviour(**{a.key: good_value(a)}).replaces_answer, a.key


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: f"{a.block}.{a.key}")
def test_the_linter_takes_what_the_table_says_and_the_engine_carries_it(action):
    text = yaml.safe_dump(scenario_with(action, good_value(action)))
    scenario, issues = compile_text(text)
    assert scenario is not None and not issues, issues
    behaviour = scenario.rules[0].behaviour({})
    top = action.block.split(".")[0]
    carried = getattr(getattr(behaviour, top), action.key if top == action.block else "fremd")
    assert carried is not None and carried != getattr(ENGINE[top](), action.key if top == action.block else "fremd")

    scenario, issues = compile_text(yaml.safe_dump(scenario_with(action, bad_value(action))))
    assert scenario is None
    assert [i.key for i in issues] == [f"rules[1].{action.block}.{action.key}"], issues


def test_the_docs_tables_are_the_table():
    text = DOCS.read_text(encoding="utf-8")
    for block in BLOCKS:
        m = re.search(rf"<!-- actions:{re.escape(block)} -->\n(.*?)<!-- /actions:{re.escape(block)} -->", text, re.S)
        assert m, f"docs/scenarios.md has no table for {block} (markers <!-- actions:{block} -->)"
        assert m.group(1) == markdown_table(block), (
            f"docs/scenarios.md: the {block} table differs from mock_remd/domain/actions.py; "
            "run .venv/bin/python scripts/make_scenario_docs.py")
        for a in actions_of(block):
            assert f"| `{a.key}` |" in m.group(1)


@pytest.fixture(scope="module")
def scenario_validator():
    """A jsonschema validator of the ``Scenario`` schema as /_admin/openapi.json serves it."""
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test dependency (pip install -e '.[test]')")
    doc = openapi_document("http://127.0.0.1")
    body = doc["paths"]["/_admin/scenarios"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Scenario"}
    schema = {**copy.deepcopy(doc["components"]["schemas"]["Scenario"]), "components": doc["components"]}
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_openapi_schema_has_every_action(scenario_validator):
    schemas = openapi_document("http://127.0.0.1")["components"]["schemas"]
    names = {"sync": "ScenarioSync", "callback": "ScenarioCallback", "callback.fremd": "ScenarioFremd"}
    for block, name in names.items():
        assert tuple(schemas[name]["properties"]) == keys_of(block)


def test_every_library_scenario_fits_the_openapi_schema(scenario_validator):
    files = sorted(LIBRARY.glob("*.yaml"))
    assert len(files) >= 15
    for path in files:
        errors = [e.message for e in scenario_validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))]
        assert not errors, (path.name, errors)


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: f"{a.block}.{a.key}")
def test_the_openapi_schema_and_the_linter_agree(action, scenario_validator):
    assert scenario_validator.is_valid(scenario_with(action, good_value(action)))
    assert not scenario_validator.is_valid(scenario_with(action, bad_value(action)))
    assert not scenario_validator.is_valid({"name": "x", "rules": [rule_with(action, good_value(action)) | {
        "sync": {"no_such_action": 1}}]})
