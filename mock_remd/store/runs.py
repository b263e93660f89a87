"""Conformance runs: create (one active run per system), read, change under a row lock.

A run is one row: the plan as it was when the run started, its parameters and the steps with what
was observed (JSON). A change is a read-modify-write in one unit of work: :meth:`Runs.lock` reads the
run holding its row (``FOR UPDATE`` on PostgreSQL; SQLite write transactions are exclusive), then
:meth:`Runs.save` writes it, so the HTTP workers that start steps and the background judge never
overwrite each other's changes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from mock_remd.store import schema as t
from mock_remd.store.record import Record
from mock_remd.store.session import Session

_ACTIVE_RUNS = select(t.conformance_runs).where(t.conformance_runs.c.active_system.is_not(None))
_ACTIVE_RUN = select(t.conformance_runs.c.id).where(t.conformance_runs.c.active_system == bindparam("system"))


class RunConflict(Exception):
    """The system already has an active run (its id is ``args[0]``)."""


@dataclass
class Run(Record):
    """One conformance run: the plan as it was at the start, its parameters and its steps (JSON)."""

    id: str
    system: str
    plan: str
    plan_def: dict[str, Any]
    params: dict[str, float]
    state: str  # running | finished | cancelled
    steps: list[dict[str, Any]]
    created_at: dt.datetime
    passed: bool | None = None
    finished_at: dt.datetime | None = None
    #: the system while the run is active (unique: one active run per system), else None
    active_system: str | None = field(default=None)

    def changed(self, **values: Any) -> Run:
        """A copy with ``values`` changed."""
        return replace(self, **values)


class Runs:
    """Reads and writes of ``conformance_runs``."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self._active: tuple[Any, dict[str, str | None]] | None = None  # (settings stamp, system -> run id)
        self._none_active: Any = None  # the settings stamp under which no run was active

    def create(self, run: Run) -> Run:
        """Insert a running run; :class:`RunConflict` when its system already has one."""
        values = {**run.as_dict(), "active_system": run.system}
        try:
            with self.s.write() as c:
                existing = c.execute(_ACTIVE_RUN, {"system": run.system}).scalar()
                if existing is not None:
                    raise RunConflict(existing)
                c.execute(insert(t.conformance_runs).values(**values))
            self.s.settings_changed()
        except IntegrityError as exc:  # a concurrent start for the same system won the race
            raise RunConflict(self.active_id(run.system) or "") from exc
        return self.get(run.id)  # type: ignore[return-value]

    def get(self, run_id: str) -> Run | None:
        """One run."""
        with self.s.read() as c:
            return Run.of(c.execute(select(t.conformance_runs).where(t.conformance_runs.c.id == run_id)).first())

    def lock(self, run_id: str) -> Run | None:
        """The run, its row held until the unit of work ends (use inside ``store.transaction()``)."""
        q = select(t.conformance_runs).where(t.conformance_runs.c.id == run_id)
        if not self.s.db.is_sqlite:
            q = q.with_for_update()
        with self.s.write() as c:
            return Run.of(c.execute(q).first())

    def save(self, run: Run) -> None:
        """Write the run's state, verdict, steps and end."""
        with self.s.write() as c:
            c.execute(update(t.conformance_runs).where(t.conformance_runs.c.id == run.id).values(
                state=run.state, passed=run.passed, steps=run.steps, finished_at=run.finished_at,
                active_system=run.active_system))
        if run.active_system is None:  # the run ended (or was saved ended again): no longer active
            self.s.settings_changed()

    def active_id(self, system: str) -> str | None:
        """The id of the system's active run (asked on every registerDocument: one indexed read, made
        again only after runs started or ended, see :meth:`~mock_remd.store.engine.Database.settings_stamp`)."""
        stamp = self.s.settings_stamp()  # taken before the read: a change during it is seen next time
        cached = self._active
        if stamp is None or cached is None or cached[0] != stamp:
            cached = (stamp, {})
            if stamp is not None:
                self._active = cached
        if system in cached[1]:
            return cached[1][system]
        rows = self.s.rows(_ACTIVE_RUN, {"system": system})
        found = rows[0][0] if rows else None
        if stamp is not None and len(cached[1]) < 1000:
            cached[1][system] = found
        return found

    def active(self) -> list[Run]:
        """Every active run (the judge asks ten times a second: "none" is remembered until runs change)."""
        stamp = self.s.settings_stamp()
        if stamp is not None and self._none_active == stamp:
            return []
        with self.s.read() as c:
            runs = Run.all(c.execute(_ACTIVE_RUNS))
        self._none_active = stamp if not runs else None
        return runs

    def list(self, *, system: str = "", state: str = "", limit: int = 100, offset: int = 0) -> tuple[list[Run], int]:
        """Runs, newest first, and how many match."""
        q = select(t.conformance_runs)
        cq = select(func.count()).select_from(t.conformance_runs)
        for col, value in ((t.conformance_runs.c.system, system), (t.conformance_runs.c.state, state)):
            if value:
                q, cq = q.where(col == value), cq.where(col == value)
        with self.s.read() as c:
            rows = c.execute(q.order_by(t.conformance_runs.c.created_at.desc()).limit(limit).offset(offset)).all()
            return Run.all(rows), int(c.execute(cq).scalar_one())

    def delete_all(self) -> None:
        """Delete every run."""
        with self.s.write() as c:
            c.execute(delete(t.conformance_runs))
        self.s.settings_changed()
