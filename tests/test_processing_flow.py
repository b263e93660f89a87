"""The asynchronous leg flows: a slow document (here a getDocumentFile pull the MIS holds open) holds
up no other document of its process; each is registered and called back when it is done."""

from __future__ import annotations

import time

import pytest
from remd_requests import DEMO_CLIENT, DEMO_ORG, cda, register, register_request, sync_status

from mock_remd.config import Settings
from mock_remd.server.threaded import ThreadedServer


@pytest.fixture
def server(tmp_path, sink):
    systems = [{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": sink.url,
                "document_url": sink.document_url, "organizations": [DEMO_ORG]}]
    srv = ThreadedServer(Settings.load({"db_url": f"sqlite:///{tmp_path / 'flow.db'}", "port": 0,
                                        "validation": "none", "signatures": "off", "systems": systems},
                                       environ={})).start()
    yield srv
    sink.release.set()
    srv.stop()


def _pull_started(sink, local_uid: str) -> bool:
    for _ in range(200):  # bounded: 20 s
        if local_uid in sink.document_requests:
            return True
        time.sleep(0.1)  # polling the sink, which records each getDocumentFile it answers
    return False


def test_a_slow_document_holds_up_no_other(server, sink):
    slow = register_request()
    sink.documents[slow.local_uid] = cda(slow.local_uid)
    sink.held_documents.add(slow.local_uid)
    slow.document = None  # pulled from the MIS, which answers when the test lets it
    resp, _ = register(server, slow)
    assert sync_status(resp) == "success"
    assert _pull_started(sink, slow.local_uid)

    fast = [register(server)[1] for _ in range(5)]
    for req in fast:  # registered while the slow one is still being pulled
        assert sink.wait_for(req.message_id, timeout=20).status == "success"
    assert not sink.release.is_set()
    assert all(r.local_uid != slow.local_uid for r in sink.results)

    sink.release.set()
    assert sink.wait_for(slow.message_id, timeout=20).status == "success"
