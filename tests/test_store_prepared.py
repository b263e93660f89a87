"""Statements run on the DBAPI cursor (store/prepared.py) write and read exactly what SQLAlchemy's
``execute`` does, on a SQLite file and on a real PostgreSQL, and fail with SQLAlchemy's exceptions."""

from __future__ import annotations

import datetime as dt

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
