"""Statements run on the DBAPI cursor (store/prepared.py) write and read exactly what SQLAlchemy's
``execute`` does, on a SQLite file and on a real PostgreSQL, and fail with SQLAlchemy's exceptions."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from pg_database import database_url
from sqlalchemy import insert, select

from mock_remd.store import schema as t
from mock_remd.store.engine import Database
from mock_remd.store.faults import is_conflict
from mock_remd.store.prepared import PreparedInsert


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path):
    with database_url(request.param, tmp_path, prefix="mock_remd_prepared") as url:
        database = Database(url)
        yield database
        database.engine.dispose()


def _rows(db: Database, table, ids) -> list[dict]:
    with db.transaction(write=False) as c:
        rows = c.execute(select(table).where(table.c.id.in_(ids)).order_by(table.c.id)).all()
    return [{k: v for k, v in r._mapping.items() if k != "id"} for r in rows]


def test_insert_matches_sqlalchemy_defaults_and_types(db):
    when = dt.datetime(2026, 12, 6, 12, 30, 15, 123456)
    entry = {"message_id": "m-1", "operation": "registerDocument", "received_at": when, "local_uid": "Ю-1",
             "errors": [{"code": "VALIDATION_ERROR", "message": "Значение «x»"}], "detail": {"facts": {"a": [1, 2]}},
             "duration_ms": 1.5}
    prepared = PreparedInsert(t.requests, returning="id")
    with db.transaction() as c:
        mine = prepared.insert(c, entry)
        theirs = c.execute(insert(t.requests).returning(t.requests.c.id), entry).scalar_one()
    assert isinstance(mine, int) and theirs == mine + 1
    a, b = _rows(db, t.requests, [mine, theirs])
    assert a == b
    assert a["received_at"] == when and a["http_status"] == 200 and a["scenario"] is None


def test_insert_without_returning_and_binary(db):
    prepared = PreparedInsert(t.payloads)
    content = bytes(range(256)) * 10
    with db.transaction() as c:
        assert prepared.insert(c, {"document_id": 7, "request": {"local_uid": "x"}, "content": content}) is None
    with db.transaction(write=False) as c:
        row = c.execute(select(t.payloads).where(t.payloads.c.document_id == 7)).one()
    assert row.content == content and row.request == {"local_uid": "x"}


def test_insert_many_writes_what_insert_writes_in_row_order(db):
    """One multi-row insert stores the rows :meth:`insert` stores one by one (defaults, JSON, dates), and
    gives their keys in the order of the rows (SQLite: from the rowid; PostgreSQL: matched by a column)."""
    when = dt.datetime(2026, 12, 7, 9, 0, 0, 5)
    entries = [{"message_id": f"m-{n}", "operation": "registerDocument", "received_at": when + dt.timedelta(seconds=n),
                "local_uid": f"Ю-{n}", "errors": [{"code": "X", "message": "Значение"}] if n % 2 else [],
                "detail": {"n": n} if n % 3 else None, "http_status": 500 + n} for n in range(7)]
    prepared = PreparedInsert(t.requests, returning="id")
    with db.transaction() as c:
        one_by_one = [prepared.insert(c, e) for e in entries]
        together = prepared.insert_many(c, entries, match="message_id")
        assert PreparedInsert(t.payloads).insert_many(c, [{"document_id": n, "content": b"x"} for n in (1, 2)]) == []
    assert len(set(together)) == 7 and min(together) > max(one_by_one)
    assert _rows(db, t.requests, one_by_one) == _rows(db, t.requests, together)
    assert [r["message_id"] for r in _rows(db, t.requests, together)] == [e["message_id"] for e in entries]
    if db.is_sqlite:
        assert together == list(range(together[0], together[0] + 7))


def test_insert_many_keeps_within_sqlites_variable_limit(tmp_path):
    """Rows binding more values than the connection takes in one statement go in several statements."""
    db = Database(f"sqlite:///{tmp_path / 'limit.db'}")
    statements: list[str] = []
    columns = len(t.requests.c) - 1  # every column but the key
    try:
        with db.transaction() as c:
            raw = c.connection.dbapi_connection
            before = raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 2 * columns + 1)  # two rows a statement
            raw.set_trace_callback(statements.append)
            try:
                ids = PreparedInsert(t.requests, returning="id").insert_many(
                    c, [{"message_id": f"m-{n}", "operation": "op", "received_at": dt.datetime(2026, 12, 7)}
                        for n in range(5)])
            finally:
                raw.set_trace_callback(None)
                raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, before)
        assert ids == [1, 2, 3, 4, 5] and sum(s.startswith("INSERT") for s in statements) == 3
        with db.transaction(write=False) as c:
            assert [r[0] for r in c.execute(select(t.requests.c.message_id).order_by(t.requests.c.id))] == [
                f"m-{n}" for n in range(5)]
    finally:
        db.engine.dispose()


def test_database_errors_are_sqlalchemy_errors(db):
    prepared = PreparedInsert(t.payloads)
    with db.transaction() as c:
        prepared.insert(c, {"document_id": 8})
    with pytest.raises(Exception) as info, db.transaction() as c:
        prepared.insert(c, {"document_id": 8})  # the same primary key again
    assert is_conflict(info.value)


def test_large_content_is_written_in_place_and_reads_back(tmp_path):
    """A document over 1 MB goes into SQLite by blob I/O (no copy left in the statement cache)."""
    from mock_remd.store.documents import NewDocument
    from mock_remd.store.journal import NewJournalEntry
    from mock_remd.store.repository import Store

    store = Store(f"sqlite:///{tmp_path / 'big.db'}")
    content = bytes(range(256)) * (6 * 1024)  # 1.5 MB
    new = NewDocument(local_uid="6f1c4a52-0f0e-4b7e-9a57-1a2b3c4d5e6f", message_id="m", system="demo",
                      organization="1.2.3", kind="186", request={"local_uid": "x"}, content=content)
    accept = store.documents.accept_unless_duplicate
    assert accept(new, NewJournalEntry("registerDocument", message_id="m"), store.journal) is None
    doc = store.documents.get(new.local_uid)
    assert doc.content == content and doc.request == {"local_uid": "x"}
    assert accept(new, NewJournalEntry("registerDocument", message_id="m2"), store.journal).id == doc.id


def test_claimed_jobs_and_finished_outcomes_match_sqlalchemy(db):
    """The processor's claim (rows and payloads read on the cursor), its batch write (numbers drawn
    together, outcomes by executemany, leases held by a list) give what ``execute`` gives."""
    from mock_remd.store.documents import Document, DocumentOutcome, NewDocument
    from mock_remd.store.journal import NewJournalEntry
    from mock_remd.store.repository import Store

    store = Store(db.url)
    content = "<ClinicalDocument>Ю</ClinicalDocument>".encode()
    for n in range(5):
        new = NewDocument(local_uid=f"Ю-{n}", message_id=f"m{n}", system="demo", kind="119",
                          request={"local_uid": f"Ю-{n}", "signs": [1, 2]}, content=content,
                          behaviour={"callback": {"delay_ms": n}} if n % 2 else None)
        assert store.documents.accept_unless_duplicate(new, NewJournalEntry("registerDocument"), store.journal) is None
    jobs = store.documents.claim_jobs("me", limit=4, probe=False)
    assert [j.local_uid for j in jobs] == [f"Ю-{n}" for n in range(4)]  # oldest due first
    with db.transaction(write=False) as c:
        theirs = {r.id: Document.of(r) for r in c.execute(select(t.documents).where(t.documents.c.id.in_(
            [j.id for j in jobs])))}
    for job in jobs:
        doc = theirs[job.id]
        assert {k: v for k, v in vars(job).items() if k not in ("request", "content")} == {
            k: getattr(doc, k) for k in vars(job) if k not in ("request", "content")}
        assert job.request == {"local_uid": job.local_uid, "signs": [1, 2]} and job.content == content
        assert doc.job_state == "claimed" and doc.job_owner == "me"

    assert store.documents.hold([j.id for j in jobs] + [999], "someone else") == set()
    with store.transaction() as tx:
        assert tx.documents.hold([j.id for j in jobs] + [999], "me") == {j.id for j in jobs}
        assert tx.sequences.take("emdr", 3) == [1, 2, 3]
        tx.documents.finish_all([
            (jobs[0].id, DocumentOutcome("registered", layers=[{"name": "xml"}], emdr_id="E-1",
                                         registration_date_time="2026-12-06T18:00:00+03:00",
                                         store_till_date="2076-12-06"), None),
            (jobs[1].id, DocumentOutcome("rejected", errors=[{"code": "X", "message": "Ошибка"}]), b"pulled"),
            (jobs[2].id, DocumentOutcome("failed", emdr_id="never alone"), None),  # a shape of its own
        ])
    assert store.sequences.next("emdr") == 4
    first, second, third = (store.documents.by_id(j.id) for j in jobs[:3])
    assert (first.status, first.emdr_id, first.layers, first.job_state, first.job_lease_until) == (
        "registered", "E-1", [{"name": "xml"}], "done", None)
    assert first.store_till_date == "2076-12-06" and first.content == content
    assert (second.status, second.errors, second.emdr_id, second.content) == (
        "rejected", [{"code": "X", "message": "Ошибка"}], None, b"pulled")
    assert (third.status, third.emdr_id, third.job_state) == ("failed", "never alone", "done")
    [last] = store.documents.claim_jobs("other", limit=10)  # the fourth is still held by "me"
    assert last.local_uid == "Ю-4" and last.behaviour is None
    store.close()


def test_json_columns_keep_what_orjson_refuses_and_read_older_text(db):
    """JSON columns are written by orjson; a value it refuses (an integer over 64 bits, a lone surrogate)
    is written by the standard library as before, and text only the standard library reads (NaN, which
    PostgreSQL refuses and SQLite keeps) still reads."""
    from sqlalchemy import text

    odd = {"big": 2**70, "surrogate": "\ud800", "ru": "Значение «x»"}
    with db.transaction() as c:
        rid = PreparedInsert(t.requests, returning="id").insert(
            c, {"message_id": "m-odd", "operation": "registerDocument", "received_at": dt.datetime(2026, 12, 6),
                "detail": odd})
        if db.is_sqlite:
            c.execute(text("UPDATE requests SET scenario = :s WHERE id = :id"), {"s": '{"ms": NaN}', "id": rid})
    with db.transaction(write=False) as c:
        row = c.execute(select(t.requests.c.detail, t.requests.c.scenario).where(t.requests.c.id == rid)).one()
    assert row.detail == odd
    if db.is_sqlite:
        assert str(row.scenario["ms"]) == "nan"


def test_transaction_control_fails_with_sqlalchemys_exception(tmp_path):
    """BEGIN/COMMIT/ROLLBACK of a SQLite transaction run on the DBAPI connection; a COMMIT that fails
    (a deferred foreign key broken) raises SQLAlchemy's IntegrityError, as exec_driver_sql did."""
    from sqlalchemy.exc import IntegrityError

    db = Database(f"sqlite:///{tmp_path / 'fk.db'}")
    with db.transaction() as c:
        c.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        c.exec_driver_sql("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER "
                          "REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)")
    with db.engine.connect() as c:  # the pool hands this connection out again below
        c.exec_driver_sql("PRAGMA foreign_keys=ON")
    with pytest.raises(IntegrityError), db.transaction() as c:
        c.exec_driver_sql("INSERT INTO child (parent_id) VALUES (7)")
    with pytest.raises(RuntimeError), db.transaction() as c:
        c.exec_driver_sql("INSERT INTO parent (id) VALUES (1)")
        raise RuntimeError("rolled back")
    with db.transaction() as c:
        c.exec_driver_sql("INSERT INTO parent (id) VALUES (7)")
        c.exec_driver_sql("INSERT INTO child (parent_id) VALUES (7)")
    with db.transaction(write=False) as c:
        assert [r[0] for r in c.exec_driver_sql("SELECT id FROM parent")] == [7]
        assert [r[0] for r in c.exec_driver_sql("SELECT parent_id FROM child")] == [7]
    db.engine.dispose()


