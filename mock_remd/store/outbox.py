"""The callback outbox: result callbacks to deliver, their attempts, retries and leases."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, select, update

from mock_remd.store import schema as t
from mock_remd.store.claims import LEASE_SECONDS, Claim
from mock_remd.store.clock import utcnow
from mock_remd.store.prepared import (
    BoundRow,
    Prepared,
    PreparedIn,
    PreparedInsert,
    run_bound,
    run_many,
)
from mock_remd.store.record import Record
from mock_remd.store.session import Session

_INSERT_DELIVERY = insert(t.outbox)
# statements run for every callback, built once (the sender claims and logs many times a second)
_ADD_DELIVERY = PreparedInsert(t.outbox)
_HAND_DELIVERY = PreparedInsert(t.outbox, returning="id")
_CLAIM = Claim(t.outbox, state="status", free="pending", taken="sending", due_at="due_at", lease_until="lease_until",
               values=("status", "owner", "lease_until"))
_ATTEMPTS_OF = select(t.outbox.c.attempts, t.outbox.c.attempt_count, t.outbox.c.owner).where(
    t.outbox.c.id == bindparam("delivery_id"))
_NEXT_DUE = select(func.min(t.outbox.c.due_at)).where(t.outbox.c.status == "pending")
_LOGGED = ("attempts", "attempt_count", "status", "due_at", "lease_until", "owner", "delivered_at")
_LOG_ATTEMPT = update(t.outbox).where(t.outbox.c.id == bindparam("delivery_id")).values(
    {k: bindparam(f"set_{k}", type_=t.outbox.c[k].type) for k in _LOGGED})
_LOG_HELD_ATTEMPT = _LOG_ATTEMPT.where(t.outbox.c.owner == bindparam("owner"))
#: the attempt of a held delivery, rendered once: the sender logs one per callback (through
#: Connection.execute the statement cache and parameter set-up cost more than the UPDATE itself)
_LOG_HELD = Prepared(_LOG_HELD_ATTEMPT, ["delivery_id", "owner", *(f"set_{k}" for k in _LOGGED)])
#: which of a batch's deliveries a sender still holds (their rows locked on PostgreSQL until the log is written)
_HELD = PreparedIn(lambda ids: select(t.outbox.c.id).where(t.outbox.c.id.in_(ids), t.outbox.c.owner == bindparam("owner"))
                   .with_for_update(), ["owner"], type_=t.outbox.c.id.type)


@dataclass
class NewDelivery:
    """A callback to queue."""

    url: str
    body: bytes
    relates_to: str = ""
    local_uid: str = ""
    document_id: int | None = None
    system: str = ""
    soap_version: str = "1.1"
    action: str = "sendRegisterDocumentResult"
    backoff: list[float] = field(default_factory=list)
    due_at: dt.datetime | None = None
    note: str = ""


@dataclass
class Delivery(Record):
    """A queued callback and its attempt log."""

    id: int
    url: str
    body: bytes
    status: str  # pending | sending | delivered | dead
    due_at: dt.datetime
    created_at: dt.datetime
    relates_to: str = ""
    local_uid: str = ""
    document_id: int | None = None
    system: str = ""
    soap_version: str = "1.1"
    action: str = "sendRegisterDocumentResult"
    attempts: list[dict[str, Any]] = field(default_factory=list)
    attempt_count: int = 0
    backoff: list[float] = field(default_factory=list)
    lease_until: dt.datetime | None = None
    owner: str | None = None
    delivered_at: dt.datetime | None = None
    note: str = ""


@dataclass
class AttemptResult:
    """What one delivery attempt gave: the log entry, whether it was delivered, when to retry (None: no more)."""

    delivery_id: int
    attempt: dict[str, Any]
    delivered: bool
    next_due: dt.datetime | None
    #: the attempt log and count as claimed (a sender that holds the delivery knows them: with them
    #: and the holder, the attempt is logged without reading the row first)
    attempts_before: list[dict[str, Any]] | None = None
    count_before: int = 0


@dataclass
class BoundDelivery:
    """A callback to queue with its insert's parameters made before the write (:meth:`Outbox.bind_all`)."""

    #: the row's values (the :class:`Delivery` it becomes, less its id)
    row: dict[str, Any]
    bound: BoundRow
    #: written already claimed by a sender (its id is returned: that sender sends it at once)
    handed: bool

    def set_body(self, body: bytes) -> None:
        """Another body (one completed inside the write)."""
        self.row["body"] = body
        self.bound.set("body", body)

    def delivery(self, delivery_id: int) -> Delivery:
        """The queued callback, once written with the id ``delivery_id``."""
        return Delivery(id=delivery_id, **self.row)


