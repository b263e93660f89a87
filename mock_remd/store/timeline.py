"""The dashboard's timeline: every registerDocument as one row, newest first, paginated in the database.

A row is either an accepted document (``documents``: its final outcome is pending, registered or
rejected) or a request the synchronous leg refused (``requests`` with a sync status other than
``success``: no document exists for it). Delivery states are fetched for the page's documents only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, literal, null, or_, select, union_all

from mock_remd.store import schema as t
from mock_remd.store.record import Record
from mock_remd.store.session import Session

#: the statuses a timeline row can have (``sync_error``: refused in the synchronous answer)
STATUSES = ("registered", "rejected", "failed", "pending", "sync_error")


@dataclass
class DeliveryState(Record):
    """The state of one delivery of a document (for the timeline's callback column)."""

    id: int
    document_id: int
    status: str
    attempts: list[dict[str, Any]]
    attempt_count: int


@dataclass
class TimelineRow(Record):
    """One registerDocument: an accepted document (``src`` ``d``) or a refused request (``src`` ``r``)."""

    src: str
    id: int
    received_at: dt.datetime
    system: str
    kind: str
    local_uid: str
    status: str
    emdr_id: str | None
    errors: list[dict[str, Any]]
    patient_snils: str
    message_id: str
    sync_status: str
    #: the document's deliveries, oldest first (empty for a refused request)
    deliveries: list[DeliveryState] = field(default_factory=list)
    #: filled in by the dashboard: one state summarising the deliveries
    callback: dict[str, Any] | None = None


@dataclass
class TimelineSlice:
    """One page of rows and how many rows match in all."""

    rows: list[TimelineRow]
    total: int
    page: int
    pages: int


def _like(value: str) -> str:
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _doc_select(system: str, status: str, kind: str, q: str) -> Any:
    d = t.documents.c
    stmt = select(
        literal("d").label("src"), d.id, d.received_at, d.system, d.kind, d.local_uid, d.status, d.emdr_id,
        d.errors, d.patient_snils, d.message_id, literal("success").label("sync_status"),
    )
    conds = []
    if system:
        conds.append(d.system == system)
    if kind:
        conds.append(d.kind == kind)
    if status:
        conds.append(d.status == status)
    if q:
        pattern = _like(q)
        digits = "".join(ch for ch in q if ch.isdigit())
        alts = [func.lower(d.local_uid).like(pattern, escape="\\"), func.lower(d.emdr_id).like(pattern, escape="\\")]
        if len(digits) >= 3:
            alts.append(d.patient_snils.like(f"%{digits}%"))
        conds.append(or_(*alts))
    return stmt.where(and_(*conds)) if conds else stmt


def _request_select(system: str, kind: str, q: str) -> Any:
    r = t.requests.c
    stmt = select(
        literal("r").label("src"), r.id, r.received_at, r.system, r.kind, r.local_uid,
        literal("sync_error").label("status"), null().label("emdr_id"), r.errors, literal("").label("patient_snils"),
        r.message_id, r.sync_status,
    ).where(r.operation == "registerDocument", r.sync_status != "success")
    if system:
        stmt = stmt.where(r.system == system)
    if kind:
        stmt = stmt.where(r.kind == kind)
    if q:
        stmt = stmt.where(func.lower(r.local_uid).like(_like(q), escape="\\"))
    return stmt


class Timeline:
    """The timeline's reads."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def page(self, *, system: str = "", status: str = "", kind: str = "", q: str = "", page: int = 1,
             page_size: int = 50) -> TimelineSlice:
        """Page ``page`` (1-based) of the rows matching the filters (empty = any), newest first."""
        parts = []
        if status in ("", "registered", "rejected", "failed", "pending"):
            parts.append(_doc_select(system, status, kind, q))
        if status in ("", "sync_error"):
            parts.append(_request_select(system, kind, q))
        page = max(1, page)
        with self.s.read() as c:
            total = sum(int(c.execute(select(func.count()).select_from(p.subquery())).scalar_one()) for p in parts)
            pages = max(1, -(-total // page_size))
            page = min(page, pages)
            u = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
            rows = TimelineRow.all(c.execute(select(u).order_by(u.c.received_at.desc(), u.c.id.desc())
                                             .limit(page_size).offset((page - 1) * page_size)))
            by_doc = {r.id: r for r in rows if r.src == "d"}
            if by_doc:
                o = t.outbox.c
                stmt = (select(o.id, o.document_id, o.status, o.attempts, o.attempt_count)
                        .where(o.document_id.in_(list(by_doc))).order_by(o.id))
                for state in DeliveryState.all(c.execute(stmt)):
                    by_doc[int(state.document_id)].deliveries.append(state)
        return TimelineSlice(rows=rows, total=total, page=page, pages=pages)
