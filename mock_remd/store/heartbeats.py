"""Liveness of the background processes (processor and callback sender) that HTTP workers report on /ready."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from sqlalchemy import delete, select

from mock_remd.store import schema as t
from mock_remd.store.clock import utcnow
from mock_remd.store.record import Record
from mock_remd.store.session import Session, upsert


@dataclass
class Heartbeat(Record):
    """The last beat of one background process."""

    owner: str
    role: str
    pid: int
    at: dt.datetime


class Heartbeats:
    """Reads and writes of ``heartbeats``."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def beat(self, owner: str, role: str) -> None:
        """Record that ``owner`` (a background process) is alive now."""
        now = utcnow()
        with self.s.write() as c:
            c.execute(upsert(self.s.db, t.heartbeats, t.heartbeats.c.owner,
                             {"owner": owner, "role": role, "pid": os.getpid(), "at": now}, {"at": now}))

    def forget(self, owner: str) -> None:
        """Drop the beat of ``owner`` (it stopped cleanly)."""
        with self.s.write() as c:
            c.execute(delete(t.heartbeats).where(t.heartbeats.c.owner == owner))

    def live(self, max_age_seconds: float) -> list[Heartbeat]:
        """Background processes that beat within ``max_age_seconds``."""
        since = utcnow() - dt.timedelta(seconds=max_age_seconds)
        with self.s.read() as c:
            return Heartbeat.all(c.execute(select(t.heartbeats).where(t.heartbeats.c.at >= since)))
