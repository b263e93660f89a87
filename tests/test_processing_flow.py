"""The asynchronous leg flows: a slow document (here a getDocumentFile pull the MIS holds open) holds
up no other document of its process; each is registered and called back when it is done."""

from __future__ import annotations

import threading
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


@pytest.mark.parametrize("validations", [0, 1], ids=["one per thread", "one at a time"])
def test_a_slow_document_holds_up_no_other(server, sink, validations):
    """Also where the process validates one document at a time (serve's background processes on a
    machine with as many cores as processes): the pull happens outside that turn."""
    if validations:
        server.runtime.processor.validating = threading.Lock()
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


def test_a_system_changed_by_another_process_applies_to_the_next_document(server, sink, tmp_path):
    """The processor keeps the systems it read until a system is written (the store's change stamp):
    a change made through another connection to the file (another process) applies at once."""
    from mock_remd.store.repository import Store

    first = register(server)[1]
    assert sink.wait_for(first.message_id, timeout=20).status == "success"
    other = Store(f"sqlite:///{tmp_path / 'flow.db'}")
    system = other.systems.get("demo")
    system.send_to_fremd = True  # two-phase callbacks from now on
    other.systems.upsert(system)
    second = register(server)[1]
    assert sink.wait_for(second.message_id, timeout=20).status == "success"
    for _ in range(100):  # bounded: 10 s for both phases to be queued
        notes = sorted(d.note for d in other.outbox.list(local_uid=second.local_uid)[0])
        if len(notes) == 2:
            break
        time.sleep(0.1)  # polling the store until the processor has written the document's callbacks
    assert notes == ["federal", "regional"]
    assert [d.note for d in other.outbox.list(local_uid=first.local_uid)[0]] == [""]
    other.close()
