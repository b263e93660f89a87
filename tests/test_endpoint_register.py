"""registerDocument end to end: SOAP 1.2 and 1.1 in, the result callback out, over real sockets."""

from __future__ import annotations

import re

import requests
from remd_requests import DEMO_ORG, post, register, register_request, sync_status

from mock_remd.domain.model import normalize_message_id
from mock_remd.soap.builders import register_envelope


def test_soap12_register_gets_success_callback(make_server, sink):
    srv = make_server()
    resp, req = register(srv, version="1.2")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/soap+xml")
    assert "<soap:Envelope" in resp.text and "<ns3:registerDocumentResponse" in resp.text
    assert sync_status(resp) == "success"
    assert f"<wsa:RelatesTo>{req.message_id}</wsa:RelatesTo>" in resp.text
    result = sink.wait_for(req.message_id, timeout=10)
    assert result.status == "success"
    assert normalize_message_id(result.relates_to) == normalize_message_id(req.message_id)
    assert result.header_relates_to == req.message_id
    assert result.action == "sendRegisterDocumentResult"
    assert result.local_uid == req.local_uid and result.kind == "119" and result.organization == DEMO_ORG
    assert re.fullmatch(r"1\.50\.\d{2}\.\d{2}\.\d{9}", result.emdr_id)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+03:00", result.registration_date_time)
    created_year = int(req.creation_date_time[:4])
    assert result.store_till_date == f"{created_year + 25}{req.creation_date_time[4:10]}+03:00"
    assert result.content_type.startswith("text/xml")  # SOAP 1.1 callback by default


def test_soap11_register_gets_success_callback(make_server, sink):
    srv = make_server()
    resp, req = register(srv, version="1.1")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/xml")
    assert "http://schemas.xmlsoap.org/soap/envelope/" in resp.text
    assert sync_status(resp) == "success"
    result = sink.wait_for(req.message_id)
    assert result.status == "success" and result.emdr_id


def test_callback_in_soap12_when_the_system_asks(make_server, sink):
    srv = make_server(systems=[{"mnemonic": "demo", "client_entity_id": "00000000-0000-4000-8000-000000000001",
                                "callback_url": sink.url, "organizations": [DEMO_ORG],
                                "callback_soap_version": "1.2"}])
    _, req = register(srv)
    result = sink.wait_for(req.message_id)
    assert result.content_type.startswith("application/soap+xml")
    assert b"http://www.w3.org/2003/05/soap-envelope" in result.raw


def test_emdr_ids_are_unique_and_sequential(make_server, sink):
    srv = make_server(region="77", registry_prefix="119")
    reqs = [register(srv)[1] for _ in range(5)]
    ids = [sink.wait_for(r.message_id).emdr_id for r in reqs]
    assert len(set(ids)) == 5
    assert all(i.startswith("119.77.") for i in ids)
    assert sorted(int(i.rsplit(".", 1)[1]) for i in ids) == list(range(1, 6))


def test_body_elements_in_any_order_and_any_prefix(make_server, sink):
    srv = make_server()
    req = register_request()
    env = register_envelope(req).decode()
    # reverse the order of the first-level request elements and use another prefix
    body = re.search(r"<ser:registerDocumentRequest>(.*)</ser:registerDocumentRequest>", env, re.S).group(1)
    parts = re.findall(r"<ser:(\w+)>.*?</ser:\1>", body, re.S)
    chunks = [re.search(rf"<ser:{p}>.*?</ser:{p}>", body, re.S).group(0) for p in parts]
    shuffled = "".join(reversed(chunks)).replace("ser:", "x:")
    env = env.replace(body, shuffled).replace("<ser:registerDocumentRequest>", '<x:registerDocumentRequest xmlns:x="http://egisz.rosminzdrav.ru/iehr/emdr/service/">').replace("</ser:registerDocumentRequest>", "</x:registerDocumentRequest>")
    resp = post(srv.soap_url, env.encode())
    assert sync_status(resp) == "success", resp.text
    assert sink.wait_for(req.message_id).status == "success"


def test_operation_chosen_by_body_not_by_action(make_server, sink):
    srv = make_server()
    req = register_request()
    env = register_envelope(req).replace(b"<wsa:Action>registerDocument</wsa:Action>", b"<wsa:Action>getSignature</wsa:Action>")
    resp = post(srv.soap_url, env)
    assert sync_status(resp) == "success"


def test_journal_and_document_record(make_server, sink):
    srv = make_server()
    _, req = register(srv)
    sink.wait_for(req.message_id)
    mid = normalize_message_id(req.message_id)
    journal = requests.get(f"{srv.url}/_admin/requests", params={"message_id": req.message_id.upper()}).json()
    assert journal["total"] == 1
    entry = journal["items"][0]
    assert entry["message_id"] == mid and entry["operation"] == "registerDocument"
    assert entry["local_uid"] == req.local_uid and entry["kind"] == "119" and entry["sync_status"] == "success"
    doc = requests.get(f"{srv.url}/_admin/documents/{req.local_uid.upper()}").json()
    assert doc["status"] == "registered" and doc["emdr_id"]
    assert [layer["name"] for layer in doc["layers"]] == ["xml", "kind", "header", "xsd", "schematron", "nsi", "cross", "signatures"]
    assert all(not layer["ran"] for layer in doc["layers"])  # MOCK_REMD_VALIDATION=none
    content = requests.get(f"{srv.url}/_admin/documents/{req.local_uid}/content")
    assert content.status_code == 200 and req.local_uid.encode() in content.content
