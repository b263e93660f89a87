"""The store and the outbox on SQLite and on a real PostgreSQL: several senders never send one row twice.

PostgreSQL tests need ``MOCK_REMD_TEST_PG_URL`` (``.ci/run`` starts a throwaway cluster and sets it);
without a reachable server they skip with the reason.
"""

from __future__ import annotations

import collections
import datetime as dt
import multiprocessing
import time
import uuid

import pytest
from pg_database import database_url
from remd_requests import DEMO_CLIENT, DEMO_ORG, register

from mock_remd.config import Settings
from mock_remd.delivery.callback_xml import result_envelope
from mock_remd.server.threaded import ThreadedServer
from mock_remd.store.clock import utcnow
from mock_remd.store.documents import NewDocument
from mock_remd.store.journal import NewJournalEntry
from mock_remd.store.outbox import AttemptResult, NewDelivery
from mock_remd.store.repository import Store


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    with database_url(request.param, tmp_path) as url:
        yield url


def _delivery(url: str, n: int) -> NewDelivery:
    relates = f"urn:uuid:{uuid.uuid4()}"
    body = result_envelope({"status": "success", "local_uid": f"doc-{n}", "emdr_id": f"1.50.26.11.{n:09d}"},
                           relates_to=relates, to=url)
    return NewDelivery(relates_to=relates.split(":")[-1], local_uid=f"doc-{n}", url=url, body=body,
                       backoff=[0.05, 0.05])


def test_claims_are_exclusive_between_stores(db_url):
    a, b = Store(db_url), Store(db_url)
    for n in range(50):
        a.outbox.add(_delivery("http://127.0.0.1:9/x", n))
    taken_a, taken_b = [], []
    for _ in range(10):
        taken_a += [r.id for r in a.outbox.claim("a", limit=4)]
        taken_b += [r.id for r in b.outbox.claim("b", limit=4)]
    assert len(taken_a) + len(taken_b) == 50
    assert set(taken_a).isdisjoint(taken_b)
    assert a.outbox.claim("a") == []  # all leased


def test_expired_lease_is_claimed_again(db_url):
    s = Store(db_url)
    s.outbox.add(_delivery("http://127.0.0.1:9/x", 1))
    [row] = s.outbox.claim("crashed", lease_seconds=-1)  # a sender that died mid-send
    again = s.outbox.claim("next")
    assert [r.id for r in again] == [row.id]


def test_a_sender_whose_lease_lapsed_logs_only_what_it_still_holds(db_url):
    # a batch's attempts are written together: the deliveries another sender took over meanwhile are
    # left to it ("gone"), the others get their attempt logged, retried or done
    s = Store(db_url)
    s.outbox.add_all([_delivery("http://127.0.0.1:9/x", n) for n in range(3)])
    rows = s.outbox.claim("slow", limit=3, lease_seconds=-1)
    [taken] = s.outbox.claim("next", limit=1)  # the lapsed lease of the oldest: taken over
    results = [AttemptResult(r.id, {"at": "t", "http_status": 200 if i else 500}, bool(i), None if i else utcnow(),
                             attempts_before=list(r.attempts), count_before=r.attempt_count)
               for i, r in enumerate(rows)]
    statuses = s.outbox.record_attempts(results, owner="slow")
    expected = ["gone" if r.id == taken.id else "delivered" if i else "pending" for i, r in enumerate(rows)]
    assert statuses == expected
    assert s.outbox.get(taken.id).owner == "next" and s.outbox.get(taken.id).attempts == []
    for r, status in zip(rows, expected, strict=True):
        if status != "gone":
            d = s.outbox.get(r.id)
            assert (d.status, d.owner, d.attempt_count, len(d.attempts)) == (status, None, 1, 1)


def test_jobs_claimed_once_and_sequence_unique(db_url):
    a, b = Store(db_url), Store(db_url)
    for n in range(20):
        assert a.documents.accept_unless_duplicate(NewDocument(local_uid=f"u{n}", kind="119", request={}),
                                                   NewJournalEntry("registerDocument", local_uid=f"u{n}"),
                                                   a.journal) is None
    ids = [r.id for _ in range(6) for s in (a, b) for r in s.documents.claim_jobs(str(id(s)), limit=3)]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 20
    seqs = [a.sequences.next("emdr") if i % 2 else b.sequences.next("emdr") for i in range(30)]
    assert sorted(seqs) == list(range(1, 31))


