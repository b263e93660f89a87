"""Pull mode (getDocumentFile), searchRegistryItem, getRegistryItem and the WSDL (zeep)."""

from __future__ import annotations

import re

import pytest
import requests
from remd_requests import (
    DEMO_CLIENT,
    DEMO_ORG,
    cda,
    post,
    register,
    register_request,
    sync_codes,
    sync_status,
)

from mock_remd.soap.builders import get_item_envelope, search_envelope

OTHER_CLIENT = "00000000-0000-4000-8000-0000000000aa"
OTHER_ORG = "1.2.643.5.1.13.13.12.2.50.77777"


def test_pull_mode_fetches_the_file_with_get_document_file(make_server, sink):
    srv = make_server()
    req = register_request()
    content = cda(req.local_uid)
    req.document = None
    sink.documents[req.local_uid] = content
    resp, _ = register(srv, req)
    assert sync_status(resp) == "success"
    result = sink.wait_for(req.message_id)
    assert result.status == "success"
    assert sink.document_requests == [req.local_uid]
    stored = requests.get(f"{srv.url}/_admin/documents/{req.local_uid}/content")
    assert stored.content == content


def test_pull_mode_error_when_the_mis_has_no_file(make_server, sink):
    srv = make_server()
    req = register_request()
    req.document = None
    _, _ = register(srv, req)
    result = sink.wait_for(req.message_id)
    assert result.status == "error"
    assert result.error_codes == ["FILE_WAS_NOT_SENT"]


def test_pull_mode_mis_not_available(make_server, sink):
    srv = make_server(systems=[{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": sink.url,
                                "document_url": "http://127.0.0.1:9/emdr/documents", "organizations": [DEMO_ORG]}])
    req = register_request()
    req.document = None
    register(srv, req)
    result = sink.wait_for(req.message_id)
    assert result.error_codes == ["MIS_NOT_AVAILABLE"]


def _two_systems(make_server, sink):
    return make_server(systems=[
        {"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": sink.url, "organizations": [DEMO_ORG]},
        {"mnemonic": "other", "client_entity_id": OTHER_CLIENT, "callback_url": sink.url, "organizations": [OTHER_ORG]},
    ])


def _items(resp):
    return re.findall(r"<ns3:item>(.*?)</ns3:item>", resp.text, re.S)


def test_search_sees_only_the_callers_organisations(make_server, sink):
    srv = _two_systems(make_server, sink)
    _, mine = register(srv)
    theirs = register_request(client_entity_id=OTHER_CLIENT, system="other", organization=OTHER_ORG)
    register(srv, theirs)
    emdr_mine = sink.wait_for(mine.message_id).emdr_id
    sink.wait_for(theirs.message_id)
    resp = post(srv.soap_url, search_envelope({}, client_entity_id=DEMO_CLIENT))
    assert sync_status(resp) == "success"
    items = _items(resp)
    assert len(items) == 1 and emdr_mine in items[0] and mine.local_uid in items[0]
    # asking for the other organisation explicitly does not reveal it
    resp = post(srv.soap_url, search_envelope({"organization": OTHER_ORG}, client_entity_id=DEMO_CLIENT))
    assert _items(resp) == []
    # filters: kind, patient SNILS (any format), registration dates
    resp = post(srv.soap_url, search_envelope({"kind": "119", "patientSnils": "112-233-445 95",
                                               "registerDateBegin": "2020-01-01T00:00:00+03:00"},
                                              client_entity_id=DEMO_CLIENT))
    assert len(_items(resp)) == 1
    resp = post(srv.soap_url, search_envelope({"registerDateEnd": "2020-01-01T00:00:00+03:00"}, client_entity_id=DEMO_CLIENT))
    assert _items(resp) == []


def test_search_with_bad_date_is_a_validation_error(make_server, sink):
    srv = make_server()
    resp = post(srv.soap_url, search_envelope({"registerDateBegin": "вчера"}, client_entity_id=DEMO_CLIENT))
    assert sync_codes(resp) == ["VALIDATION_ERROR"]


