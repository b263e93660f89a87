"""The timeline query: every registerDocument as one row, newest first, paginated in the database.

A row is either an accepted document (``documents``: its final outcome is pending, registered or
rejected) or a request the synchronous leg refused (``requests`` with a sync status other than
``success``: no document exists for it). Callback states are fetched for the page's documents only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, literal, null, or_, select, union_all

from mock_remd.store import schema as t
from mock_remd.store.repository import Store

PAGE_SIZE = 50
STATUSES = ("registered", "rejected", "failed", "pending", "sync_error")


@dataclass
class TimelineFilter:
    """What the user filters the timeline by (empty = any)."""

    system: str = ""
    status: str = ""
    kind: str = ""
    q: str = ""

    @classmethod
    def from_args(cls, args: Any) -> TimelineFilter:
        """From request query arguments (unknown statuses are ignored)."""
        status = (args.get("status") or "").strip()
        return cls(
            system=(args.get("system") or "").strip(),
            status=status if status in STATUSES else "",
            kind=(args.get("kind") or "").strip(),
            q=(args.get("q") or "").strip()[:128],
        )

    def as_args(self) -> dict[str, str]:
        """The non-empty filters as query arguments."""
        return {k: v for k, v in (("system", self.system), ("status", self.status), ("kind", self.kind),
                                  ("q", self.q)) if v}


@dataclass
class TimelinePage:
    """One page of the timeline."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    filters: TimelineFilter = field(default_factory=TimelineFilter)


def _like(value: str) -> str:
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _doc_select(f: TimelineFilter):
    d = t.documents.c
    q = select(
        literal("d").label("src"), d.id, d.received_at, d.system, d.kind, d.local_uid, d.status, d.emdr_id,
        d.errors, d.patient_snils, d.message_id, literal("success").label("sync_status"),
    )
    conds = []
    if f.system:
        conds.append(d.system == f.system)
    if f.kind:
        conds.append(d.kind == f.kind)
    if f.status:
        conds.append(d.status == f.status)
    if f.q:
        pattern = _like(f.q)
        digits = "".join(ch for ch in f.q if ch.isdigit())
        alts = [func.lower(d.local_uid).like(pattern, escape="\\"), func.lower(d.emdr_id).like(pattern, escape="\\")]
        if len(digits) >= 3:
            alts.append(d.patient_snils.like(f"%{digits}%"))
        conds.append(or_(*alts))
    return q.where(and_(*conds)) if conds else q


def _request_select(f: TimelineFilter):
    r = t.requests.c
    q = select(
        literal("r").label("src"), r.id, r.received_at, r.system, r.kind, r.local_uid,
        literal("sync_error").label("status"), null().label("emdr_id"), r.errors, literal("").label("patient_snils"),
        r.message_id, r.sync_status,
    ).where(r.operation == "registerDocument", r.sync_status != "success")
    if f.system:
        q = q.where(r.system == f.system)
    if f.kind:
        q = q.where(r.kind == f.kind)
    if f.q:
        q = q.where(func.lower(r.local_uid).like(_like(f.q), escape="\\"))
    return q


def _count(c: Any, q: Any) -> int:
    return int(c.execute(select(func.count()).select_from(q.subquery())).scalar_one())


def timeline_page(store: Store, f: TimelineFilter, page: int = 1, page_size: int = PAGE_SIZE) -> TimelinePage:
    """Page ``page`` (1-based) of the timeline under filter ``f``, with each row's callback state."""
    parts = []
    if f.status in ("", "registered", "rejected", "failed", "pending"):
        parts.append(_doc_select(f))
    if f.status in ("", "sync_error"):
        parts.append(_request_select(f))
    page = max(1, page)
    with store.db.transaction(write=False) as c:
        total = sum(_count(c, p) for p in parts)
        pages = max(1, -(-total // page_size))
        page = min(page, pages)
        u = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
        rows = [
            dict(r._mapping)
            for r in c.execute(
                select(u).order_by(u.c.received_at.desc(), u.c.id.desc())
                .limit(page_size).offset((page - 1) * page_size)
            )
        ]
        doc_ids = [r["id"] for r in rows if r["src"] == "d"]
        callbacks = _callbacks_for(c, doc_ids)
    for r in rows:
        r["callback"] = summarize_callbacks(callbacks.get(r["id"], [])) if r["src"] == "d" else None
    return TimelinePage(rows=rows, total=total, page=page, pages=pages, filters=f)


def _callbacks_for(c: Any, doc_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    if not doc_ids:
        return {}
    o = t.outbox.c
    out: dict[int, list[dict[str, Any]]] = {}
    stmt = select(o.id, o.document_id, o.status, o.attempts, o.attempt_count).where(o.document_id.in_(doc_ids))
    for r in c.execute(stmt.order_by(o.id)):
        out.setdefault(int(r.document_id), []).append(dict(r._mapping))
    return out


def summarize_callbacks(deliveries: list[dict[str, Any]]) -> dict[str, Any]:
    """One state for a document's deliveries: none, waiting, sending, retrying, delivered or dead.

    ``attempts`` counts every logged attempt of the latest delivery (a redelivery keeps the log).
    """
    if not deliveries:
        return {"state": "none", "attempts": 0, "count": 0}
    last = deliveries[-1]
    attempts = len(last.get("attempts") or [])
    status = last.get("status")
    if status == "delivered":
        state = "delivered"
    elif status == "dead":
        state = "dead"
    elif status == "sending":
        state = "sending"
    else:
        state = "retrying" if attempts else "waiting"
    return {"state": state, "attempts": attempts, "count": len(deliveries)}


def kinds_and_systems(store: Store) -> tuple[list[str], list[str]]:
    """Distinct kinds and systems seen in documents (for the filter drop-downs)."""
    d = t.documents.c
    with store.db.transaction(write=False) as c:
        kinds = [r[0] for r in c.execute(select(d.kind).distinct().order_by(d.kind)) if r[0]]
    systems = [s["mnemonic"] for s in store.list_systems()]
    return kinds, systems

