"""Which rule decides a request: match keys, nth, seeded probability, per-system sets, attempts, explain,
magic values."""

from __future__ import annotations

from remd_requests import PATIENT_SNILS, sync_codes, sync_status
from scenario_harness import ALPHA_CLIENT, Harness, request_for, running_mock


def refused(mock: Harness, **overrides) -> bool:
    resp, _ = mock.send(**overrides)
    return sync_status(resp) == "error"


KEYS = """
name: keys
rules:
  - {name: by-kind, match: {kind: ["186", "204"]}, sync: {errors: [{code: NO_DOCUMENT_KIND_ON_DATE}]}}
  - {name: by-org, match: {organization: 1.2.643.5.1.13.13.12.2.50.11111}, sync: {errors: [{code: RATE_LIMIT}]}}
  - {name: by-snils, match: {patient_snils: "112-233-445 95", system: demo}, sync: {errors: [{code: NO_SNILS}]}}
  - {name: by-uid, match: {local_uid: "^dead"}, sync: {errors: [{code: NOT_UNIQUE_PROVIDED_ID}]}}
  - {name: by-number, match: {document_number: "^Q-\\\\d+$"}, sync: {errors: [{code: VALIDATION_ERROR}]}}
"""


def test_each_match_key(mock):
    mock.use(KEYS)
    resp, _ = mock.send(kind="186")
    assert sync_codes(resp) == ["NO_DOCUMENT_KIND_ON_DATE"]
    resp, _ = mock.send(request_for("alpha"))
    assert sync_codes(resp) == ["RATE_LIMIT"]
    resp, _ = mock.send()  # demo's patient has SNILS 11223344595 (the rule spells it with dashes)
    assert sync_codes(resp) == ["NO_SNILS"]
    from remd_requests import register_request

    no_snils = register_request(local_uid="DEADBEEF-0000-4000-8000-000000000000")
    no_snils.patient.snils = ""
    resp, _ = mock.send(no_snils)  # local_uid regex is case-insensitive
    assert sync_codes(resp) == ["NOT_UNIQUE_PROVIDED_ID"]
    other = register_request(document_number="Q-17")
    other.patient.snils = "87645289673"
    resp, _ = mock.send(other)
    assert sync_codes(resp) == ["VALIDATION_ERROR"]
    other = register_request(document_number="Q-17x")
    other.patient.snils = "87645289673"
    resp, _ = mock.send(other)
    assert sync_status(resp) == "success"
    assert PATIENT_SNILS == "11223344595"


def test_first_matching_rule_wins_and_file_order_follows_activation(mock):
    assert mock.upload("name: a\nrules:\n  - sync: {errors: [{code: RATE_LIMIT}]}\n").status_code == 201
    assert mock.upload("name: b\nrules:\n  - sync: {errors: [{code: NO_SIGNATURE}]}\n").status_code == 201
    mock.activate("a", "b")
    resp, _ = mock.send()
    assert sync_codes(resp) == ["RATE_LIMIT"]
    mock.activate("b", "a")
    resp, _ = mock.send()
    assert sync_codes(resp) == ["NO_SIGNATURE"]


def test_nth_counts_from_activation_and_reset(mock):
    text = ("name: second\nrules:\n  - match: {operation: registerDocument, nth: 2}\n"
            "    sync: {errors: [{code: RATE_LIMIT}]}\n")
    mock.use(text)
    assert [refused(mock) for _ in range(4)] == [False, True, False, False]
    mock.activate("second")  # activation restarts the count
    assert [refused(mock) for _ in range(3)] == [False, True, False]


def test_nth_counts_requests_an_earlier_rule_won(mock):
    mock.use(
        "name: both\nrules:\n"
        "  - {match: {nth: 1}, sync: {errors: [{code: RATE_LIMIT}]}}\n"
        "  - {match: {nth: 2}, sync: {errors: [{code: NO_SIGNATURE}]}}\n"
    )
    codes = [sync_codes(mock.send()[0]) for _ in range(3)]
    assert codes == [["RATE_LIMIT"], ["NO_SIGNATURE"], []]