@pytest.mark.parametrize("when", [dt.datetime(2026, 12, 7, 2, 30, 0, 0), dt.datetime(2026, 12, 7, 2, 30, 15, 7),
                                  dt.datetime(2026, 12, 7, 2, 30, 15, 7, tzinfo=dt.UTC)])
def test_sqlite_stores_the_same_text_as_sqlalchemy(tmp_path, when):
    """The faster conversions of datetimes and JSON values (SQLite) store the very text SQLAlchemy stores."""
    db = Database(f"sqlite:///{tmp_path / 'text.db'}")
    try:
        prepared = PreparedInsert(t.requests, returning="id")
        for entry in ({"message_id": "m", "operation": "op", "received_at": when, "errors": [], "scenario": None,
                       "detail": None},
                      {"message_id": "m", "operation": "op", "received_at": when, "scenario": "s",
                       "errors": [{"code": "X", "message": "Значение «x»"}], "detail": {"a": [1, 2.5, True, None]}}):
            with db.transaction() as c:
                mine = prepared.insert(c, entry)
                theirs = c.execute(insert(t.requests).returning(t.requests.c.id), entry).scalar_one()
            with db.transaction(write=False) as c:
                raw = c.exec_driver_sql("SELECT received_at, errors, scenario, detail FROM requests WHERE id IN (?, ?) "
                                        "ORDER BY id", (mine, theirs)).all()
            assert raw[0] == raw[1]
    finally:
        db.engine.dispose()


