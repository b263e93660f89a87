"""A document's life: new versions and links, through a real server, its SOAP endpoint, admin API,
dashboard and result callbacks (CANT_REG_VERSION, RESTRICT_NEW_VERSION, NOT_UNIQUE_ASSOCIATION,
CAN_NOT_ASSOCIATE)."""

from __future__ import annotations

import re
import uuid

import pytest
import requests
from remd_requests import DEMO_CLIENT, DEMO_ORG, post

from mock_remd.domain.model import Association
from mock_remd.generator import generate
from mock_remd.generator.versions import version_of
from mock_remd.soap.builders import attachment, get_item_envelope, register_envelope, search_envelope

OTHER_CLIENT = "00000000-0000-4000-8000-0000000000bb"
OTHER_ORG = "1.2.643.5.1.13.13.12.2.50.77777"


def _systems(sink):
    return [
        {"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": sink.url,
         "document_url": sink.document_url, "organizations": [DEMO_ORG]},
        {"mnemonic": "other", "client_entity_id": OTHER_CLIENT, "callback_url": sink.url,
         "organizations": [OTHER_ORG]},
    ]


def _unsigned(doc):
    """A generated document's request with stand-in signatures (for servers with signatures off)."""
    for sign in doc.request.personal_signs:
        sign.signature = attachment(b"0\x82\x01\x00stand-in-signature")
    return doc


def _gen(kind: str, seed: int, **kw):
    return _unsigned(generate(kind, seed=seed, signer=None, **kw))


def _next(content: bytes, **kw):
    return _unsigned(version_of(content, signed=False, **kw))


def _register(srv, sink, req, *, timeout: float = 30):
    """Send ``req``; the synchronous answer must accept it; returns the callback."""
    resp = post(srv.soap_url, register_envelope(req))
    assert "<ns3:status>success</ns3:status>" in resp.text, resp.text
    return sink.wait_for(req.message_id, timeout=timeout)


def _registered(srv, sink, req) -> str:
    result = _register(srv, sink, req)
    assert result.status == "success", result.errors
    return result.emdr_id


def _error(srv, sink, req) -> tuple[str, str]:
    result = _register(srv, sink, req)
    assert result.status == "error", result.raw
    assert len(result.errors) == 1, result.errors
    return result.errors[0]["code"], result.errors[0]["message"]


