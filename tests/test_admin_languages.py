"""Every admin API refusal in the client's language (issue 13): Accept-Language en gives English with no
Cyrillic, ru (and no header) gives Russian. Walked over a real server with real sockets."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from mock_remd.config import Settings
from mock_remd.server.threaded import ThreadedServer

CYRILLIC = re.compile("[А-Яа-яЁё]")
SYSTEM = {"client_entity_id": "21111111-2222-4333-8444-555555555555", "callback_url": "http://127.0.0.1:9/cb"}

#: (method, path, keyword arguments of requests, expected status); each is a refusal of the admin API
CALLS: list[tuple[str, str, dict[str, Any], int]] = [
    ("GET", "/_admin/systems/nosuch", {}, 404),
    ("DELETE", "/_admin/systems/nosuch", {}, 404),
    ("PUT", "/_admin/systems/x", {"data": "not json", "headers": {"Content-Type": "text/plain"}}, 400),
    ("PUT", "/_admin/systems/x", {"json": [1]}, 400),
    ("PUT", "/_admin/systems/x", {"json": {"callback_url": "http://h/"}}, 400),
    ("PUT", "/_admin/systems/x", {"json": {**SYSTEM, "colour": "red"}}, 400),
    ("PUT", "/_admin/systems/x", {"json": {**SYSTEM, "mnemonic": "y"}}, 400),
    ("PUT", "/_admin/systems/x", {"json": {**SYSTEM, "enabled": "yes"}}, 400),
    ("PUT", "/_admin/systems/x", {"json": {**SYSTEM, "organizations": 5}}, 400),
    ("PUT", "/_admin/systems/x", {"json": {**SYSTEM, "callback_soap_version": "2"}}, 400),
    ("PUT", "/_admin/systems/x", {"json": {**SYSTEM, "callback_url": "ftp://x"}}, 400),
    ("PUT", "/_admin/systems/x", {"json": {**SYSTEM, "callback_url": "http://u:p@h/"}}, 400),
    ("PUT", "/_admin/systems/x", {"json": {**SYSTEM, "callback_url": "http://h:0/"}}, 400),
    ("PUT", "/_admin/systems/x", {"json": {**SYSTEM, "callback_url": "http://h /"}}, 400),
    ("PUT", "/_admin/systems/x", {"json": {**SYSTEM, "callback_url": "http:///x"}}, 400),
    ("PUT", "/_admin/systems/x", {"json": {**SYSTEM, "client_entity_id": "00000000-0000-4000-8000-000000000001"}}, 409),
    ("GET", "/_admin/requests", {"params": {"limit": "abc"}}, 400),
    ("GET", "/_admin/requests", {"params": {"limit": "0"}}, 400),
    ("GET", "/_admin/requests", {"params": {"offset": "-1"}}, 400),
    ("GET", "/_admin/requests", {"params": {"system": "a\x00b"}}, 400),
    ("GET", "/_admin/documents", {"params": {"status": "lost"}}, 400),
    ("GET", "/_admin/documents/nosuch", {}, 404),
    ("GET", "/_admin/documents/nosuch/content", {}, 404),
    ("POST", "/_admin/documents", {"json": []}, 400),
    ("POST", "/_admin/documents", {"json": [1]}, 400),
    ("POST", "/_admin/documents", {"json": [{"local_uid": "a"}]}, 400),
    ("POST", "/_admin/documents", {"json": [{"local_uid": "a", "kind": "119", "organization": "1.2",
                                            "registration_date_time": "2025-01-01T00:00:00+03:00", "x": 1}]}, 400),
    ("POST", "/_admin/documents", {"json": [{"local_uid": "a", "kind": "119", "organization": "1.2",
                                            "registration_date_time": "yesterday"}]}, 400),
    ("POST", "/_admin/documents", {"json": [{"local_uid": "a", "kind": "119", "organization": "1.2",
                                            "registration_date_time": "2025-01-01T00:00:00"}]}, 400),
    ("POST", "/_admin/documents", {"json": [{"local_uid": "a" * 200, "kind": "119", "organization": "1.2",
                                            "registration_date_time": "2025-01-01T00:00:00+03:00"}]}, 400),
    ("POST", "/_admin/documents", {"json": [{"local_uid": "a", "kind": "119", "organization": "1.2",
                                            "registration_date_time": "2025-01-01T00:00:00+03:00"}] * 2}, 409),
    ("GET", "/_admin/callbacks", {"params": {"status": "gone"}}, 400),
    ("GET", "/_admin/callbacks/999999", {}, 404),
    ("POST", "/_admin/callbacks/999999/redeliver", {}, 404),
    ("GET", "/_admin/kinds/99999", {}, 404),
    ("GET", "/_admin/scenarios/nosuch", {}, 404),
    ("DELETE", "/_admin/scenarios/nosuch", {}, 404),
    ("POST", "/_admin/scenarios", {"data": ""}, 400),
    ("POST", "/_admin/scenarios", {"data": "name: x\nrules: 5\n"}, 400),
    ("POST", "/_admin/scenarios", {"data": "x" * (1024 * 1024 + 1)}, 413),
    ("PUT", "/_admin/scenarios/active", {"json": {"nothing": 1}}, 400),
    ("PUT", "/_admin/scenarios/active", {"json": {"names": [1]}}, 400),
    ("PUT", "/_admin/scenarios/active", {"json": {"names": ["nosuch"]}}, 404),
    ("PUT", "/_admin/scenarios/active", {"json": {"names": ["callback-late", "callback-late"]}}, 400),
    ("PUT", "/_admin/scenarios/active", {"json": {"names": ["callback-late"], "system": "nosuch"}}, 404),
    ("POST", "/_admin/conformance/runs", {"data": "x", "headers": {"Content-Type": "text/plain"}}, 400),
    ("POST", "/_admin/conformance/runs", {"json": [1]}, 400),
    ("POST", "/_admin/conformance/runs", {"json": {"plan": "mis-basic"}}, 400),
    ("POST", "/_admin/conformance/runs", {"json": {"system": "nosuch"}}, 404),
    ("POST", "/_admin/conformance/runs", {"json": {"system": "demo", "plan": "nosuch"}}, 404),
    ("POST", "/_admin/conformance/runs", {"json": {"system": "demo", "plan_yaml": 5}}, 400),
    ("POST", "/_admin/conformance/runs", {"json": {"system": "demo", "plan_yaml": "name: p\nsteps: 1\n"}}, 400),
    ("POST", "/_admin/conformance/runs", {"json": {"system": "demo", "step_timeout_s": -1}}, 400),
    ("POST", "/_admin/conformance/runs", {"json": {"system": "demo", "step_timeout_s": 0}}, 400),
    ("GET", "/_admin/conformance/runs", {"params": {"state": "odd"}}, 400),
    ("GET", "/_admin/conformance/runs", {"params": {"limit": "many"}}, 400),
    ("GET", "/_admin/conformance/runs/nosuch", {}, 404),
    ("DELETE", "/_admin/conformance/runs/nosuch", {}, 404),
    ("GET", "/_admin/no-such-route", {}, 404),
    ("PATCH", "/_admin/systems", {}, 405),
]


def _messages(body: Any) -> list[str]:
    """Every string of the answer but the values the client sent back to it (parameter names, ids)."""
    if isinstance(body, dict):
        return [m for k, v in body.items() if k not in ("parameter", "content_length", "unknown", "known", "plans")
                for m in _messages(v)]
    if isinstance(body, list):
        return [m for v in body for m in _messages(v)]
    return [body] if isinstance(body, str) else []


@pytest.fixture(scope="module")
def srv():
    with ThreadedServer(Settings.load({"db_url": "sqlite://", "port": 0}, environ={})) as server:
        yield server


@pytest.mark.parametrize("lang", ["en", "ru", None])
def test_every_admin_refusal_follows_accept_language(srv, lang: str | None) -> None:
    headers = {"Accept-Language": {"en": "en-GB,en;q=0.9", "ru": "ru-RU,ru;q=0.9,en;q=0.5"}[lang]} if lang else {}
    wrong = []
    for method, path, kwargs, status in CALLS:
        kw = dict(kwargs)
        kw["headers"] = {**headers, **kw.get("headers", {})}
        resp = requests.request(method, srv.url + path, timeout=30, **kw)
        assert resp.status_code == status, (method, path, kwargs, resp.status_code, resp.text[:300])
        body = resp.json()
        error = body["error"]
        assert isinstance(error, str) and error, (path, body)
        texts = [error, *_messages(body.get("detail"))]
        if lang == "en":
            bad = [t for t in texts if CYRILLIC.search(t)]
        else:  # Russian by default: the sentence itself is Russian
            bad = [] if CYRILLIC.search(error) else [error]
        if bad:
            wrong.append((method, path, str(kwargs)[:80], bad))
    assert not wrong, "\n".join(map(str, wrong))


def test_detail_of_an_invalid_system_is_in_the_language_asked(srv) -> None:
    body = {**SYSTEM, "callback_url": "ftp://x"}
    en = requests.put(f"{srv.url}/_admin/systems/x", json=body, headers={"Accept-Language": "en"}).json()
    assert en == {"error": "invalid system description",
                  "detail": "callback_url: an http:// or https:// address is expected, got 'ftp://x'"}
    ru = requests.put(f"{srv.url}/_admin/systems/x", json=body).json()
    assert ru == {"error": "неверное описание системы",
                  "detail": "callback_url: ожидается адрес http:// или https://, получено 'ftp://x'"}


def test_missing_admin_token_in_both_languages(make_server) -> None:
    srv = make_server(admin_token="s3cret")
    en = requests.get(f"{srv.url}/_admin/systems", headers={"Accept-Language": "en"}, timeout=10)
    assert en.status_code == 401 and en.json()["error"] == "the admin token is required"
    ru = requests.get(f"{srv.url}/_admin/systems", timeout=10)
    assert ru.status_code == 401 and ru.json()["error"] == "нужен токен администратора"


# ---- dashboard: the validate page's refusals and the signature labels in the UI language ----------------
def test_dashboard_validate_refusal_and_signature_labels_follow_the_ui_language(srv, examples_dir) -> None:
    from remd_requests import register, register_request

    document = (examples_dir / "consultation-119-valid.xml").read_bytes()
    pages = {}
    for lang in ("ru", "en"):
        resp = requests.post(f"{srv.url}/validate", cookies={"mock_remd_lang": lang}, timeout=60,
                             files={"document": ("doc.xml", document), "request": ("req.xml", b"<not xml")})
        assert resp.status_code == 400
        pages[lang] = resp.text
    assert "Запрос не прочитан: файл запроса не является корректным XML (строка 1)" in pages["ru"]
    assert "The request could not be read: the request file is not well-formed XML (line 1)" in pages["en"]
    alert = pages["en"].split('id="val-error">', 1)[1].split("</p>", 1)[0]
    assert not CYRILLIC.search(alert), alert

    _, req = register(srv, register_request())
    ru = requests.get(f"{srv.url}/documents/{req.local_uid}", timeout=30).text
    en = requests.get(f"{srv.url}/documents/{req.local_uid}", cookies={"mock_remd_lang": "en"}, timeout=30).text
    assert "<tr><td>ЭП сотрудника (СНИЛС" in ru
    assert "<tr><td>Employee signature (SNILS" in en and "<tr><td>ЭП" not in en