def test_accept_refuses_an_active_local_uid_and_changes_nothing(db_url):
    """A registered or pending document with the localUid (any case) is returned and nothing is written;
    a rejected one does not count; one transaction, whichever way the check is made (SQLite: in the insert)."""
    from mock_remd.store.documents import DocumentOutcome

    s = Store(db_url)

    def accept(uid: str):
        return s.documents.accept_unless_duplicate(NewDocument(local_uid=uid, kind="119", request={"n": 1}, content=b"x"),
                                                   NewJournalEntry("registerDocument", local_uid=uid), s.journal)

    assert accept("Dup-1") is None
    first = s.documents.get("dup-1")
    journaled = s.journal.list()[1]
    again = accept("DUP-1")
    assert again is not None and (again.id, again.status, again.local_uid) == (first.id, "pending", "Dup-1")
    assert len(s.documents.history("dup-1")) == 1 and s.journal.list()[1] == journaled
    s.documents.finish(first.id, DocumentOutcome(status="rejected"))
    assert accept("dup-1") is None  # a rejected attempt does not block a new one
    newest = s.documents.get("dup-1")
    assert newest.id != first.id and newest.status == "pending" and newest.content == b"x"
    assert s.documents.payload(newest.id) == ({"n": 1}, b"x") and s.journal.list()[1] == journaled + 1
    assert accept("dup-1").id == newest.id


def _sender_process(db_url: str, deadline: float) -> None:
    from mock_remd.delivery.sender import CallbackSender
    from mock_remd.store.repository import Store as _Store

    store = _Store(db_url)
    sender = CallbackSender(store, timeout=5, threads=4)
    sender.start()
    try:
        while time.time() < deadline:
            if store.count_pending_work().deliveries == 0:
                break
            time.sleep(0.05)  # this process only watches the shared store until the work is done
    finally:
        sender.stop()


