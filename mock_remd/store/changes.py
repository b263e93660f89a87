"""Wake-ups for the background loops: a cheap sign that work may have appeared in the store.

The background processes used to ask the database every 20 ms whether work was due (a read per
loop and poll: about 35 ms of CPU a second per idle process). Now a loop asks only when the store
says it changed, when its own process woke it, when time-based work falls due, or after a bounded
fallback interval (so a missed sign costs latency, never work):

- SQLite file: every commit writes the WAL (a checkpoint the main file), so the ``stat`` of the two
  files changes with every write of any process — one system call per look, no query;
- PostgreSQL: triggers ``NOTIFY`` on a new job or a pending callback, with the table as payload, and
  one ``LISTEN`` connection per process wakes the loops of that table (works across hosts);
- in memory (tests, one process): no sign; the loops look on every tick as before.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

#: the channel the PostgreSQL triggers notify; the payload is the table that has work
CHANNEL = "mock_remd_work"
#: (table, the condition on NEW that means "work for a background loop")
_NOTIFYING = (("documents", "NEW.job_state = 'queued'"), ("outbox", "NEW.status = 'pending'"))


def create_notify_triggers(conn: Connection) -> None:
    """The PostgreSQL triggers behind :class:`PostgresWatch` (run under the schema's advisory lock); every
    process of a server opens the store, and a trigger's DDL locks its table: made only when missing."""
    names = [f"mock_remd_notify_{table}" for table, _ in _NOTIFYING]
    present = conn.execute(text("SELECT count(*) FROM pg_trigger WHERE tgname = ANY(:names) AND NOT tgisinternal"),
                           {"names": names}).scalar()
    if present == len(names):
        return
    conn.execute(text(
        "CREATE OR REPLACE FUNCTION mock_remd_notify_work() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME); RETURN NULL; END $$"))
    for table, condition in _NOTIFYING:  # dropped and made again: CREATE OR REPLACE TRIGGER needs PostgreSQL 14
        conn.execute(text(f"DROP TRIGGER IF EXISTS mock_remd_notify_{table} ON {table}"))
        conn.execute(text(
            f"CREATE TRIGGER mock_remd_notify_{table} AFTER INSERT OR UPDATE ON {table} "
            f"FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION mock_remd_notify_work()"))


class ChangeWatch:
    """No sign to be had: ``token`` is None and the loops look on every tick (as before)."""

    def token(self, table: str) -> Any:
        """A value that changes whenever work of ``table`` may have appeared; None when unknown."""
        return None

    def subscribe(self, table: str, wake: Callable[[], None]) -> None:
        """Call ``wake`` when work of ``table`` appears (where the store can push)."""

    def close(self) -> None:
        """Stop watching."""


class SqliteFileWatch(ChangeWatch):
    """The ``stat`` of the database file and its WAL: they change with every commit of any process."""

    def __init__(self, path: Path) -> None:
        self._files = (str(path), str(path) + "-wal")

    def token(self, table: str) -> Any:
        out = []
        for name in self._files:
            try:
                st = os.stat(name)
            except OSError:
                out.append(None)
                continue
            out.append((st.st_ino, st.st_size, st.st_mtime_ns))
        return tuple(out)


class PostgresWatch(ChangeWatch):
    """``LISTEN`` on one connection of its own, in a thread: a counter per table, and wake-ups.

    While the connection is down the token is None (the loops look on every tick) and the thread
    connects again after a pause.
    """

    #: how long one wait for notifications lasts (and the pause before connecting again), seconds
    WAIT_SECONDS = 1.0

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._counts: dict[str, int] = {}
        self._subscribers: dict[str, list[Callable[[], None]]] = {}
        self._listening = False
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def token(self, table: str) -> Any:
        self._start()
        return self._counts.get(table, 0) if self._listening else None

    def subscribe(self, table: str, wake: Callable[[], None]) -> None:
        self._subscribers.setdefault(table, []).append(wake)
        self._start()

    def _start(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="mock-remd-listen", daemon=True)
                self._thread.start()

    def close(self) -> None:
        # not joined: the thread sees the flag within WAIT_SECONDS and closes its connection itself
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            conn = None
            try:
                raw = self._engine.raw_connection()
                raw.detach()  # ours for as long as we listen, never back to the pool
                conn = raw.dbapi_connection
                conn.autocommit = True
                conn.execute(f"LISTEN {CHANNEL}")
                self._listening = True
                self._notify_all()  # work may have come while nobody listened
                while not self._stop.is_set():
                    for note in conn.notifies(timeout=self.WAIT_SECONDS):
                        self._notify(note.payload)
            except Exception:  # the database is away: look on every tick meanwhile, listen again soon
                log.debug("LISTEN %s failed; trying again", CHANNEL, exc_info=True)
            finally:
                self._listening = False
                if conn is not None:
                    try:
                        conn.close()
                    except Exception:
                        log.debug("closing the LISTEN connection failed", exc_info=True)
            self._stop.wait(self.WAIT_SECONDS)

    def _notify(self, table: str) -> None:
        self._counts[table] = self._counts.get(table, 0) + 1
        for wake in self._subscribers.get(table, ()):
            wake()

    def _notify_all(self) -> None:
        for table in {t for t, _ in _NOTIFYING} | set(self._subscribers):
            self._notify(table)