def test_three_version_chain_registered_searched_and_shown(make_server, sink, packs_dir, tmp_path):
    """v1 → v2 (linked by localUid) → v3 (linked by emdrId), every layer on, official 119 pack."""
    srv = make_server(validation="all", signatures="digest", packs_dir=str(packs_dir), cache_dir=str(tmp_path / "c"))
    v1 = generate("119", seed=101)
    emdr1 = _registered(srv, sink, v1.request)
    v2 = version_of(v1.content)
    emdr2 = _registered(srv, sink, v2.request)
    v3 = version_of(v2.content, target=emdr2, emdr_id=emdr2)
    assert b"1.2.643.5.1.13.13.17.1.1" in v3.content and v3.version_number == 3
    emdr3 = _registered(srv, sink, v3.request)
    assert len({emdr1, emdr2, emdr3}) == 3

    doc = requests.get(f"{srv.url}/_admin/documents/{v3.local_uid}").json()
    cross = next(layer for layer in doc["layers"] if layer["name"] == "cross")
    assert cross["ran"] and cross["passed"] and cross["details"]["version_number"] == 3
    assert [layer["name"] for layer in doc["layers"] if layer["ran"] and not layer["passed"]] == []

    # searchRegistryItem and getRegistryItem answer with the current version only
    found = post(srv.soap_url, search_envelope({"kind": "119"}, client_entity_id=DEMO_CLIENT))
    uids = re.findall(r"<ns3:localUid>([^<]+)</ns3:localUid>", found.text)
    assert v3.local_uid in uids and v1.local_uid not in uids and v2.local_uid not in uids
    item = post(srv.soap_url, get_item_envelope(emdr1, client_entity_id=DEMO_CLIENT))
    assert f"<ns3:emdrId>{emdr3}</ns3:emdrId>" in item.text and v3.local_uid in item.text

    # the admin API shows the chain from any version, by localUid or emdrId
    doc = requests.get(f"{srv.url}/_admin/documents/{emdr2}").json()
    assert doc["local_uid"] == v2.local_uid
    assert [(v["local_uid"], v["version_number"], v["current"]) for v in doc["versions"]] == [
        (v1.local_uid, 1, False), (v2.local_uid, 2, False), (v3.local_uid, 3, True)]
    assert [(a["target"], a["type"], a["version"], a["target_emdr_id"]) for a in doc["associations"]] == [
        (v1.local_uid, "RPLC", True, emdr1)]
    assert doc["associations"][0]["type_name"]
    assert [a["local_uid"] for a in doc["linked_from"]] == [v3.local_uid]
    spec = requests.get(f"{srv.url}/_admin/openapi.json").json()
    assert "versions" in spec["components"]["schemas"]["DocumentDetail"]["allOf"][1]["properties"]

    # the stored file of the version asked for, by its emdrId
    for emdr_id, version in ((emdr1, v1), (emdr2, v2), (emdr3, v3)):
        content = requests.get(f"{srv.url}/_admin/documents/{emdr_id}/content")
        assert content.status_code == 200 and content.content == version.content

    # the dashboard's document page shows the chain with links to each version
    page = requests.get(f"{srv.url}/documents/{v2.local_uid}")
    assert page.status_code == 200
    html = page.text
    assert 'id="versions"' in html and 'id="associations"' in html and 'id="linked-from"' in html
    for v in (v1, v2, v3):
        assert f'href="/documents/{v.local_uid}"' in html
    assert emdr3 in html


@pytest.fixture
def life_server(make_server, sink):
    return make_server(systems=_systems(sink))


def test_each_refusal_comes_back_with_its_code_and_text(life_server, sink):
    srv = life_server
    v1 = _gen("119", 201)
    emdr1 = _registered(srv, sink, v1.request)

    # previous version not registered
    v = _next(v1.content, target=str(uuid.uuid4()))
    code, text = _error(srv, sink, v.request)
    assert code == "CANT_REG_VERSION" and text.startswith("Регистрация версии документа невозможна: ")
    assert "не найдена" in text

    # a link (not a version) to a document that does not exist
    v = _next(v1.content, target=str(uuid.uuid4()), association_type="APND", related_document=False)
    v.request.associations[0].target = missing = str(uuid.uuid4())
    code, text = _error(srv, sink, v.request)
    assert code == "CAN_NOT_ASSOCIATE" and missing in text
    assert text.startswith("Невозможно связать документы. Создание недопустимой связи документов")

    # the new version v2 registers; a second "v2" replacing v1 again is the same link twice
    v2 = _next(v1.content)
    emdr2 = _registered(srv, sink, v2.request)
    again = _next(v1.content)
    code, text = _error(srv, sink, again.request)
    assert code == "NOT_UNIQUE_ASSOCIATION" and v1.local_uid in text
    assert text.startswith("Регистрируемая связь документов уже существует")

    # versionNumber not above the current version (2)
    stale = _next(v1.content, target=emdr2)
    assert stale.version_number == 2
    code, text = _error(srv, sink, stale.request)
    assert code == "CANT_REG_VERSION" and "[2]" in text and "больше" in text

    # the same link twice in one request
    v3 = _next(v2.content)
    v3.request.associations.append(Association(target=v2.local_uid, type="RPLC"))
    code, text = _error(srv, sink, v3.request)
    assert code == "NOT_UNIQUE_ASSOCIATION"

    # previous version of another kind
    lab = _gen("186", 202)
    _registered(srv, sink, lab.request)
    v = _next(v2.content, target=lab.local_uid)
    code, text = _error(srv, sink, v.request)
    assert code == "CANT_REG_VERSION" and "[186]" in text

    # previous version of another organisation
    foreign = _gen("119", 203, organization=OTHER_ORG, client_entity_id=OTHER_CLIENT,
                       system="other")
    _registered(srv, sink, foreign.request)
    v = _next(v2.content, target=foreign.local_uid)
    code, text = _error(srv, sink, v.request)
    assert code == "CANT_REG_VERSION" and OTHER_ORG in text

    # the chain is untouched by the refusals: v2 is current
    doc = requests.get(f"{srv.url}/_admin/documents/{emdr1}").json()
    assert [v["local_uid"] for v in doc["versions"]] == [v1.local_uid, v2.local_uid]
    refused = requests.get(f"{srv.url}/_admin/documents/{stale.local_uid}").json()
    assert refused["status"] == "rejected" and refused["versions"] == []
    assert refused["associations"][0]["recorded"] is False