def test_two_sender_processes_deliver_each_callback_once(db_url, sink):
    store = Store(db_url)
    total = 300
    for n in range(total):
        store.outbox.add(_delivery(sink.url, n))
    ctx = multiprocessing.get_context("spawn")
    deadline = time.time() + 60
    procs = [ctx.Process(target=_sender_process, args=(db_url, deadline)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(70)
    assert all(p.exitcode == 0 for p in procs)
    received = collections.Counter(r.local_uid for r in sink.results)
    assert sink.requests_seen == total, f"{sink.requests_seen} POSTs for {total} callbacks"
    assert len(received) == total and set(received.values()) == {1}
    rows, n = store.outbox.list(status="delivered", limit=1000)
    assert n == total and all(len(r.attempts) == 1 for r in rows)


def test_server_end_to_end_on_each_backend(db_url, sink):
    systems = [{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": sink.url, "organizations": [DEMO_ORG]}]
    srv = ThreadedServer(Settings.load({"db_url": db_url, "port": 0, "validation": "none", "systems": systems},
                                       environ={})).start()
    try:
        _, req = register(srv)
        result = sink.wait_for(req.message_id)
        assert result.status == "success"
        import requests

        doc = requests.get(f"{srv.url}/_admin/documents/{req.local_uid}").json()
        assert doc["emdr_id"] == result.emdr_id
        assert requests.post(f"{srv.url}/_admin/reset").status_code == 200
        assert requests.get(f"{srv.url}/_admin/documents").json()["total"] == 0
    finally:
        srv.stop()


def test_version_chain_on_each_backend(db_url, sink):
    """Links, the current version in search and getRegistryItem, and the chain, on SQLite file and PostgreSQL."""
    import requests
    from test_document_life import _gen, _next, _registered

    from mock_remd.soap.builders import get_item_envelope, search_envelope

    systems = [{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": sink.url, "organizations": [DEMO_ORG]}]
    srv = ThreadedServer(Settings.load({"db_url": db_url, "port": 0, "validation": "none", "signatures": "off",
                                        "systems": systems}, environ={})).start()
    try:
        v1 = _gen("119", 701)
        emdr1 = _registered(srv, sink, v1.request)
        v2 = _next(v1.content)
        emdr2 = _registered(srv, sink, v2.request)
        v3 = _next(v2.content, target=emdr2)
        emdr3 = _registered(srv, sink, v3.request)
        found = requests.post(srv.soap_url, data=search_envelope({}, client_entity_id=DEMO_CLIENT),
                              headers={"Content-Type": "application/soap+xml"}).text
        assert v3.local_uid in found and v1.local_uid not in found and v2.local_uid not in found
        item = requests.post(srv.soap_url, data=get_item_envelope(emdr1, client_entity_id=DEMO_CLIENT),
                             headers={"Content-Type": "application/soap+xml"}).text
        assert emdr3 in item
        doc = requests.get(f"{srv.url}/_admin/documents/{v1.local_uid}").json()
        assert [v["emdr_id"] for v in doc["versions"]] == [emdr1, emdr2, emdr3]
        assert requests.post(f"{srv.url}/_admin/reset").status_code == 200
        assert requests.get(f"{srv.url}/_admin/documents/{emdr1}").status_code == 404
    finally:
        srv.stop()


@pytest.mark.parametrize(("table", "old_index", "kept_index"), [
    # requests.local_uid is looked up case-insensitively: its old plain index only cost every
    # registration one more page write
    ("requests", "ix_requests_local_uid", "ix_requests_message_id"),
    # documents.status: the searches by status scan anyway; it cost every accepted registration and
    # every outcome one more index page
    ("documents", "ix_documents_status", "ix_documents_local_uid"),
])
def test_an_index_no_query_uses_is_dropped_from_an_older_store(db_url, table, old_index, kept_index):
    """A store made by an older version loses an index no query uses when it is opened."""
    from sqlalchemy import inspect, text

    first = Store(db_url)
    column = old_index.removeprefix(f"ix_{table}_")
    with first.db.transaction() as c:
        c.execute(text(f"CREATE INDEX {old_index} ON {table} ({column})"))
    first.close()
    again = Store(db_url)
    names = {ix["name"] for ix in inspect(again.db.engine).get_indexes(table)}
    assert kept_index in names and old_index not in names
    again.close()


def test_callbacks_written_together_get_the_ids_of_their_own_rows(db_url):
    # a batch of callbacks is bound before its write and written in runs: each handed delivery must
    # name its own row (a reset in between must not shift them)
    s = Store(db_url)
    s.outbox.add_all([_delivery("http://127.0.0.1:9/x", n) for n in range(3)])
    s.reset()
    later = utcnow() + dt.timedelta(hours=1)
    batch = [_delivery("http://127.0.0.1:9/y", n) for n in range(300)]
    for d in batch[::7]:
        d.due_at = later  # not due: written pending, not handed
    handed = s.outbox.add_all(batch, hand_to="sender:me")
    assert len(handed) == 300 - len(batch[::7])
    for d in handed:
        row = s.outbox.get(d.id)
        assert (row.body, row.local_uid, row.status, row.owner) == (d.body, d.local_uid, "sending", "sender:me")
    assert len({d.id for d in handed}) == len(handed)
    pending = s.outbox.list(status="pending", limit=1000)[0]
    assert sorted(r.local_uid for r in pending) == sorted(d.local_uid for d in batch[::7])


def test_a_thread_that_keeps_its_connection_runs_its_transactions_on_it(db_url):
    """A background loop's thread keeps one connection between its transactions (SQLite file; on
    PostgreSQL nothing changes): what it writes is committed for other connections, a transaction
    that raises is rolled back and the next one gets a fresh connection, a read inside a write runs
    on another connection (it sees only what is committed), and the connection is closed at the end."""
    from sqlalchemy import text

    store, other = Store(db_url), Store(db_url)
    try:
        with store.db.kept_connection():
            for _ in range(3):  # each its own transaction, on the kept connection
                store.outbox.add(NewDelivery(url="http://127.0.0.1:9/cb", body=b"<x/>", relates_to="kept"))
            with store.db.transaction() as c:
                first = c
            assert other.outbox.list(relates_to="kept")[1] == 3
            with pytest.raises(KeyError), store.db.transaction() as c:
                c.execute(text("DELETE FROM outbox"))
                raise KeyError("a failure of the unit of work")
            assert other.outbox.list(relates_to="kept")[1] == 3  # rolled back
            with store.db.transaction() as c:
                again = c
                with store.db.transaction(write=False) as r:
                    assert r is not c
                    c.execute(text("DELETE FROM outbox WHERE id = (SELECT min(id) FROM outbox)"))
                    assert r.execute(text("SELECT count(*) FROM outbox")).scalar() == 3  # not yet committed
            assert other.outbox.list(relates_to="kept")[1] == 2
            with store.db.transaction() as c:
                kept = c
        if store.db.is_sqlite:
            assert again is not first and kept is again and kept.closed
    finally:
        store.close()
        other.close()


def test_an_emdr_id_names_one_document_and_pending_ones_have_none(db_url):
    """The emdrId index is unique over the documents that have one; any number have none yet."""
    from mock_remd.store.documents import SeededDocument
    from mock_remd.store.faults import is_conflict

    s = Store(db_url)
    for _ in range(3):
        doc = NewDocument(local_uid=f"{uuid.uuid4()}", system="demo", organization=DEMO_ORG, kind="186", request={},
                          content=b"<ClinicalDocument/>")
        assert s.documents.accept_unless_duplicate(doc, NewJournalEntry(operation="registerDocument"), s.journal) is None

    def seeded(local_uid: str) -> SeededDocument:
        return SeededDocument(local_uid=local_uid, kind="186", organization=DEMO_ORG, registration_date_time="",
                              store_till_date="", emdr_id="1.50.26.11.000000001")

    s.documents.seed(seeded(f"{uuid.uuid4()}"))
    with pytest.raises(Exception) as refused:
        s.documents.seed(seeded(f"{uuid.uuid4()}"))
    assert is_conflict(refused.value)
    assert s.documents.registered_by_emdr_id("1.50.26.11.000000001") is not None
    s.close()