def test_get_registry_item(make_server, sink):
    srv = _two_systems(make_server, sink)
    _, req = register(srv)
    emdr_id = sink.wait_for(req.message_id).emdr_id
    resp = post(srv.soap_url, get_item_envelope(emdr_id, client_entity_id=DEMO_CLIENT))
    assert sync_status(resp) == "success" and f"<ns3:emdrId>{emdr_id}</ns3:emdrId>" in resp.text
    assert f"<ns3:localUid>{req.local_uid}</ns3:localUid>" in resp.text
    for client in (OTHER_CLIENT, DEMO_CLIENT):
        missing = emdr_id if client == OTHER_CLIENT else "1.50.26.01.999999999"
        resp = post(srv.soap_url, get_item_envelope(missing, client_entity_id=client))
        assert sync_codes(resp) == ["REGISTRY_ITEM_NOT_FOUND"]
    resp = post(srv.soap_url, get_item_envelope(emdr_id, client_entity_id="unknown"))
    assert sync_codes(resp) == ["NO_RMIS"]


def test_seeded_documents_answer_search_get_and_duplicates(make_server, sink):
    srv = make_server()
    local_uid = "0b6c0c59-6d9f-4d4e-8a3c-2a3c1c1f0a01"
    seed = [{"local_uid": local_uid, "kind": "119", "organization": DEMO_ORG,
             "registration_date_time": "2025-05-01T10:00:00+03:00", "patient_snils": "11223344595"}]
    resp = requests.post(f"{srv.url}/_admin/documents", json=seed)
    assert resp.status_code == 201
    emdr_id = resp.json()["items"][0]["emdr_id"]
    assert re.fullmatch(r"1\.50\.25\.05\.\d{9}", emdr_id)
    assert emdr_id in post(srv.soap_url, get_item_envelope(emdr_id, client_entity_id=DEMO_CLIENT)).text
    assert emdr_id in post(srv.soap_url, search_envelope({"patientSnils": "11223344595"}, client_entity_id=DEMO_CLIENT)).text
    dup, _ = register(srv, register_request(local_uid=local_uid))
    assert sync_codes(dup) == ["NOT_UNIQUE_PROVIDED_ID"] and emdr_id in dup.text
    bad = requests.post(f"{srv.url}/_admin/documents", json=[{"local_uid": "x"}])
    assert bad.status_code == 400 and "kind" in bad.json()["error"]


zeep = pytest.importorskip("zeep")


def test_zeep_client_from_wsdl_calls_all_three_operations(make_server, sink):
    from zeep import Client, Settings
    from zeep.transports import Transport

    srv = make_server()
    wsdl = requests.get(srv.soap_url + "?wsdl")
    assert wsdl.status_code == 200 and srv.soap_url.encode() in wsdl.content  # address follows the host used
    client = Client(srv.soap_url + "?wsdl", settings=Settings(strict=False), transport=Transport(timeout=10))
    assert client.service._binding_options["address"] == srv.soap_url
    header = {"authInfo": {"clientEntityId": DEMO_CLIENT}}
    from zeep.wsa import WsAddressingPlugin

    client = Client(srv.soap_url + "?wsdl", plugins=[WsAddressingPlugin()], settings=Settings(strict=False))
    req = register_request()
    sign = req.personal_signs[0]
    result = client.service.registerDocument(
        _soapheaders={"transportHeader": header},
        system="demo", localUid=req.local_uid, kind="119", creationDateTime=req.creation_date_time,
        organization=DEMO_ORG,
        patient={"snils": req.patient.snils, "surname": "Смирнова", "name": "Елена", "birthDate": "1979-04-12", "gender": "2"},
        personalSigns={"personalSign": [{"doctor": {"role": "1", "person": {"snils": sign.doctor.person.snils}},
                                         "signature": {"data": sign.signature.data_b64, "checksum": sign.signature.checksum}}]},
        document={"data": req.document.data_b64, "checksum": req.document.checksum},
    )
    assert result.status == "success", result
    callback = sink.wait_until(lambda r: r.local_uid == req.local_uid)
    assert callback.status == "success"
    found = client.service.searchRegistryItem(_soapheaders={"transportHeader": header}, kind="119")
    assert found.status == "success" and found.matches.item[0].emdrId == callback.emdr_id
    item = client.service.getRegistryItem(_soapheaders={"transportHeader": header}, emdrId=callback.emdr_id)
    assert item.status == "success" and item.item.localUid == req.local_uid
