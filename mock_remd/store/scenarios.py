"""Scenario sources, the active sets per scope and the counters of scenario rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select

from mock_remd.store import schema as t
from mock_remd.store.clock import utcnow
from mock_remd.store.record import Record
from mock_remd.store.session import Session, increment

_ACTIVE_SCENARIOS = select(t.active_scenarios)


@dataclass
class ScenarioSource(Record):
    """A stored scenario file (``origin``: ``dir``, ``upload`` or ``builtin``)."""

    name: str
    source: str
    origin: str
    updated_at: dt.datetime


class Scenarios:
    """Reads and writes of ``scenarios``, ``active_scenarios`` and ``scenario_state``."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self._active: tuple[Any, dict[str, list[str]]] | None = None  # (settings stamp, active sets)

    def put(self, name: str, source: str, origin: str = "upload") -> None:
        """Store (or replace) the scenario ``name``."""
        with self.s.write() as c:
            c.execute(delete(t.scenarios).where(t.scenarios.c.name == name))
            c.execute(insert(t.scenarios).values(name=name, source=source, origin=origin, updated_at=utcnow()))

    def list(self) -> list[ScenarioSource]:
        """Every stored scenario, by name."""
        with self.s.read() as c:
            return ScenarioSource.all(c.execute(select(t.scenarios).order_by(t.scenarios.c.name)))

    def delete(self, name: str) -> bool:
        """Delete a stored scenario; False when there was none."""
        with self.s.write() as c:
            return c.execute(delete(t.scenarios).where(t.scenarios.c.name == name)).rowcount > 0

    def set_active(self, scope: str, names: list[str]) -> None:
        """Activate ``names`` for ``scope`` ("" = everyone, else a system); resets their counters."""
        with self.s.write() as c:
            c.execute(delete(t.active_scenarios).where(t.active_scenarios.c.scope == scope))
            if names:
                c.execute(insert(t.active_scenarios).values(scope=scope, names=names, activated_at=utcnow()))
            c.execute(delete(t.scenario_state).where(t.scenario_state.c.key.like(f"nth|{scope}|%")))
        self.s.settings_changed()

    def active(self) -> dict[str, list[str]]:
        """Active scenarios by scope (asked on every request: read again only after a change, see
        :meth:`~mock_remd.store.engine.Database.settings_stamp`)."""
        stamp = self.s.settings_stamp()  # taken before the read: a change during it is seen next time
        cached = self._active
        if stamp is None or cached is None or cached[0] != stamp:
            cached = (stamp, {r.scope: list(r.names) for r in self.s.rows(_ACTIVE_SCENARIOS)})
            if stamp is not None:
                self._active = cached
        return {scope: list(names) for scope, names in cached[1].items()}

    def bump(self, key: str) -> int:
        """Increment a scenario counter and return the new value."""
        with self.s.write() as c:
            return increment(self.s.db, c, t.scenario_state, t.scenario_state.c.key, key, t.scenario_state.c.value)
