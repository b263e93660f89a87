"""Database engines: SQLite (WAL, file or memory) by default, PostgreSQL by URL.

All timestamps are stored as naive UTC. SQLite write transactions start with ``BEGIN IMMEDIATE`` so
writers queue on the busy timeout instead of failing on lock upgrades.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool

from mock_remd.store import json_text
from mock_remd.store.changes import ChangeWatch, PostgresWatch, SqliteFileWatch, create_notify_triggers
from mock_remd.store.schema import RETIRED_INDEXES, metadata
from mock_remd.store.shared_stamp import SharedStamp

#: advisory lock keys (PostgreSQL) of the operations several instances may run at the same moment
SCHEMA_LOCK_KEY = 0x6D6F636B0001
SYSTEMS_LOCK_KEY = 0x6D6F636B0002
#: prepared statements each SQLite connection keeps (Python's default is 128): the group commit's
#: connection runs three multi-row inserts per batch size, up to 64 rows (store/group_commit.py), and
#: one evicted is prepared again (compiled, the GIL let go) on its next use. A connection keeps only
#: the statements it ran: the others hold what they did before
SQLITE_CACHED_STATEMENTS = 512
#: the writers' own WAL checkpoint threshold, pages (see :mod:`.checkpoints`: normally never reached)
WAL_FALLBACK_PAGES = 8192
#: the WAL file is cut back to this size, bytes, when it starts over after a long log
WAL_SIZE_LIMIT = 16 * 1024 * 1024


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for an in-memory store or another database)."""
    url = normalize_url(url)
    if not url.startswith("sqlite") or url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url:
        return None
    path = url.split("sqlite:///", 1)[-1].split("?", 1)[0]
    return Path(path) if path else None


#: a held settings stamp not read yet (see Database.one_settings_stamp)
_TAKE = object()


class WriteLockBusy(Exception):  # noqa: N818 - a state, not an error
    """The writers' lock is held elsewhere (see :meth:`Database.write_lock` without waiting)."""