def test_sqlite_datetimes_of_one_row_and_the_next_keep_their_own_text(tmp_path):
    """The last datetime's text is reused for an equal one only: alternating, equal-but-new and aware values."""
    db = Database(f"sqlite:///{tmp_path / 'text.db'}")
    try:
        prepared = PreparedInsert(t.requests, returning="id")
        a, b = dt.datetime(2026, 12, 7, 5, 0, 0, 1), dt.datetime(2026, 12, 7, 5, 0, 0, 2)
        values = [a, a, b, a, dt.datetime(2026, 12, 7, 5, 0, 0, 1), dt.datetime(2026, 12, 7, 5, 0, 0, 1, tzinfo=dt.UTC), b]
        with db.transaction() as c:
            ids = [prepared.insert(c, {"message_id": "m", "operation": "op", "received_at": v}) for v in values]
            theirs = [c.execute(insert(t.requests).returning(t.requests.c.id),
                                {"message_id": "m", "operation": "op", "received_at": v}).scalar_one() for v in values]
        with db.transaction(write=False) as c:
            def text(i: int) -> str:
                return c.exec_driver_sql("SELECT received_at FROM requests WHERE id = ?", (i,)).scalar_one()
            assert [text(i) for i in ids] == [text(i) for i in theirs]
    finally:
        db.engine.dispose()


