"""Issue 14, finding 4: the caller is the system of its clientEntityId, never the ``system`` it claims;
a duplicate answer names an emdrId only to the system that registered the document.

The envelopes are edited with the stdlib (``xml.etree``), as a careless or hostile client would send them.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import pytest
from remd_requests import DEMO_CLIENT, DEMO_ORG, post, register, register_request, sync_codes, sync_messages

from mock_remd.soap.builders import register_envelope

B_CLIENT = "00000000-0000-4000-8000-0000000000bb"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
EGISZ = "http://egisz.rosminzdrav.ru"


def _two_systems(make_server, sink):
    return make_server(systems=[
        {"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": sink.url, "organizations": [DEMO_ORG]},
        {"mnemonic": "sysB", "client_entity_id": B_CLIENT, "callback_url": sink.url + "/b",
         "organizations": [DEMO_ORG]},
    ])


def _envelope(req, *, header: str) -> bytes:
    """The envelope of ``req`` with its transportHeader removed ("none") or its clientEntityId emptied ("empty")."""
    root = ET.fromstring(register_envelope(req, version="1.2"))
    head = root.find(f"{{{SOAP12}}}Header")
    th = head.find(f"{{{EGISZ}}}transportHeader")
    if header == "none":
        head.remove(th)
    else:
        th.find(f".//{{{EGISZ}}}clientEntityId").text = ""
    return ET.tostring(root, encoding="utf-8")


@pytest.mark.parametrize("header", ["none", "empty"])
def test_no_credentials_is_no_rmis_whatever_system_says(make_server, sink, header):
    srv = _two_systems(make_server, sink)
    req = register_request(system="sysB")
    resp = post(srv.soap_url, _envelope(req, header=header))
    assert sync_codes(resp) == ["NO_RMIS"]
    time.sleep(0.3)  # give a wrongly accepted document the time to call back
    assert sink.results == []
    doc = srv.runtime.store.documents.get(req.local_uid)
    assert doc is None


def test_system_element_is_only_checked_against_the_caller(make_server, sink):
    srv = _two_systems(make_server, sink)
    resp, _ = register(srv, register_request(system="sysB"))  # demo's clientEntityId claiming sysB
    assert sync_codes(resp) == ["VALIDATION_ERROR"]
    assert "sysB" in sync_messages(resp)[0]


def test_duplicate_names_the_emdr_id_only_to_its_owner(make_server, sink):
    srv = _two_systems(make_server, sink)
    resp, req = register(srv, register_request(system="sysB", client_entity_id=B_CLIENT))
    emdr_id = sink.wait_for(req.message_id).emdr_id
    assert emdr_id
    again = register_request(local_uid=req.local_uid)  # system A (demo), same localUid
    resp, _ = register(srv, again)
    assert sync_codes(resp) == ["NOT_UNIQUE_PROVIDED_ID"]
    assert emdr_id not in resp.text
    resp, _ = register(srv, register_request(local_uid=req.local_uid, system="sysB", client_entity_id=B_CLIENT))
    assert sync_codes(resp) == ["NOT_UNIQUE_PROVIDED_ID"] and emdr_id in resp.text