def test_kind_230_versions_are_restricted(life_server, sink):
    from mock_remd.catalog.kinds import Kind, default_registry

    if default_registry().get("230") is None:  # the built-in catalog may predate kind 230
        default_registry().update([Kind(id="230", type_1522="502", edition="1", name="Медицинское заключение "
                                        "по результатам медицинского осмотра работника (CDA) Редакция 1")])
    v1 = _gen("119", 301)
    v1.request.kind = "230"
    _registered(life_server, sink, v1.request)
    v2 = _next(v1.content, kind="230")
    assert _error(life_server, sink, v2.request) == (
        "RESTRICT_NEW_VERSION", "Для ЭМД 230 запрещена регистрация новых версий")


def test_magic_values_force_each_code_with_a_catalogue_text(make_server, sink):
    srv = make_server()
    for seed, code in enumerate(("CANT_REG_VERSION", "RESTRICT_NEW_VERSION", "CAN_NOT_ASSOCIATE",
                                 "NOT_UNIQUE_ASSOCIATION"), 400):
        doc = _gen("119", seed)
        doc.request.document_number = f"MOCK:CALLBACK:{code}"
        result = _register(srv, sink, doc.request)
        assert result.status == "error" and result.errors[0]["code"] == code
        message = result.errors[0]["message"]
        assert message and message != code and "{" not in message
        if code == "RESTRICT_NEW_VERSION":
            assert message == "Для ЭМД 119 запрещена регистрация новых версий"
        sync = _gen("119", seed + 10)
        sync.request.document_number = f"MOCK:SYNC:{code}"
        resp = post(srv.soap_url, register_envelope(sync.request))
        assert f"<ns3:code>{code}</ns3:code>" in resp.text and "<ns3:message>" in resp.text


def test_association_checks_in_the_synchronous_answer_when_configured(make_server, sink):
    srv = make_server(association_checks="sync")
    doc = _gen("119", 501)
    doc.request.associations = [Association(target=str(uuid.uuid4()), type="APND")]
    resp = post(srv.soap_url, register_envelope(doc.request))
    assert "<ns3:status>error</ns3:status>" in resp.text
    assert "<ns3:code>CAN_NOT_ASSOCIATE</ns3:code>" in resp.text


zeep = pytest.importorskip("zeep")


