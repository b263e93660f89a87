"""Claims of work shared by the processing jobs and the callback outbox: leases and one atomic claim."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select, update

from mock_remd.store.clock import utcnow
from mock_remd.store.session import Session

#: how long a claim of work (a processing job, a callback delivery) holds without renewal; its holder
#: renews it every :data:`LEASE_RENEW_SECONDS` while the work runs, so work of a killed process is
#: taken over by another within this time
LEASE_SECONDS = 10.0
LEASE_RENEW_SECONDS = 2.0


def claim_statement(s: Session, table: Any, *, state: Any, free: str, taken: str, due_at: Any, lease_until: Any,
                    claim_values: dict[str, Any], limit: int) -> Any:
    """The shared claim: rows in state ``free`` and due, or ``taken`` with an expired lease, moved to
    ``taken`` with ``claim_values`` by one ``UPDATE … RETURNING`` (``SKIP LOCKED`` on PostgreSQL).
    None when nothing is due (checked with a cheap read, so idle polls take no write lock)."""
    now = utcnow()
    due = or_(and_(state == free, due_at <= now), and_(state == taken, lease_until < now))
    with s.read() as c:
        if c.execute(select(table.c.id).where(due).limit(1)).first() is None:
            return None
    sub = select(table.c.id).where(due).order_by(due_at).limit(limit)
    if not s.db.is_sqlite:
        sub = sub.with_for_update(skip_locked=True)
    return update(table).where(table.c.id.in_(sub.scalar_subquery())).values(**claim_values).returning(*table.c)
