"""Conformance runs in the store: create (one active run per system), read, change under a row lock.

A run is one row: the plan as it was when the run started, its parameters and the steps with what
was observed (JSON). Changes go through :meth:`ConformanceStore.update`, a read-modify-write in one
write transaction (``FOR UPDATE`` on PostgreSQL; SQLite write transactions are exclusive), so the HTTP
workers that start steps and the background judge never overwrite each other's changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from mock_remd.store import schema as t
from mock_remd.store.engine import Database

_ACTIVE_RUN = select(t.conformance_runs.c.id).where(t.conformance_runs.c.active_system == bindparam("system"))

RunRow = dict[str, Any]


class RunConflict(Exception):
    """The system already has an active run (its id is ``args[0]``)."""


def _row(r: Any) -> RunRow | None:
    return dict(r._mapping) if r is not None else None


class ConformanceStore:
    """Reads and writes of ``conformance_runs`` (and the journal reads the judge needs)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, row: RunRow) -> RunRow:
        """Insert a running run; :class:`RunConflict` when its system already has one."""
        values = {**row, "active_system": row["system"]}
        try:
            with self.db.transaction() as c:
                existing = c.execute(select(t.conformance_runs.c.id)
                                     .where(t.conformance_runs.c.active_system == row["system"])).scalar()
                if existing is not None:
                    raise RunConflict(existing)
                c.execute(insert(t.conformance_runs).values(**values))
        except IntegrityError as exc:  # a concurrent start for the same system won the race
            raise RunConflict(self.active_id(row["system"]) or "") from exc
        return self.get(row["id"])  # type: ignore[return-value]

    def get(self, run_id: str) -> RunRow | None:
        with self.db.transaction(write=False) as c:
            return _row(c.execute(select(t.conformance_runs).where(t.conformance_runs.c.id == run_id)).first())

    def active_id(self, system: str) -> str | None:
        """The id of the system's active run (one indexed read: asked on every registerDocument)."""
        rows = self.db.read_rows(_ACTIVE_RUN, {"system": system})
        return rows[0][0] if rows else None

    def active(self) -> list[RunRow]:
        with self.db.transaction(write=False) as c:
            return [_row(r) for r in c.execute(select(t.conformance_runs)  # type: ignore[misc]
                                                .where(t.conformance_runs.c.active_system.is_not(None)))]

    def list(self, *, system: str = "", state: str = "", limit: int = 100, offset: int = 0) -> tuple[list[RunRow], int]:
        """Runs, newest first."""
        q = select(t.conformance_runs)
        cq = select(func.count()).select_from(t.conformance_runs)
        for col, value in ((t.conformance_runs.c.system, system), (t.conformance_runs.c.state, state)):
            if value:
                q, cq = q.where(col == value), cq.where(col == value)
        with self.db.transaction(write=False) as c:
            rows = c.execute(q.order_by(t.conformance_runs.c.created_at.desc()).limit(limit).offset(offset)).all()
            return [_row(r) for r in rows], int(c.execute(cq).scalar_one())  # type: ignore[misc]

    def update(self, run_id: str, change: Callable[[RunRow], RunRow | None]) -> RunRow | None:
        """Apply ``change`` to the run inside one write transaction; ``change`` returns the new row
        (or None to keep it). Returns the row as stored afterwards (None when there is no such run)."""
        with self.db.transaction() as c:
            q = select(t.conformance_runs).where(t.conformance_runs.c.id == run_id)
            if not self.db.is_sqlite:
                q = q.with_for_update()
            row = _row(c.execute(q).first())
            if row is None:
                return None
            new = change(dict(row))
            if new is None:
                return row
            values = {k: new[k] for k in ("state", "passed", "steps", "finished_at", "active_system") if k in new}
            c.execute(update(t.conformance_runs).where(t.conformance_runs.c.id == run_id).values(**values))
            return {**row, **values}

    def delete_all(self) -> None:
        with self.db.transaction() as c:
            c.execute(delete(t.conformance_runs))

    def polls_since(self, system: str, since: dt.datetime) -> list[RunRow]:
        """The system's searchRegistryItem and getRegistryItem requests received since ``since``, oldest first."""
        r = t.requests.c
        q = (select(r.id, r.message_id, r.operation, r.received_at, r.sync_status, r.detail)
             .where(r.system == system).where(r.operation.in_(("searchRegistryItem", "getRegistryItem")))
             .where(r.received_at >= since).order_by(r.id).limit(50))
        with self.db.transaction(write=False) as c:
            return [_row(x) for x in c.execute(q)]  # type: ignore[misc]

    def sync_answers(self, message_ids: list[str]) -> dict[str, RunRow]:
        """Journal entries of registerDocument requests by message id (the synchronous answers given)."""
        if not message_ids:
            return {}
        r = t.requests.c
        q = (select(r.message_id, r.sync_status, r.errors, r.http_status, r.received_at)
             .where(r.message_id.in_(message_ids)).where(r.operation == "registerDocument"))
        with self.db.transaction(write=False) as c:
            return {x.message_id: _row(x) for x in c.execute(q)}  # type: ignore[misc]
