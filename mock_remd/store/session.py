"""Where an aggregate's statements run: on their own, or inside a caller's unit of work.

Every aggregate of the store (systems, journal, documents, versions, outbox, scenarios, …) is written
once against a :class:`Session`. The store gives each aggregate an :class:`Autonomous` session (every
call is its own short transaction); :meth:`Store.transaction <mock_remd.store.repository.Store.transaction>`
gives the same aggregates a :class:`Bound` session, so that everything done through ``tx.…`` commits
or rolls back together.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from mock_remd.store.engine import Database


class Session(Protocol):
    """A source of connections for an aggregate's statements."""

    db: Database

    def read(self) -> AbstractContextManager[Connection]:
        """A connection for reads."""

    def write(self) -> AbstractContextManager[Connection]:
        """A connection for writes (committed when the session owns the transaction)."""

    def rows(self, statement: Any, params: dict[str, Any] | None = None) -> list[Any]:
        """Rows of one read-only statement (the cheapest read the backend allows)."""

    def settings_stamp(self) -> Any:
        """:meth:`Database.settings_stamp`, or None where a read must not be cached (inside a unit of work)."""

    def settings_changed(self) -> None:
        """Active scenarios or conformance runs were written (call after the write): readers of every
        process read them again once it is committed."""


class Autonomous:
    """Each call runs in a transaction of its own."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def read(self) -> AbstractContextManager[Connection]:
        return self.db.transaction(write=False)

    def write(self) -> AbstractContextManager[Connection]:
        return self.db.transaction()

    def rows(self, statement: Any, params: dict[str, Any] | None = None) -> list[Any]:
        return self.db.read_rows(statement, params)

    def settings_stamp(self) -> Any:
        return self.db.settings_stamp()

    def settings_changed(self) -> None:
        self.db.note_settings_change()  # the write's own transaction has committed


class Bound:
    """Every call runs on one connection inside a caller's transaction (a unit of work)."""

    def __init__(self, db: Database, conn: Connection) -> None:
        self.db = db
        self.conn = conn
        #: settings were written: the unit of work notes the change once it has committed
        self.changed_settings = False

    def read(self) -> AbstractContextManager[Connection]:
        return nullcontext(self.conn)

    def write(self) -> AbstractContextManager[Connection]:
        return nullcontext(self.conn)

    def rows(self, statement: Any, params: dict[str, Any] | None = None) -> list[Any]:
        return list(self.conn.execute(statement, params or {}).all())

    def settings_stamp(self) -> Any:
        return None  # the unit of work may have written them itself

    def settings_changed(self) -> None:
        self.changed_settings = True


def upsert(db: Database, table: Any, key: Any, values: dict[str, Any], on_conflict: dict[str, Any]) -> Any:
    """``INSERT … ON CONFLICT (key) DO UPDATE``: one statement, no race between two first writers."""
    dialect_insert = sqlite_insert if db.is_sqlite else pg_insert
    return dialect_insert(table).values(**values).on_conflict_do_update(index_elements=[key], set_=on_conflict)


def increment(db: Database, c: Connection, table: Any, key: Any, name: str, value: Any) -> int:
    """Add one to the counter ``name`` (created at 1) and return the new value, atomically."""
    stmt = upsert(db, table, key, {key.name: name, value.name: 1}, {value.name: value + 1}).returning(value)
    return int(c.execute(stmt).scalar_one())


