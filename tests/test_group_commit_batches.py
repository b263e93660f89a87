"""A group commit's batch of accepted registrations is written in a few multi-row statements
(store/documents.py ``_Accept.apply_many``) and ends exactly as the same writes made one by one: the
same answers (a localUid already registered or pending, in the store or earlier in the batch, is a
duplicate), the same documents, payloads and journal rows with the same ids; a write that fails fails
alone. On a SQLite file and on a real PostgreSQL."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time

import pytest
from pg_database import database_url
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mock_remd.store import schema as t
from mock_remd.store.documents import NewDocument, SeededDocument
from mock_remd.store.group_commit import GroupCommitter
from mock_remd.store.journal import NewJournalEntry
from mock_remd.store.prepared import LARGE_BLOB_BYTES
from mock_remd.store.repository import Store

WHEN = dt.datetime(2026, 12, 7, 10, 0, 0, 123456)


class _Held(GroupCommitter):
    """A group commit whose next transaction starts only once ``release`` is called: the writes
    queued until then are one batch. Counts its transactions."""

    def __init__(self, db) -> None:  # noqa: ANN001
        super().__init__(db)
        self.gate = threading.Event()
        self.transactions = 0

    @contextlib.contextmanager
    def _transaction(self, wait: bool = True):  # noqa: ANN202
        self.gate.wait(30)
        self.transactions += 1
        with super()._transaction(wait) as c:
            yield c


@contextlib.contextmanager
def _stores(backend: str, tmp_path, **kwargs):
    """Two empty stores of ``backend``: one whose writes go through a held group commit, one that
    writes each on its own (no group commit: the reference)."""
    with database_url(backend, tmp_path / "a" if backend == "sqlite" else tmp_path, prefix="mock_remd_gcb") as a, \
            database_url(backend, tmp_path / "b" if backend == "sqlite" else tmp_path, prefix="mock_remd_gcb") as b:
        batched, alone = Store(a, **kwargs), Store(b, **kwargs)
        held = _Held(batched.db)
        batched.documents.group = batched.journal.group = held
        alone.documents.group = alone.journal.group = None
        try:
            yield batched, held, alone
        finally:
            batched.close()
            alone.close()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    return request.param


def _write(uid: str, n: int, *, content: bytes = b"<cda/>", operation: str | None = "registerDocument"):
    """The arguments of one accepted registration (``operation`` None: a journal row that cannot be written)."""
    doc = NewDocument(local_uid=uid, message_id=f"{n:08d}-1111-4111-8111-000000000000", system="demo",
                      organization="1.2.643.5.1.13.13.12.2.50.99999", kind="119", creation_date_time="2026-12-07",
                      patient_snils="12345678964", document_number=f"N-{n}",
                      request={"local_uid": uid, "n": n, "name": "Иванов"}, content=content,
                      behaviour={"rule": n} if n % 2 else None)
    entry = NewJournalEntry(operation=operation, message_id=doc.message_id, system="demo", local_uid=uid, kind="119",
                            sync_status="success", detail={"facts": {"n": n}}, received_at=WHEN + dt.timedelta(seconds=n))
    return doc, entry


def _in_one_batch(store: Store, held: _Held, writes) -> list:
    """``writes`` submitted by one thread each, queued in their order, applied once all are queued; each
    one's answer (or exception)."""
    results: list = [None] * len(writes)
    held.gate.clear()

    def run(i: int) -> None:
        try:
            results[i] = _submit(store, writes[i])
        except Exception as exc:  # noqa: BLE001 - the test looks at which write failed
            results[i] = exc

    threads = []
    for i in range(len(writes)):
        threads.append(threading.Thread(target=run, args=(i,)))
        threads[-1].start()
        while held._queue.qsize() < i + 1:  # noqa: SLF001 - queued in this order
            time.sleep(0.001)
    held.gate.set()
    for th in threads:
        th.join(60)
    assert not any(th.is_alive() for th in threads)
    return results


def _submit(store: Store, write) -> object:
    """One write: an accepted registration (document, journal entry) or a journal entry alone."""
    if isinstance(write, NewJournalEntry):
        return store.journal.add(write)
    return store.documents.accept_unless_duplicate(*write, store.journal)


def _one_by_one(store: Store, writes) -> list:
    results = []
    for write in writes:
        try:
            results.append(_submit(store, write))
        except Exception as exc:  # noqa: BLE001
            results.append(exc)
    return results


def _tables(store: Store, *, ids: bool = True) -> dict[str, list[dict]]:
    """The rows of the tables a registration writes, in order (but the seeded documents' times, taken
    from the clock; without ``ids``, the keys too)."""
    with store.db.transaction(write=False) as c:
        tables = {table.name: [r._asdict() for r in c.execute(select(table).order_by(*table.primary_key.columns))]
                  for table in (t.documents, t.payloads, t.requests)}
    for doc in tables["documents"]:
        if doc["seeded"]:
            doc["received_at"] = doc["updated_at"] = None
    if not ids:
        for name, key in (("documents", "id"), ("payloads", "document_id"), ("requests", "id")):
            for row in tables[name]:
                del row[key]
    return tables


