"""Claims of work shared by the processing jobs and the callback outbox: leases and one atomic claim."""

from __future__ import annotations

from typing import Any

from sqlalchemy import DateTime, Integer, Table, and_, bindparam, or_, select, union_all, update
from sqlalchemy.engine import Connection

from mock_remd.store.clock import utcnow
from mock_remd.store.prepared import Prepared
from mock_remd.store.session import Session

#: how long a claim of work (a processing job, a callback delivery) holds without renewal; its holder
#: renews it every :data:`LEASE_RENEW_SECONDS` while the work runs, so work of a killed process is
#: taken over by another within this time
LEASE_SECONDS = 10.0
LEASE_RENEW_SECONDS = 2.0


class Claim:
    """The shared claim of one table: rows in state ``free`` and due, or ``taken`` with an expired
    lease, moved to ``taken`` with the claim values by one ``UPDATE … RETURNING`` (``SKIP LOCKED`` on
    PostgreSQL).

    The statements are built once, with the time, the limit and the claim values as bind parameters:
    the background processes claim many times a second, and building the expressions anew on every
    claim cost more CPU than running them.
    """

    def __init__(self, table: Table, *, state: str, free: str, taken: str, due_at: str, lease_until: str,
                 values: tuple[str, ...], returning: tuple[str, ...] | None = None) -> None:
        c = table.c
        now = bindparam("now", type_=DateTime())
        due = or_(and_(c[state] == free, c[due_at] <= now), and_(c[state] == taken, c[lease_until] < now))
        # run on the DBAPI cursor: idle background processes probe many times a second
        self._probe = Prepared(select(c.id).where(due).limit(1), ["now"])
        limit = bindparam("limit", type_=Integer())
        # the rows of a lapsed lease first (they waited longest), then the free ones, oldest due first:
        # each part walks the (state, due) index in order and stops at the limit. One condition with
        # OR sorted every due row for each claim (1.4 ms with a backlog of 1,500 on SQLite).
        parts = [select(c.id).where(c[state] == taken, c[lease_until] < now).order_by(c[due_at]).limit(limit),
                 select(c.id).where(c[state] == free, c[due_at] <= now).order_by(c[due_at]).limit(limit)]
        sets = {name: bindparam(f"set_{name}", type_=c[name].type) for name in values}
        self._update = {}
        for locking in (False, True):
            # PostgreSQL: FOR UPDATE is not allowed beside UNION, but is in a CTE
            taken_ids = ([p.with_for_update(skip_locked=True).cte(f"claim_{i}") for i, p in enumerate(parts)]
                         if locking else [p.subquery() for p in parts])
            ids = union_all(*(select(sub.c.id) for sub in taken_ids)).limit(limit)
            # only the columns the claimer reads: SQLite's RETURNING costs ~0.4 µs a value
            self._update[locking] = (update(table).where(c.id.in_(ids.scalar_subquery())).values(sets)
                                     .returning(*(c[k] for k in returning) if returning else c))
        #: the same claims run on the DBAPI cursor (the processor claims a batch a few times a second)
        self._prepared = {locking: Prepared(stmt, ["now", "limit", *(f"set_{k}" for k in values)])
                          for locking, stmt in self._update.items()}

    def due(self, s: Session, now: Any) -> bool:
        """Whether any row is due at ``now`` (a cheap read: idle polls take no write lock)."""
        with s.read() as c:
            return self._probe.scalar(c, {"now": now}) is not None

    def take(self, c: Connection, *, locking: bool, now: Any, limit: int, values: dict[str, Any]) -> list[dict[str, Any]]:
        """Claim up to ``limit`` due rows on ``c`` (a write transaction); the claimed rows as dicts.
        ``locking``: ``SKIP LOCKED`` (PostgreSQL; SQLite write transactions are exclusive)."""
        params = {"now": now, "limit": limit, **{f"set_{k}": v for k, v in values.items()}}
        return self._prepared[locking].all(c, params)

    def statement(self, s: Session, *, limit: int, values: dict[str, Any]) -> tuple[Any, dict[str, Any]] | None:
        """The claim and its parameters; None when nothing is due (checked with a cheap read, so idle
        polls take no write lock)."""
        now = utcnow()
        if not self.due(s, now):
            return None
        params = {"now": now, "limit": limit, **{f"set_{k}": v for k, v in values.items()}}
        return self._update[not s.db.is_sqlite], params
