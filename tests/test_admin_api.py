"""The admin API: systems, token, readiness, OpenAPI, reset, bounded journal."""

from __future__ import annotations

import requests
from remd_requests import DEMO_CLIENT, DEMO_ORG, register, register_request, sync_codes, sync_status

from mock_remd.config import Settings
from mock_remd.server.threaded import ThreadedServer


def test_builtin_demo_system_when_config_names_none(make_app):
    systems = make_app().admin.test_client().get("/_admin/systems").json
    assert systems["total"] == 1
    demo = systems["items"][0]
    assert demo["mnemonic"] == "demo" and demo["client_entity_id"] == DEMO_CLIENT
    assert demo["organizations"] == [DEMO_ORG]
    assert demo["callback_url"] == "http://127.0.0.1:9090/emdr/callback"


def test_systems_crud_takes_effect_at_once(make_server, sink):
    srv = make_server()
    body = {"client_entity_id": "11111111-2222-4333-8444-555555555555", "callback_url": sink.url,
            "organizations": ["1.2.643.5.1.13.13.12.2.50.1"], "callback_soap_version": "1.2"}
    put = requests.put(f"{srv.url}/_admin/systems/across", json=body)
    assert put.status_code == 200 and put.json()["mnemonic"] == "across" and put.json()["enabled"] is True
    req = register_request(client_entity_id=body["client_entity_id"], system="across",
                           organization="1.2.643.5.1.13.13.12.2.50.1")
    resp, _ = register(srv, req)
    assert sync_status(resp) == "success"
    assert sink.wait_for(req.message_id).content_type.startswith("application/soap+xml")
    # disable: DISABLED_RMIS on the next request
    requests.put(f"{srv.url}/_admin/systems/across", json={**body, "enabled": False})
    resp, _ = register(srv, register_request(client_entity_id=body["client_entity_id"], system="across",
                                             organization="1.2.643.5.1.13.13.12.2.50.1"))
    assert sync_codes(resp) == ["DISABLED_RMIS"]
    assert requests.delete(f"{srv.url}/_admin/systems/across").status_code == 200
    resp, _ = register(srv, register_request(client_entity_id=body["client_entity_id"], system=""))
    assert sync_codes(resp) == ["NO_RMIS"]
    assert requests.get(f"{srv.url}/_admin/systems/across").status_code == 404


def test_system_validation_names_the_field(make_app):
    client = make_app().admin.test_client()
    for body, word in (({"callback_url": "x"}, "client_entity_id"),
                       ({"client_entity_id": "a", "callback_url": "ftp://x"}, "callback_url"),
                       ({"client_entity_id": "a", "enabled": "yes"}, "enabled"),
                       ({"client_entity_id": "a", "callback_soap_version": "2"}, "callback_soap_version"),
                       ({"client_entity_id": "a", "colour": "red"}, "colour")):
        resp = client.put("/_admin/systems/x", json=body)
        assert resp.status_code == 400, body
        assert word in resp.json["detail"]
    taken = client.put("/_admin/systems/x", json={"client_entity_id": DEMO_CLIENT})
    assert taken.status_code == 409


def test_json_without_its_content_type_is_refused_naming_the_header(make_app):
    """``curl -X PUT … -d '{"names": [...]}'`` sends the right body as a form: the refusal names the header."""
    client = make_app().admin.test_client()
    for path, method in (("/_admin/scenarios/active", client.put), ("/_admin/conformance/runs", client.post)):
        resp = method(path, data='{"names": ["happy-path"], "system": "demo"}',
                      content_type="application/x-www-form-urlencoded")
        assert resp.status_code == 400, path
        assert "Content-Type: application/json" in resp.json["error"], path


def test_admin_token_protects_admin_but_not_health_or_soap(make_server):
    srv = make_server(admin_token="s3cret")
    assert requests.get(f"{srv.url}/_admin/systems").status_code == 401
    assert requests.get(f"{srv.url}/_admin/systems", headers={"Authorization": "Bearer nope"}).status_code == 401
    ok = requests.get(f"{srv.url}/_admin/systems", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200 and ok.json()["total"] == 1
    assert requests.get(f"{srv.url}/health").status_code == 200
    assert requests.get(f"{srv.url}/ready").status_code == 200
    resp, _ = register(srv)
    assert sync_status(resp) == "success"


def test_ready_is_503_until_background_runs():
    srv = ThreadedServer(Settings.load({"db_url": "sqlite://", "port": 0}, environ={}), background=False).start()
    try:
        resp = requests.get(f"{srv.url}/ready")
        assert resp.status_code == 503 and resp.json()["details"]["sender"] == "stopped"
        assert requests.get(f"{srv.url}/health").json() == {"status": "ok"}
        srv.runtime.start_background()
        assert requests.get(f"{srv.url}/ready").status_code == 200
    finally:
        srv.stop()


def test_openapi_document_lists_the_contract_paths(make_app):
    resp = make_app().admin.test_client().get("/_admin/openapi.json", base_url="http://remd.test:8080")
    doc = resp.json
    assert doc["openapi"].startswith("3.")
    for path in ("/_admin/reset", "/_admin/systems/{mnemonic}", "/_admin/requests", "/_admin/documents",
                 "/_admin/documents/{local_uid}/content", "/_admin/callbacks", "/_admin/callbacks/flush",
                 "/_admin/callbacks/{id}/redeliver", "/_admin/scenarios", "/_admin/scenarios/active"):
        assert path in doc["paths"], path
    assert doc["servers"][0]["url"] == "http://remd.test:8080"


def test_reset_empties_journal_registry_and_deliveries(make_server, sink):
    srv = make_server()
    _, req = register(srv)
    sink.wait_for(req.message_id)
    assert requests.post(f"{srv.url}/_admin/reset").json()["status"] == "ok"
    for path in ("requests", "documents", "callbacks"):
        assert requests.get(f"{srv.url}/_admin/{path}").json()["total"] == 0, path
    assert requests.get(f"{srv.url}/_admin/systems").json()["total"] == 1  # systems stay
    requests.delete(f"{srv.url}/_admin/systems/demo")
    requests.post(f"{srv.url}/_admin/reset", params={"all": "true"})
    # everything emptied, then the configured systems are loaded again
    assert [s["mnemonic"] for s in requests.get(f"{srv.url}/_admin/systems").json()["items"]] == ["demo"]


def test_journal_is_bounded(make_server, sink):
    srv = make_server(journal_size=50)
    for _ in range(130):
        register(srv, register_request(kind="99999"))  # rejected at once: journal only
    journal = requests.get(f"{srv.url}/_admin/requests", params={"limit": 1000}).json()
    assert 50 <= journal["total"] < 130
    ids = [i["id"] for i in journal["items"]]
    assert ids == sorted(ids, reverse=True) and max(ids) == 130


def test_lists_are_newest_first_with_paging(make_server, sink):
    srv = make_server()
    reqs = [register(srv)[1] for _ in range(3)]
    for r in reqs:
        sink.wait_for(r.message_id)
    page1 = requests.get(f"{srv.url}/_admin/documents", params={"limit": 2}).json()
    page2 = requests.get(f"{srv.url}/_admin/documents", params={"limit": 2, "offset": 2}).json()
    assert page1["total"] == 3
    assert [d["local_uid"] for d in page1["items"] + page2["items"]] == [r.local_uid for r in reversed(reqs)]
    reg = requests.get(f"{srv.url}/_admin/documents", params={"status": "registered"}).json()
    assert reg["total"] == 3
    assert requests.get(f"{srv.url}/_admin/documents", params={"status": "lost"}).status_code == 400
