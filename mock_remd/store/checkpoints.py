"""WAL checkpoints of a SQLite file, run by a thread of a background process instead of by a writer.

SQLite copies the write-ahead log back into the database (a checkpoint) in the connection whose
commit takes the log past ``wal_autocheckpoint`` pages: with the default of 1,000 pages (4 MiB, some
90 registrations) that was most often a synchronous answer's group commit, and it ran while that
writer still held the store's write lock, so every writer of every process waited for the copy and
its two fsyncs (20-40 ms, several times a second under load).

Here a :class:`Checkpointer` copies the log without taking the write lock (``PASSIVE``: writers go on
meanwhile), and once the log is long, copies what was added since under the lock, so that the next
writer starts the log from its beginning again: the log file stays bounded. The writers' own
automatic checkpoint stays on with a high threshold (``WAL_FALLBACK_PAGES`` of :mod:`.engine`), for a store that no
checkpointer serves. The checkpoints sync the log and the database exactly as the writers' did
(``synchronous=NORMAL``): what a commit guarantees does not change.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading

from mock_remd.store.engine import Database, sqlite_file

log = logging.getLogger(__name__)

#: a log of at least this many pages is finished under the write lock (so that it starts over)
RESTART_PAGES = 2048
#: how often the log is looked at, seconds (a ``stat``; a checkpoint only when it grew). Each checkpoint
#: pays for its two fsyncs and for copying the pages written since the last one, once each however
#: often they were written meanwhile (the busy pages of the tables' ends and indexes): every 0.25 s
#: instead of 0.05 s cut the checkpoint thread's CPU under bench-peer's load from 0.16 to 0.09-0.10 ms
#: per request (two alternating pairs). What a commit guarantees does not change: it is in the log when
#: it returns (``synchronous=NORMAL``: the log reaches the disk at the next checkpoint, as before, now
#: at most a quarter second later on a power cut; a process that dies loses nothing)
INTERVAL = 0.25


class Checkpointer:
    """Checkpoints one SQLite file's log from a thread of its own (see the module's text)."""

    def __init__(self, db: Database, *, interval: float = INTERVAL, restart_pages: int = RESTART_PAGES) -> None:
        path = sqlite_file(db.url)
        if path is None or not db.is_sqlite:
            raise ValueError("checkpoints are for a SQLite file")
        self.db = db
        self.path = str(path)
        self.interval = interval
        self.restart_pages = restart_pages
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self._seen: tuple[int, int] | None = None

    def start(self) -> None:
        """Start the thread (in the process that runs it: after a fork)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="mock-remd-checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close its connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # a busy or locked file now: the next turn tries again
                log.debug("checkpoint failed", exc_info=True)
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA synchronous=NORMAL")  # the checkpoint's syncs, as the writers' were
            conn.execute("PRAGMA wal_autocheckpoint=0")  # it never writes; set for clarity
            self._conn = conn
        return self._conn

    def run_once(self) -> tuple[int, int]:
        """One turn: copy the log into the database when it grew; the log's pages and those copied."""
        try:
            st = os.stat(self.path + "-wal")
        except FileNotFoundError:
            return 0, 0
        seen = (st.st_size, st.st_mtime_ns)
        if seen == self._seen:
            return 0, 0
        conn = self._connection()
        pages, copied = self._checkpoint(conn)
        if pages >= self.restart_pages:
            # writers commit while the log is copied (and the copy does not see all they added): finish
            # it while none can, so that the next writer starts the log over (a short copy: most of the
            # log is in the database already)
            with self.db.write_lock():
                pages, copied = self._checkpoint(conn)
        if pages == copied:
            self._seen = seen
        return pages, copied

    @staticmethod
    def _checkpoint(conn: sqlite3.Connection) -> tuple[int, int]:
        _busy, pages, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return max(pages, 0), max(copied, 0)
