"""Database engines: SQLite (WAL, file or memory) by default, PostgreSQL by URL.

All timestamps are stored as naive UTC. SQLite write transactions start with ``BEGIN IMMEDIATE`` so
writers queue on the busy timeout instead of failing on lock upgrades.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from mock_remd.store.schema import metadata


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Database:
    """An engine plus the transaction discipline of its backend."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self.is_memory = self.is_sqlite and (self.url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in self.url)
        self._lock = threading.RLock() if self.is_memory else None
        self.engine = self._make_engine()
        metadata.create_all(self.engine)

    def _make_engine(self) -> Engine:
        if self.is_sqlite:
            kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 30}, "isolation_level": "AUTOCOMMIT"}
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
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()

            return engine
        return create_engine(
            self.url,
            pool_pre_ping=True,
            pool_size=10,
            max_overflow=20,
            connect_args={"options": "-c timezone=utc"},
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
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield conn
                except BaseException:
                    conn.exec_driver_sql("ROLLBACK")
                    raise
                conn.exec_driver_sql("COMMIT")
        finally:
            if lock is not None:
                lock.release()

    def dispose(self) -> None:
        """Close pooled connections (call in a forked child before first use)."""
        self.engine.dispose(close=False) if not self.is_memory else None

    def drop_all(self) -> None:
        """Drop every table (tests against a shared PostgreSQL)."""
        metadata.drop_all(self.engine)