def test_sqlite_json_is_stored_as_text_whether_ascii_or_not(tmp_path):
    """A JSON column bound as UTF-8 (Utf8Json) is TEXT in SQLite, SQLite's JSON functions read it, and it
    reads back through SQLAlchemy as the value written."""
    db = Database(f"sqlite:///{tmp_path / 'json.db'}")
    try:
        prepared = PreparedInsert(t.requests, returning="id")
        values = [{"code": "X", "message": "Значение «x» \\ \"q\""}, {"a": [1, 2.5, True, None]}, None, "ё"]
        with db.transaction() as c:
            ids = [prepared.insert(c, {"message_id": "m", "operation": "op", "received_at": dt.datetime(2026, 12, 7),
                                       "detail": v}) for v in values]
        with db.transaction(write=False) as c:
            for i, v in zip(ids, values, strict=True):
                kind, valid = c.exec_driver_sql("SELECT typeof(detail), json_valid(detail) FROM requests WHERE id = ?",
                                                (i,)).one()
                assert (kind, valid) == ("text", 1)
                assert c.execute(select(t.requests.c.detail).where(t.requests.c.id == i)).scalar_one() == v
    finally:
        db.engine.dispose()


def test_transaction_control_out_of_place_fails_as_execute_did(tmp_path):
    """COMMIT and ROLLBACK run by the connection's own methods and BEGIN as a script (the GIL let go once,
    not five times) still fail where no transaction is open, and a BEGIN inside one commits nothing."""
    from sqlalchemy.exc import OperationalError

    from mock_remd.store.engine import _control

    db = Database(f"sqlite:///{tmp_path / 'control.db'}")
    try:
        with db.engine.connect() as conn:
            for sql in ("COMMIT", "ROLLBACK"):
                with pytest.raises(OperationalError):
                    _control(conn, sql)
            _control(conn, "BEGIN IMMEDIATE")
            conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
            with pytest.raises(OperationalError):
                _control(conn, "BEGIN IMMEDIATE")
            assert conn.connection.dbapi_connection.in_transaction
            _control(conn, "ROLLBACK")
            _control(conn, "BEGIN")
            assert conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name = 't'").scalar() == 0
            _control(conn, "COMMIT")
            assert not conn.connection.dbapi_connection.in_transaction
    finally:
        db.engine.dispose()