def _row(d: NewDelivery, now: dt.datetime) -> dict[str, Any]:
    values = vars(d).copy()
    values["due_at"] = d.due_at or now
    return {"status": "pending", "attempts": [], "attempt_count": 0, "created_at": now, **values}


class Outbox:
    """Reads and writes of ``outbox``."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, delivery: NewDelivery) -> int:
        """Queue one callback; returns its id."""
        with self.s.write() as c:
            return int(c.execute(_INSERT_DELIVERY.returning(t.outbox.c.id), _row(delivery, utcnow())).scalar_one())

    def add_all(self, deliveries: list[NewDelivery], *, hand_to: str | None = None,
                lease_seconds: float = LEASE_SECONDS) -> list[Delivery]:
        """Queue several callbacks. With ``hand_to`` (a sender's owner id) those due now are written
        already claimed by that sender, and returned for it to send at once (no claim to wait for); the
        lease keeps them durable: should that sender never send them, another takes them when it lapses."""
        bound = self.bind_all(deliveries, hand_to=hand_to, lease_seconds=lease_seconds)
        ids = self.add_bound(bound)
        return [b.delivery(i) for b, i in zip([b for b in bound if b.handed], ids, strict=True)]

    def bind_all(self, deliveries: list[NewDelivery], *, hand_to: str | None = None,
                 lease_seconds: float = LEASE_SECONDS, now: dt.datetime | None = None) -> list[BoundDelivery]:
        """The rows :meth:`add_all` writes, their parameters made ready (JSON, dates) for
        :meth:`add_bound`, before the write; reads nothing, takes no lock. ``now``: their creation time
        (naive UTC; None: now)."""
        if not deliveries:
            return []
        now = now or utcnow()
        lease = now + dt.timedelta(seconds=lease_seconds)
        dialect = self.s.db.engine.dialect
        out = []
        for d in deliveries:
            row = _row(d, now)
            handed = hand_to is not None and row["due_at"] <= now
            if handed:
                row.update(status="sending", owner=hand_to, lease_until=lease)
            statement = _HAND_DELIVERY if handed else _ADD_DELIVERY
            row = statement.row(row)
            out.append(BoundDelivery(row, statement.bind(dialect, row), handed))
        return out

    def add_bound(self, deliveries: list[BoundDelivery]) -> list[int]:
        """Write callbacks made ready by :meth:`bind_all`, in their order; the ids of those handed to a
        sender, in order (the others go in one ``executemany`` per run between them)."""
        ids: list[int] = []
        if not deliveries:
            return ids
        with self.s.write() as c:
            queued: list[BoundRow] = []
            for d in deliveries:
                if not d.handed:
                    queued.append(d.bound)
                    continue
                run_many(c, queued)
                queued = []
                cursor = run_bound(c, d.bound)
                try:
                    ids.append(int(cursor.fetchone()[0]))
                finally:
                    cursor.close()
            run_many(c, queued)
        return ids

    def release(self, delivery_ids: list[int], owner: str) -> int:
        """Give back deliveries ``owner`` holds but will not send (it stops): pending again, due as they were."""
        if not delivery_ids:
            return 0
        o = t.outbox.c
        with self.s.write() as c:
            return int(c.execute(update(t.outbox).where(o.id.in_(delivery_ids), o.owner == owner, o.status == "sending")
                                 .values(status="pending", owner=None, lease_until=None)).rowcount)

    def claim(self, owner: str, *, limit: int = 16, lease_seconds: float = LEASE_SECONDS) -> list[Delivery]:
        """Atomically take due deliveries (pending and due, or sending with an expired lease)."""
        lease = utcnow() + dt.timedelta(seconds=lease_seconds)
        claim = _CLAIM.statement(self.s, limit=limit, values={"status": "sending", "owner": owner, "lease_until": lease})
        if claim is None:
            return []
        with self.s.write() as c:
            return Delivery.all(c.execute(*claim))

    def seconds_to_next_due(self) -> float | None:
        """Seconds until the earliest pending delivery falls due (0 when one is due; None: none pending)."""
        due = self.s.rows(_NEXT_DUE)[0][0]
        return None if due is None else (due - utcnow()).total_seconds()

    def record_attempts(self, results: list[AttemptResult], *, owner: str | None = None) -> list[str]:
        """Log attempts in one transaction; returns the new statuses (``delivered``, ``pending`` for a
        retry, ``dead``, or ``gone`` if reset meanwhile, or, with ``owner``, taken over by another
        sender after this one's lease lapsed)."""
        now = utcnow()
        statuses: list[str] = []
        # the holder knows each log as it claimed it: the rows are bound before the write (JSON, dates)
        # and written by one executemany, those it still holds only
        bound: dict[int, BoundRow] = {}
        dialect = self.s.db.engine.dialect
        for i, r in enumerate(results):
            status = "delivered" if r.delivered else ("dead" if r.next_due is None else "pending")
            statuses.append(status)
            if owner is not None and r.attempts_before is not None:
                bound[i] = _LOG_HELD.bind(dialect, {**self._logged(r, status, now), "owner": owner,
                                                    "set_attempts": [*r.attempts_before, r.attempt],
                                                    "set_attempt_count": r.count_before + 1})
        with self.s.write() as c:
            if bound:
                held = {row["id"] for row in _HELD.all(c, [results[i].delivery_id for i in bound], {"owner": owner})}
                run_many(c, [b for i, b in bound.items() if results[i].delivery_id in held])
                for i in bound:
                    if results[i].delivery_id not in held:
                        statuses[i] = "gone"
            for i, r in enumerate(results):
                if i in bound:
                    continue
                row = c.execute(_ATTEMPTS_OF, {"delivery_id": r.delivery_id}).first()
                if row is None or (owner is not None and row.owner != owner):
                    statuses[i] = "gone"
                    continue
                c.execute(_LOG_ATTEMPT, {**self._logged(r, statuses[i], now),
                                         "set_attempts": list(row.attempts or []) + [r.attempt],
                                         "set_attempt_count": row.attempt_count + 1})
        return statuses

    @staticmethod
    def _logged(r: AttemptResult, status: str, now: dt.datetime) -> dict[str, Any]:
        """The values an attempt sets, but its log and count."""
        return {"delivery_id": r.delivery_id, "set_status": status, "set_due_at": r.next_due or now,
                "set_lease_until": None, "set_owner": None, "set_delivered_at": now if r.delivered else None}

    def renew_leases(self, owner: str) -> int:
        """Extend the leases of the deliveries ``owner`` is sending."""
        o = t.outbox.c
        until = utcnow() + dt.timedelta(seconds=LEASE_SECONDS)
        with self.s.write() as c:
            return int(c.execute(update(t.outbox).where(o.status == "sending", o.owner == owner)
                                 .values(lease_until=until)).rowcount)

    def list(self, *, relates_to: str = "", status: str = "", local_uid: str = "", limit: int = 100,
             offset: int = 0) -> tuple[list[Delivery], int]:
        """Deliveries matching the filters (``status``: one or several, comma-separated), newest first."""
        conds = []
        if relates_to:
            conds.append(t.outbox.c.relates_to == relates_to)
        if status:
            conds.append(t.outbox.c.status.in_(status.split(",")))
        if local_uid:
            conds.append(func.lower(t.outbox.c.local_uid) == local_uid.lower())
        with self.s.read() as c:
            q = select(t.outbox)
            cq = select(func.count()).select_from(t.outbox)
            if conds:
                q, cq = q.where(and_(*conds)), cq.where(and_(*conds))
            rows = c.execute(q.order_by(t.outbox.c.id.desc()).limit(limit).offset(offset)).all()
            total = c.execute(cq).scalar_one()
        return Delivery.all(rows), int(total)

    def get(self, delivery_id: int) -> Delivery | None:
        """One delivery."""
        with self.s.read() as c:
            return Delivery.of(c.execute(select(t.outbox).where(t.outbox.c.id == delivery_id)).first())

    def make_due(self) -> int:
        """Make every pending delivery due now (the virtual clock); returns how many."""
        with self.s.write() as c:
            return int(c.execute(update(t.outbox).where(t.outbox.c.status == "pending")
                                 .values(due_at=utcnow())).rowcount)

    def readdress(self, system: str, old_url: str, new_url: str) -> int:
        """Callbacks of ``system`` not yet delivered to ``old_url`` go to ``new_url`` instead; returns how many.

        An attempt in flight finishes at the old address; its retries go to the new one.
        """
        with self.s.write() as c:
            return int(c.execute(update(t.outbox).where(t.outbox.c.system == system, t.outbox.c.url == old_url,
                                                        t.outbox.c.status.in_(("pending", "sending")))
                                 .values(url=new_url)).rowcount)

    def redeliver(self, delivery_id: int) -> Delivery | None:
        """Queue a delivery again now (attempt log kept; a fresh retry budget)."""
        with self.s.write() as c:
            n = c.execute(update(t.outbox).where(t.outbox.c.id == delivery_id).values(
                status="pending", due_at=utcnow(), attempt_count=0, lease_until=None, owner=None)).rowcount
        return self.get(delivery_id) if n else None

    def count_open(self) -> int:
        """Deliveries pending or being sent."""
        with self.s.read() as c:
            return int(c.execute(select(func.count()).select_from(t.outbox)
                                 .where(t.outbox.c.status.in_(("pending", "sending")))).scalar_one())