def _seed(store: Store) -> None:
    store.documents.seed(SeededDocument(local_uid="Seeded-1", kind="119", organization="1.2.643.5.1.13.13.12.2.50.99999",
                                        registration_date_time="2026-12-01T10:00:00+03:00",
                                        store_till_date="2036-12-01", emdr_id="1.50.26.11.000000001", system="demo"))


def test_a_batch_answers_and_writes_as_each_write_alone(backend, tmp_path):
    large = b"L" * (LARGE_BLOB_BYTES + 10)  # SQLite: written into the blob in place
    first = [_write("A-1", 1), _write("B-1", 2), _write("a-1", 3),  # the same localUid as A-1, another case
             _write("Seeded-1", 4), _write("C-1", 5, content=large), _write("A-1", 6), _write("D-1", 7, content=None)]
    second = [_write("b-1", 8), _write("E-1", 9), _write("E-1", 10), _write("F-1", 11)]  # B-1 from the first batch
    with _stores(backend, tmp_path) as (batched, held, alone):
        for store in (batched, alone):
            _seed(store)
        got = _in_one_batch(batched, held, first) + _in_one_batch(batched, held, second)
        expected = _one_by_one(alone, first + second)
        assert held.transactions == 2
        assert got == expected
        a1, b1, seeded, e1 = (alone.documents.get(u) for u in ("a-1", "b-1", "seeded-1", "e-1"))
        assert [None if r is None else (r.id, r.status, r.emdr_id, r.local_uid) for r in got] == [
            None, None, (a1.id, "pending", None, "A-1"), (seeded.id, "registered", seeded.emdr_id, "Seeded-1"), None,
            (a1.id, "pending", None, "A-1"), None, (b1.id, "pending", None, "B-1"), None,
            (e1.id, "pending", None, "E-1"), None]
        assert _tables(batched) == _tables(alone)
        assert batched.documents.get("c-1").content == large


def test_a_failing_write_fails_alone_the_others_are_committed(backend, tmp_path):
    writes = [_write("A-1", 1), _write("B-1", 2, operation=None), _write("C-1", 3), _write("A-1", 4)]
    with _stores(backend, tmp_path) as (batched, held, alone):
        got = _in_one_batch(batched, held, writes)
        expected = _one_by_one(alone, writes)
        assert isinstance(got[1], IntegrityError) and isinstance(expected[1], IntegrityError)
        assert got[0] is None and got[2] is None and expected[0] is None and expected[2] is None
        # PostgreSQL: the batch that rolled back used up numbers of the sequences (the keys differ)
        assert got[3].id == batched.documents.get("a-1").id and expected[3].id == alone.documents.get("a-1").id
        assert vars(got[3]) | {"id": 0} == vars(expected[3]) | {"id": 0}
        assert held.transactions == 1 + len(writes)  # the batch, then each write alone
        assert batched.documents.get("b-1") is None
        assert _tables(batched, ids=backend == "sqlite") == _tables(alone, ids=backend == "sqlite")


def test_the_journal_is_pruned_as_one_by_one(backend, tmp_path):
    writes = [_write(f"U-{n}", n) for n in range(150)]
    with _stores(backend, tmp_path, journal_size=3) as (batched, held, alone):
        for start in range(0, len(writes), 50):
            assert _in_one_batch(batched, held, writes[start:start + 50]) == [None] * 50
        assert _one_by_one(alone, writes) == [None] * 150
        assert _tables(batched) == _tables(alone)
        assert len(_tables(batched)["requests"]) == 150 - 97


def test_journal_entries_alone_join_the_batch(backend, tmp_path):
    """Requests journaled without a document (refusals, searches) are written together too; each gets its id."""
    alone_entries = [NewJournalEntry(operation="searchRegistryItem", message_id=f"s-{n}", sync_status="success",
                                     received_at=WHEN) for n in range(3)]
    writes = [_write("A-1", 1), alone_entries[0], _write("B-1", 2), alone_entries[1], alone_entries[2]]
    with _stores(backend, tmp_path) as (batched, held, alone):
        got = _in_one_batch(batched, held, writes)
        expected = _one_by_one(alone, writes)
        assert got[0] is got[2] is expected[0] is expected[2] is None
        assert held.transactions == 1
        rows = _tables(batched, ids=False)
        assert sorted(map(repr, rows["requests"])) == sorted(map(repr, _tables(alone, ids=False)["requests"]))
        assert rows["documents"] == _tables(alone, ids=False)["documents"]
        by_id = {r["id"]: r["message_id"] for r in _tables(batched)["requests"]}
        assert sorted(by_id[i] for i in (got[1], got[3], got[4])) == ["s-0", "s-1", "s-2"]
        if backend == "sqlite":
            assert [by_id[i] for i in (got[1], got[3], got[4])] == ["s-0", "s-1", "s-2"]