class Database:
    """An engine plus the transaction discipline of its backend."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self.is_memory = self.is_sqlite and (self.url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in self.url)
        self._lock = threading.RLock() if self.is_memory else None
        #: per thread: whether it keeps a connection between its transactions, and which (:meth:`kept_connection`)
        self._kept = threading.local()
        # File SQLite: writers of all processes queue on an flock of a sidecar file. The kernel wakes
        # the next writer the moment the lock is released, where SQLite's own busy handler would
        # poll with sleeps of up to 100 ms (measured: p99 of 0.5-1.3 s at 100 requests/s).
        self._write_lock = threading.Lock()
        self._lock_path = self._sidecar_lock_path()
        self._lock_fd: int | None = None
        self._lock_pid = 0
        self._stamp = SharedStamp(self._lock_path[: -len(".writelock")] + ".settings-stamp") if self._lock_path else None
        self._memory_changes = 0
        #: a thread's stamp while it holds one (see one_settings_stamp)
        self._held = threading.local()
        self.engine = self._make_engine()
        self._create_schema()

    def _create_schema(self) -> None:
        """Create missing tables; safe when several instances start at once on one database.

        PostgreSQL: under a transaction-level advisory lock (the second instance waits, then finds
        the tables); SQLite file: under the writers' flock.
        """
        if not self.is_sqlite:
            with self.engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
                metadata.create_all(conn)
                _drop_retired(conn)
                create_notify_triggers(conn)
            return
        if self._lock_path is None:
            metadata.create_all(self.engine)
            return
        with self.write_lock():
            metadata.create_all(self.engine)
            with self.engine.connect() as conn:
                _drop_retired(conn)

    @contextmanager
    def write_lock(self, wait: bool = True) -> Iterator[None]:
        """Hold the writers' lock of a SQLite file (every process's writers wait meanwhile); ``wait``
        False: :class:`WriteLockBusy` at once when another thread or process holds it."""
        if not self._write_lock.acquire(blocking=wait):
            raise WriteLockBusy
        try:
            try:
                fcntl.flock(self._flock_fd(), fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise WriteLockBusy from None
            try:
                yield
            finally:
                fcntl.flock(self._flock_fd(), fcntl.LOCK_UN)
        finally:
            self._write_lock.release()

    def change_watch(self) -> ChangeWatch:
        """A new watch telling the background loops when work may have appeared (see :mod:`.changes`)."""
        if self.is_sqlite:
            path = sqlite_file(self.url)
            return SqliteFileWatch(path) if path is not None else ChangeWatch()
        return PostgresWatch(self.engine)

    def advisory_lock(self, conn: Connection, key: int) -> None:
        """Serialize a transaction with others taking the same ``key`` (PostgreSQL; SQLite writers
        are serialized already)."""
        if not self.is_sqlite:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def _sidecar_lock_path(self) -> str | None:
        if not self.is_sqlite or self.is_memory:
            return None
        path = self.url.split("sqlite:///", 1)[-1].split("?", 1)[0]
        return (path + ".writelock") if path else None

    def _flock_fd(self) -> int:
        if self._lock_fd is None or self._lock_pid != os.getpid():  # a forked child opens its own
            Path(self._lock_path).parent.mkdir(parents=True, exist_ok=True)  # type: ignore[arg-type]
            self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)  # type: ignore[arg-type]
            self._lock_pid = os.getpid()
        return self._lock_fd

    def _make_engine(self) -> Engine:
        if self.is_sqlite:
            kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 30,
                                             "cached_statements": SQLITE_CACHED_STATEMENTS},
                            "isolation_level": "AUTOCOMMIT",
                            "json_serializer": json_text.dumps, "json_deserializer": json_text.loads}
            if self.is_memory:
                kwargs["poolclass"] = StaticPool
            else:
                path = self.url.split("sqlite:///", 1)[-1].split("?", 1)[0]
                if path:
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(self.url, **kwargs)

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn, _record):  # noqa: ANN001
                cur = dbapi_conn.cursor()
                if not self.is_memory:
                    cur.execute("PRAGMA journal_mode=WAL")
                    cur.execute("PRAGMA synchronous=NORMAL")
                    # a checkpointer thread copies the log back (store/checkpoints.py); a writer does it
                    # itself only past this many pages, where no checkpointer keeps up
                    cur.execute(f"PRAGMA wal_autocheckpoint={WAL_FALLBACK_PAGES}")
                    cur.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()

            return engine
        return create_engine(
            self.url,
            pool_pre_ping=True,
            pool_size=10,
            max_overflow=20,
            connect_args={"options": "-c timezone=utc"},
            json_serializer=json_text.dumps,
            json_deserializer=json_text.loads,
        )

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Connection]:
        """A transaction; committed on success, rolled back on error."""
        if not self.is_sqlite:
            with self.engine.begin() as conn:
                yield conn
            return
        lock = self._lock
        if lock is not None:
            lock.acquire()
        flocked = False
        if write and self._lock_path:
            self._write_lock.acquire()
            try:
                fcntl.flock(self._flock_fd(), fcntl.LOCK_EX)
                flocked = True
            except BaseException:
                self._write_lock.release()
                raise
        try:
            kept = self._kept_conn()
            if kept is None:
                with self.engine.connect() as conn, _begun(conn, "BEGIN IMMEDIATE" if write else "BEGIN"):
                    yield conn
            else:
                try:
                    with _begun(kept, "BEGIN IMMEDIATE" if write else "BEGIN"):
                        yield kept
                except BaseException:
                    self._drop_kept()  # rolled back, or broken: the next transaction takes a fresh one
                    raise
        finally:
            if flocked:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)  # type: ignore[arg-type]
                self._write_lock.release()
            if lock is not None:
                lock.release()

    @contextmanager
    def kept_connection(self) -> Iterator[None]:
        """Inside the block, the calling thread's transactions and reads run on one connection it keeps
        (SQLite file; elsewhere nothing changes), closed at the end: a background loop's thread runs a
        few transactions for each batch of documents or callbacks, and a pool checkout, its checkin and
        reset cost ~20 µs of each (the group commit keeps its connection for the same reason)."""
        if not self.is_sqlite or self.is_memory or getattr(self._kept, "keep", False):
            yield
            return
        self._kept.keep = True
        try:
            yield
        finally:
            self._kept.keep = False
            self._drop_kept()

    def _kept_conn(self) -> Connection | None:
        """The connection the calling thread keeps (made on first use), or None when it keeps none or
        it is in a transaction already (a nested one runs on a pooled connection, as without)."""
        kept = self._kept
        if not getattr(kept, "keep", False):
            return None
        conn = getattr(kept, "conn", None)
        if conn is None:
            conn = kept.conn = self.engine.connect()
        elif conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
            return None
        return conn

    def _drop_kept(self) -> None:
        conn = getattr(self._kept, "conn", None)
        self._kept.conn = None
        if conn is not None:
            with contextlib.suppress(Exception):  # a broken connection: the pool discards it
                conn.close()

    @contextmanager
    def transaction_on(self, conn: Connection, wait: bool = True) -> Iterator[Connection]:
        """A write transaction on ``conn``, a connection of this engine the caller keeps between
        transactions and uses from one thread at a time (the group commit's: a pool checkout, its
        checkin and reset cost ~60 µs a transaction); committed on success, rolled back on error.
        SQLite file only: other stores go through :meth:`transaction`. ``wait``: as :meth:`write_lock`'s."""
        with self.write_lock(wait), _begun(conn, "BEGIN IMMEDIATE"):
            yield conn

    # ---- change stamp of the rarely written settings read on every request --------------------
    def settings_stamp(self) -> Any:
        """A value that changes whenever :meth:`note_settings_change` ran in any process of this store
        (active scenarios, conformance runs), so a read of them can be cached until it changes;
        None when no such stamp can be had (PostgreSQL, whose instances may be on several hosts:
        read every time).

        SQLite file: a sidecar file's bytes, which each change overwrites, read from shared memory (no
        system call: :mod:`.shared_stamp`), against two reads of 75 µs on every registration. In
        memory: a counter of this engine, the only one that can open the store.
        """
        held = self._held
        stamp = getattr(held, "stamp", None)
        if stamp is not None and stamp is not _TAKE:
            return stamp
        if self.url in ("sqlite://", "sqlite:///:memory:"):
            return self._memory_changes
        if self._stamp is None:  # PostgreSQL, or a named memory database other engines may share
            return None
        try:
            value: Any = self._stamp.read()
        except OSError:  # the sidecar cannot be made (a folder this process may not write): its status then
            value = _file_status(self._stamp.path)
        if stamp is _TAKE:
            held.stamp = value
        return value

    @contextmanager
    def one_settings_stamp(self) -> Iterator[None]:
        """Inside the block, this thread's :meth:`settings_stamp` is read once and then repeated: the
        reads of the settings one request makes (active scenarios, conformance runs) see one moment. A
        change noted meanwhile by this thread is read again."""
        self._held.stamp = _TAKE
        try:
            yield
        finally:
            self._held.stamp = None

    def note_settings_change(self) -> None:
        """Call after committing a change of active scenarios or conformance runs."""
        if getattr(self._held, "stamp", None) is not None:
            self._held.stamp = _TAKE  # this thread's next read sees its own change
        self._memory_changes += 1
        if self._stamp is not None:
            self._stamp.bump()

    def read_rows(self, statement: Any, params: dict[str, Any] | None = None) -> list[Any]:
        """Rows of one read-only statement. A single statement is atomic on its own, so SQLite runs it
        without BEGIN/COMMIT (this is asked on every registration: three round trips fewer)."""
        if not self.is_sqlite:
            with self.engine.connect() as conn:
                return list(conn.execute(statement, params or {}).all())
        lock = self._lock
        if lock is not None:
            lock.acquire()
        try:
            kept = self._kept_conn()
            if kept is not None:
                try:
                    return list(kept.execute(statement, params or {}).all())
                except BaseException:
                    self._drop_kept()
                    raise
            with self.engine.connect() as conn:
                return list(conn.execute(statement, params or {}).all())
        finally:
            if lock is not None:
                lock.release()

    def dispose(self) -> None:
        """Close pooled connections (call in a forked child before first use)."""
        self.engine.dispose(close=False) if not self.is_memory else None

    def drop_all(self) -> None:
        """Drop every table (tests against a shared PostgreSQL)."""
        metadata.drop_all(self.engine)


