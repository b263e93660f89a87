"""Bad input gets a SOAP Fault, never a traceback; the server keeps serving; XML attacks are refused."""

from __future__ import annotations

import requests
from remd_requests import post, register, sync_status

from mock_remd.soap.builders import envelope


def _healthy(srv) -> None:
    assert requests.get(f"{srv.url}/health", timeout=5).json() == {"status": "ok"}
    resp, _ = register(srv)
    assert sync_status(resp) == "success"


def test_malformed_envelope_soap12_is_sender_fault_400(make_server):
    srv = make_server()
    resp = post(srv.soap_url, b"<soap:Envelope xmlns:soap='http://www.w3.org/2003/05/soap-envelope'><soap:Body>", "1.2")
    assert resp.status_code == 400
    assert resp.headers["Content-Type"].startswith("application/soap+xml")
    assert "<soap:Value>soap:Sender</soap:Value>" in resp.text
    assert "Traceback" not in resp.text
    _healthy(srv)


def test_malformed_envelope_soap11_is_client_fault(make_server):
    srv = make_server()
    resp = post(srv.soap_url, b"this is not xml at all", "1.1")
    assert resp.status_code == 400
    assert "<faultcode>soap:Client" in resp.text
    _healthy(srv)


def test_not_a_soap_envelope(make_server):
    srv = make_server()
    resp = post(srv.soap_url, b"<registerDocumentRequest/>")
    assert resp.status_code == 400 and "SOAP" in resp.text and "soap:Sender" in resp.text


def test_unknown_operation_is_a_fault_naming_it(make_server):
    srv = make_server()
    resp = post(srv.soap_url, envelope("<ser:demandContentRequest/>", client_entity_id="x"))
    assert resp.status_code == 400 and "demandContentRequest" in resp.text


def test_missing_message_id_is_a_fault(make_server):
    srv = make_server()
    resp = post(srv.soap_url, envelope("<ser:getRegistryItemRequest/>", message_id="", client_entity_id="x"))
    assert resp.status_code == 400 and "MessageID" in resp.text


def test_get_without_wsdl_and_other_methods(make_server):
    srv = make_server()
    resp = requests.put(srv.soap_url, data=b"x", timeout=5)
    assert resp.status_code == 405 and "soap:Sender" in resp.text


def test_xxe_is_refused_without_reading_files(make_server):
    srv = make_server()
    body = (
        b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'
        b"<soap:Envelope xmlns:soap='http://www.w3.org/2003/05/soap-envelope'><soap:Body><x>&xxe;</x></soap:Body></soap:Envelope>"
    )
    resp = post(srv.soap_url, body)
    assert resp.status_code == 400
    hostname = open("/etc/hostname").read().strip()
    assert hostname not in resp.text
    assert "DOCTYPE" in resp.text
    _healthy(srv)


def test_billion_laughs_is_refused_without_expanding(make_server):
    srv = make_server()
    ents = "".join(f'<!ENTITY l{i} "&l{i - 1};&l{i - 1};&l{i - 1};&l{i - 1};&l{i - 1};&l{i - 1};&l{i - 1};&l{i - 1};&l{i - 1};&l{i - 1};">' for i in range(1, 10))
    body = (f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY l0 "lol">{ents}]>'
            "<soap:Envelope xmlns:soap='http://www.w3.org/2003/05/soap-envelope'><soap:Body><x>&l9;</x></soap:Body></soap:Envelope>").encode()
    resp = post(srv.soap_url, body)
    assert resp.status_code == 400
    assert len(resp.content) < 2000
    _healthy(srv)


def test_body_over_the_limit_is_a_clear_fault(make_server):
    srv = make_server(max_request_bytes=4096)
    resp = post(srv.soap_url, b"<a>" + b"x" * 10000 + b"</a>")
    assert resp.status_code == 413
    assert "4096" in resp.text and "soap:Sender" in resp.text
    _healthy(srv)


def test_large_documents_are_accepted_within_the_limit(make_server, sink):
    from remd_requests import cda, register_request

    srv = make_server()
    local_uid = "6a1c7e1e-0000-4000-8000-00000000abcd"
    big = cda(local_uid).replace(b"<title>", b"<title>" + b"x" * 3_000_000)  # 3 MB: over spyne's 2 MiB default
    resp, req = register(srv, register_request(local_uid=local_uid, content=big))
    assert sync_status(resp) == "success"
    assert sink.wait_for(req.message_id).status == "success"


def test_admin_errors_are_json(make_server):
    srv = make_server()
    for method, path in (("get", "/_admin/documents/nope"), ("get", "/no/such/page"), ("delete", "/_admin/reset"),
                         ("get", "/_admin/requests?limit=x"), ("put", "/_admin/systems/x")):
        resp = requests.request(method, srv.url + path, timeout=5)
        assert 400 <= resp.status_code < 500, (path, resp.status_code)
        body = resp.json()
        assert set(body) == {"error", "detail"}, body