def test_probability_with_seed_repeats_the_same_sequence(mock):
    mock.use("name: coin\nseed: 7\nrules:\n  - match: {probability: 0.5}\n    sync: {errors: [{code: RATE_LIMIT}]}\n")
    first = [refused(mock) for _ in range(16)]
    mock.activate("coin")
    second = [refused(mock) for _ in range(16)]
    assert first == second
    assert 2 < sum(first) < 14  # it is a coin, not a constant
    mock.use("name: coin\nseed: 8\nrules:\n  - match: {probability: 0.5}\n    sync: {errors: [{code: RATE_LIMIT}]}\n")
    assert [refused(mock) for _ in range(16)] != first


def test_probability_edges(mock):
    mock.use("name: never\nrules:\n  - match: {probability: 0}\n    sync: {errors: [{code: RATE_LIMIT}]}\n")
    assert not any(refused(mock) for _ in range(5))
    mock.use("name: always\nrules:\n  - match: {probability: 1}\n    sync: {errors: [{code: RATE_LIMIT}]}\n")
    assert all(refused(mock) for _ in range(5))


def test_two_systems_with_different_active_sets_do_not_see_each_other(mock):
    assert mock.upload("name: alpha-down\nrules:\n  - sync: {http_status: 503}\n").status_code == 201
    assert mock.upload("name: beta-limited\nrules:\n  - sync: {errors: [{code: RATE_LIMIT}]}\n").status_code == 201
    mock.activate("alpha-down", system="alpha")
    mock.activate("beta-limited", system="beta")
    resp, _ = mock.send(request_for("alpha"))
    assert resp.status_code == 503
    resp, _ = mock.send(request_for("beta"))
    assert sync_codes(resp) == ["RATE_LIMIT"]
    resp, _ = mock.send(request_for("demo"))  # no own set, no global set: normal
    assert sync_status(resp) == "success"
    assert mock.api("GET", "/scenarios/active").json() == {"alpha": ["alpha-down"], "beta": ["beta-limited"]}
    # a global set applies to systems without their own; a system's own set replaces it
    assert mock.upload("name: all-faults\nrules:\n  - sync: {fault: {code: Receiver}}\n").status_code == 201
    mock.activate("all-faults")
    assert mock.send(request_for("demo"))[0].status_code == 500
    assert mock.send(request_for("alpha"))[0].status_code == 503
    # deactivating alpha's set leaves beta's alone; alpha falls back to the global set
    assert mock.api("DELETE", "/scenarios/active?system=alpha").status_code == 200
    assert mock.send(request_for("alpha"))[0].status_code == 500
    assert sync_codes(mock.send(request_for("beta"))[0]) == ["RATE_LIMIT"]


def test_search_rules_match_the_callers_system(mock):
    assert mock.upload("name: s\nrules:\n  - {match: {operation: searchRegistryItem}, sync: {http_status: 429}}\n"
                       ).status_code == 201
    mock.activate("s", system="alpha")
    assert mock.search(client=ALPHA_CLIENT).status_code == 429
    assert mock.search().status_code == 200


def test_per_document_story_continues_with_the_same_local_uid(mock):
    mock.use(
        "name: story\nrules:\n"
        "  - {match: {attempt: 1}, sync: {errors: [{code: RATE_LIMIT}]}}\n"
        "  - {match: {attempt: [2, 3]}, sync: {errors: [{code: INTERNAL_ERROR}]}}\n"
    )
    from remd_requests import register_request

    a, b = register_request(), register_request()
    assert sync_codes(mock.send(a)[0]) == ["RATE_LIMIT"]
    assert sync_codes(mock.send(b)[0]) == ["RATE_LIMIT"]  # b has its own story
    a.message_id = "urn:uuid:6a1a9c43-0000-4000-8000-000000000002"
    assert sync_codes(mock.send(a)[0]) == ["INTERNAL_ERROR"]
    a.message_id = "urn:uuid:6a1a9c43-0000-4000-8000-000000000003"
    assert sync_codes(mock.send(a)[0]) == ["INTERNAL_ERROR"]
    a.message_id = "urn:uuid:6a1a9c43-0000-4000-8000-000000000004"
    resp, _ = mock.send(a)
    assert sync_status(resp) == "success"
    entry = mock.journal(a.message_id)
    assert entry["scenario"] is None
    second = mock.journal("6a1a9c43-0000-4000-8000-000000000002")
    assert second["scenario"]["rule"] == 2 and second["scenario"]["attempt"] == 2


