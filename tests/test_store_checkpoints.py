"""WAL checkpoints by a thread of a background process (store/checkpoints.py), on a real SQLite file:
writers leave the log to it, it copies the log into the database file, and the log starts over."""

from __future__ import annotations

import os
import sqlite3
import threading

from sqlalchemy import text

from mock_remd.store.checkpoints import Checkpointer
from mock_remd.store.engine import WAL_FALLBACK_PAGES, Database


def _db(tmp_path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'ck.db'}")
    with db.transaction() as c:
        c.exec_driver_sql("CREATE TABLE t (n INTEGER PRIMARY KEY, body BLOB)")
    return db


def _write(db: Database, start: int, count: int) -> None:
    for n in range(start, start + count):
        with db.transaction() as c:
            c.execute(text("INSERT INTO t (n, body) VALUES (:n, :b)"), {"n": n, "b": os.urandom(9000)})


def _rows_in_the_file(path) -> int:
    """Rows in the database file itself, the log ignored (the stdlib's own SQLite, read-only); 0 when
    not even the table is there yet."""
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        if conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 't'").fetchone()[0] == 0:
            return 0
        return conn.execute("SELECT count(*) FROM t").fetchone()[0]
    finally:
        conn.close()


def test_writers_leave_the_log_to_the_checkpointer_which_copies_it_into_the_file(tmp_path):
    db = _db(tmp_path)
    with db.transaction(write=False) as c:
        assert c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == WAL_FALLBACK_PAGES
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL, as before
    _write(db, 0, 300)  # ~900 pages: past SQLite's default threshold of 1,000 pages with the table, short of ours
    assert _rows_in_the_file(tmp_path / "ck.db") == 0  # no writer copied the log
    ck = Checkpointer(db, restart_pages=64)
    pages, copied = ck.run_once()
    assert pages >= 600 and copied == pages
    assert _rows_in_the_file(tmp_path / "ck.db") == 300
    assert ck.run_once() == (0, 0)  # nothing written since: not even a checkpoint
    ck.stop()
    db.engine.dispose()


def test_the_log_starts_over_once_it_is_long(tmp_path):
    """Each turn after ~300 pages of writes finishes the log under the write lock: the next writer
    starts it over, so the log file stays at one turn's size (without: ~20 MB, every row)."""
    db = _db(tmp_path)
    ck = Checkpointer(db, restart_pages=256)
    for turn in range(20):
        _write(db, turn * 100, 100)
        pages, copied = ck.run_once()
        assert copied == pages >= 256
    assert os.path.getsize(str(tmp_path / "ck.db") + "-wal") < 2 * 1024 * 1024
    assert _rows_in_the_file(tmp_path / "ck.db") == 2000
    ck.stop()
    db.engine.dispose()


def test_writers_and_the_thread_at_once_lose_nothing(tmp_path):
    db = _db(tmp_path)
    ck = Checkpointer(db, interval=0.005, restart_pages=128)
    ck.start()
    writers = [threading.Thread(target=_write, args=(db, k * 10_000, 300)) for k in range(4)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(120)
    ck.stop()
    assert not any(w.is_alive() for w in writers)
    with db.transaction(write=False) as c:
        assert c.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1200
    ck.run_once()
    assert _rows_in_the_file(tmp_path / "ck.db") == 1200
    db.engine.dispose()