def _file_status(path: str) -> tuple[int, int, int]:
    """The inode, size and modification time of ``path`` (zeros while it does not exist)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return (0, 0, 0)
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _drop_retired(conn: Connection) -> None:
    for name in RETIRED_INDEXES:
        conn.execute(text(f"DROP INDEX IF EXISTS {name}"))


_COMMIT = "COMMIT"
_ROLLBACK = "ROLLBACK"


@contextmanager
def _begun(conn: Connection, begin: str) -> Iterator[None]:
    """A SQLite transaction on ``conn`` opened by ``begin``: committed when the block ends, rolled
    back when it raises."""
    _control(conn, begin)
    try:
        yield
    except BaseException:
        _control(conn, _ROLLBACK)
        raise
    _control(conn, _COMMIT)


def _control(conn: Connection, sql: str) -> None:
    """BEGIN, COMMIT or ROLLBACK of a SQLite transaction on the DBAPI connection, failing with
    SQLAlchemy's exception as ``exec_driver_sql`` would (which costs ~25 µs more per statement:
    two of them in every transaction of every process).

    Python 3.11's sqlite3 lets the GIL go five times for each statement ``execute`` runs (the step, and
    four calls that take nanoseconds: under load each is a thread hand-off); ``commit()``,
    ``rollback()`` and ``executescript()`` let it go once. They differ from ``execute`` where no
    transaction is open (``commit`` and ``rollback`` do nothing, ``executescript`` commits the open one
    first): there ``execute`` runs as before, and fails as before."""
    dialect = conn.dialect
    dbapi = conn.connection.dbapi_connection
    try:
        begin = sql != _COMMIT and sql != _ROLLBACK
        if dbapi.in_transaction == begin:  # type: ignore[union-attr]
            dbapi.execute(sql)  # type: ignore[union-attr]  # BEGIN in a transaction, COMMIT outside one: the error
        elif sql == _COMMIT:
            dbapi.commit()  # type: ignore[union-attr]
        elif sql == _ROLLBACK:
            dbapi.rollback()  # type: ignore[union-attr]
        else:
            dbapi.executescript(sql)  # type: ignore[union-attr]
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, None, exc, dialect.loaded_dbapi.Error, hide_parameters=True,
                                  dialect=dialect) from exc


class BadStoreUrl(ValueError):
    """A database URL that names no database SQLAlchemy knows."""


def shown_url(url: str) -> str:
    """The database URL as it may be shown (password hidden); :class:`BadStoreUrl` when it is no URL."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError as exc:
        raise BadStoreUrl(url) from exc