def test_journal_names_the_rule_and_explain_says_why_others_did_not_match(mock):
    mock.use(KEYS)
    resp, req = mock.send(kind="204")
    entry = mock.journal(req.message_id, explain=True)
    assert entry["scenario"]["scenario"] == "keys" and entry["scenario"]["rule"] == 1
    assert entry["scenario"]["rule_name"] == "by-kind" and entry["scenario"]["line"] == 4
    explain = entry["explain"]
    assert explain["matched"]["rule"] == 1
    assert explain["rules"][0]["matched"] is True
    # rule 3 fits too (same patient), but rule 1 came first
    assert "earlier rule won" in explain["rules"][2]["reasons"][0]

    other = request_for("beta", document_number="ZZ")
    resp, req = mock.send(other)
    assert sync_status(resp) == "success"
    explain = mock.journal(req.message_id, explain=True)["explain"]
    assert explain["matched"] is None
    reasons = {r["rule_name"]: r["reasons"] for r in explain["rules"]}
    assert any("kind: wanted one of 186, 204, the request had 119" in r for r in reasons["by-kind"])
    assert any(r.startswith("organization: wanted 1.2.643.5.1.13.13.12.2.50.11111") for r in reasons["by-org"])
    assert any(r.startswith("system: wanted demo, the request came from beta") for r in reasons["by-snils"])
    assert any("'^dead' does not match" in r for r in reasons["by-uid"])
    assert any("does not match ZZ" in r for r in reasons["by-number"])


def test_explain_without_active_scenarios(mock):
    resp, req = mock.send()
    explain = mock.journal(req.message_id, explain=True)["explain"]
    assert explain["matched"] is None and explain["rules"] == [] and "no scenario is active" in explain["note"]


def test_magic_values_are_on_by_default_and_scenarios_come_first(mock):
    resp, req = mock.send(document_number="MOCK:SYNC:RATE_LIMIT")
    assert sync_codes(resp) == ["RATE_LIMIT"]
    assert mock.journal(req.message_id)["scenario"] == {"magic": "MOCK:SYNC:RATE_LIMIT"}
    assert mock.send(document_number="MOCK:HTTP:502")[0].status_code == 502
    assert mock.send(document_number="MOCK:FAULT")[0].status_code == 500
    mock.use("name: x\nrules:\n  - {match: {document_number: '^MOCK:'}, sync: {errors: [{code: NO_SIGNATURE}]}}\n")
    assert sync_codes(mock.send(document_number="MOCK:SYNC:RATE_LIMIT")[0]) == ["NO_SIGNATURE"]


def test_magic_values_can_be_switched_off():
    with running_mock(magic_values=False) as strict:
        resp, _ = strict.send(document_number="MOCK:SYNC:RATE_LIMIT")
        assert sync_status(resp) == "success"
        resp, _ = strict.send(document_number="MOCK:HTTP:503")
        assert resp.status_code == 200


def test_admin_refuses_unknown_names_and_systems(mock):
    resp = mock.api("PUT", "/scenarios/active", json={"names": ["no-such-scenario"]})
    assert resp.status_code == 404 and resp.json()["detail"]["unknown"] == ["no-such-scenario"]
    resp = mock.api("PUT", "/scenarios/active", json={"names": ["happy-path"], "system": "nobody"})
    assert resp.status_code == 404
    assert mock.api("GET", "/scenarios/no-such").status_code == 404
    assert mock.api("DELETE", "/scenarios/no-such").status_code == 404


def test_library_is_listed_and_uploads_replace_by_name(mock):
    listing = mock.api("GET", "/scenarios").json()
    names = {i["name"]: i for i in listing["items"]}
    assert listing["total"] >= 15 and "chaos" in names and names["chaos"]["origin"] == "dir"
    assert mock.upload("name: chaos\nrules:\n  - sync: {http_status: 500}\n").status_code == 201
    got = mock.api("GET", "/scenarios/chaos").json()
    assert got["origin"] == "upload" and "http_status: 500" in got["source"]
    mock.activate("chaos")
    assert mock.api("GET", "/scenarios").json()["active"] == {"*": ["chaos"]}
    assert mock.api("DELETE", "/scenarios/chaos").status_code == 200
    assert mock.api("GET", "/scenarios").json()["active"] == {}
    resp = mock.upload('{"name": "json-one", "rules": [{"sync": {"http_status": 503}}]}', "application/json")
    assert resp.status_code == 201 and resp.json()["name"] == "json-one"