def test_zeep_client_registers_a_new_version_with_its_association(make_server, sink):
    from zeep import Client, Settings
    from zeep.wsa import WsAddressingPlugin

    srv = make_server()
    v1 = _gen("119", 601)
    emdr1 = _registered(srv, sink, v1.request)
    v2 = _next(v1.content, target=emdr1, emdr_id=emdr1)
    req = v2.request
    client = Client(srv.soap_url + "?wsdl", plugins=[WsAddressingPlugin()], settings=Settings(strict=False))
    header = {"transportHeader": {"authInfo": {"clientEntityId": DEMO_CLIENT}}}
    result = client.service.registerDocument(
        _soapheaders=header, system="demo", localUid=req.local_uid, kind="119",
        creationDateTime=req.creation_date_time, organization=DEMO_ORG,
        patient={"snils": req.patient.snils, "surname": req.patient.surname, "name": req.patient.name},
        personalSigns={"personalSign": [
            {"doctor": {"role": "1", "person": {"snils": s.doctor.person.snils}},
             "signature": {"data": s.signature.data_b64, "checksum": s.signature.checksum}}
            for s in req.personal_signs]},
        document={"data": req.document.data_b64, "checksum": req.document.checksum},
        associations={"association": [{"target": emdr1, "type": "RPLC"}]},
    )
    assert result.status == "success", result
    callback = sink.wait_until(lambda r: r.local_uid == req.local_uid)
    assert callback.status == "success", callback.errors
    item = client.service.getRegistryItem(_soapheaders=header, emdrId=emdr1)
    assert item.status == "success" and item.item.localUid == req.local_uid and item.item.emdrId == callback.emdr_id


def test_strict_versions(make_server, sink):
    srv = make_server(versions_strict=True, systems=_systems(sink))
    v1 = _gen("119", 801)
    _registered(srv, sink, v1.request)
    v2 = _next(v1.content)
    skipping = _next(v2.content, target=v1.local_uid)  # versionNumber 3 straight after 1
    code, text = _error(srv, sink, skipping.request)
    assert code == "CANT_REG_VERSION" and "[3]" in text and "[1]" in text
    unlinked = _next(v1.content)
    unlinked.request.associations = []
    code, text = _error(srv, sink, unlinked.request)
    assert code == "CANT_REG_VERSION" and "связь с предыдущей версией" in text
    odd_type = _next(v1.content, association_type="ZZZ")
    code, text = _error(srv, sink, odd_type.request)
    assert code == "CAN_NOT_ASSOCIATE" and "[ZZZ]" in text
    _registered(srv, sink, v2.request)


def test_versions_in_pull_mode(life_server, sink):
    """Files fetched with getDocumentFile: the registry reads setId/versionNumber from what it pulled."""
    v1 = _gen("119", 901)
    v2 = _next(v1.content)
    stale = _next(v1.content, target=v2.local_uid)
    for doc in (v1, v2, stale):
        sink.documents[doc.local_uid] = doc.content
        doc.request.document = None
    _registered(life_server, sink, v1.request)
    _registered(life_server, sink, v2.request)
    code, text = _error(life_server, sink, stale.request)
    assert code == "CANT_REG_VERSION" and "[2]" in text
    assert sink.document_requests[:3] == [v1.local_uid, v2.local_uid, stale.local_uid]
    doc = requests.get(f"{life_server.url}/_admin/documents/{v2.local_uid}").json()
    assert [v["version_number"] for v in doc["versions"]] == [1, 2]


def test_two_versions_sent_at_once_only_one_replaces(life_server, sink):
    """Documents with links are checked one after another, even when processed in the same batch."""
    v1 = _gen("119", 951)
    _registered(life_server, sink, v1.request)
    rivals = [_next(v1.content) for _ in range(3)]
    processor = life_server.runtime.processor
    processor.stop()  # hold the queue so that the three are claimed as one batch
    try:
        for doc in rivals:
            resp = post(life_server.soap_url, register_envelope(doc.request))
            assert "<ns3:status>success</ns3:status>" in resp.text
        assert processor.step() == 3
    finally:
        processor.start()
    results = [sink.wait_for(doc.request.message_id, timeout=30) for doc in rivals]
    assert sorted(r.status for r in results) == ["error", "error", "success"]
    assert {r.errors[0]["code"] for r in results if r.status == "error"} == {"NOT_UNIQUE_ASSOCIATION"}
