"""The built-in scenarios as a user reads them (issue 13): descriptions without trailing newlines, one Russian
term for the callback, and the dashboard's button next to each one offers what it would do."""

from __future__ import annotations

import re

import pytest
from conftest import unbound_app


@pytest.fixture(scope="module")
def client():
    """Flask's test client of a server with the committed scenarios folder (no socket needed)."""
    with unbound_app() as app:
        yield app.admin.test_client()


def test_descriptions_are_trimmed_and_say_obratny_vyzov(client):
    items = client.get("/_admin/scenarios").json["items"]
    assert len(items) >= 20
    for s in items:
        for key in ("description", "description_ru"):
            assert s[key] == s[key].strip(), (s["name"], key, s[key][-5:])
        assert not re.search("ответн", s["description_ru"], re.IGNORECASE), s["name"]
    lost = next(s for s in items if s["name"] == "callback-lost")
    assert lost["description_ru"].startswith("Обратный вызов с результатом не приходит никогда")


def _button(html: str, name: str) -> str:
    row = re.search(rf'<tr class="scn-row[^"]*" data-name="{re.escape(name)}">.*?</tr>', html, re.S)
    assert row, name
    buttons = re.findall(r"<button[^>]*>[^<]*</button>", row.group(0))
    assert len(buttons) == 1, buttons
    return buttons[0]


def test_active_scenario_offers_deactivate_not_activate(client):
    assert client.put("/_admin/scenarios/active", json={"names": ["callback-late", "callback-lost"]}).status_code == 200
    try:
        html = client.get("/scenarios").text
        assert re.search(r'class="[^"]*deactivate-one"[^>]*>Выключить<', _button(html, "callback-late"))
        assert re.search(r'class="[^"]*activate-one"[^>]*>Включить<', _button(html, "happy-path"))
        # the button takes that scenario (only) out of the set for all systems
        resp = client.post("/_admin/ui/scenarios/activate", data={"off": "callback-late", "system": ""})
        assert resp.status_code == 303
        assert client.get("/_admin/scenarios").json["active"] == {"*": ["callback-lost"]}
        assert ">Включить<" in _button(client.get("/scenarios").text, "callback-late")
    finally:
        client.delete("/_admin/scenarios/active")


def test_scenario_active_for_one_system_offers_deactivate_and_leaves_other_sets(client):
    """Active for one system only (and another one for all systems): its row offers «Выключить», which
    takes it out of that system's set and leaves the set for all systems alone."""
    assert client.put("/_admin/scenarios/active", json={"names": ["callback-late", "callback-lost"],
                                                        "system": "demo"}).status_code == 200
    assert client.put("/_admin/scenarios/active", json={"names": ["callback-lost"]}).status_code == 200
    try:
        assert re.search(r'class="[^"]*deactivate-one"[^>]*>Выключить<',
                         _button(client.get("/scenarios").text, "callback-late"))
        resp = client.post("/_admin/ui/scenarios/activate", data={"off": "callback-late"})
        assert resp.status_code == 303
        assert client.get("/_admin/scenarios").json["active"] == {"*": ["callback-lost"], "demo": ["callback-lost"]}
        # taken out of the last set it was in: that system's set goes away, the row offers «Включить»
        client.post("/_admin/ui/scenarios/activate", data={"off": "callback-lost"})
        assert client.get("/_admin/scenarios").json["active"] == {}
        assert ">Включить<" in _button(client.get("/scenarios").text, "callback-lost")
    finally:
        client.delete("/_admin/scenarios/active")
        client.delete("/_admin/scenarios/active?system=demo")


def test_unknown_scenario_from_the_page_is_refused_on_the_page(client):
    resp = client.post("/_admin/ui/scenarios/activate", data={"only": "no-such-scenario"})
    assert resp.status_code == 400
    assert 'id="scn-lint"' in resp.text and "no-such-scenario" in resp.text
    assert client.get("/_admin/scenarios").json["active"] == {}
