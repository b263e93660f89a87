"""The timeline page: the store's timeline rows (:mod:`mock_remd.store.timeline`) with a callback state each.

A row is either an accepted document (``documents``: its final outcome is pending, registered or
rejected) or a request the synchronous leg refused (``requests`` with a sync status other than
``success``: no document exists for it). Callback states are fetched for the page's documents only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mock_remd.store.repository import Store
from mock_remd.store.timeline import STATUSES, DeliveryState, TimelineRow

PAGE_SIZE = 50


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

    rows: list[TimelineRow]
    total: int
    page: int
    pages: int
    filters: TimelineFilter = field(default_factory=TimelineFilter)


def timeline_page(store: Store, f: TimelineFilter, page: int = 1, page_size: int = PAGE_SIZE) -> TimelinePage:
    """Page ``page`` (1-based) of the timeline under filter ``f``, with each row's callback state."""
    found = store.timeline.page(system=f.system, status=f.status, kind=f.kind, q=f.q, page=page,
                                page_size=page_size)
    for r in found.rows:
        r.callback = summarize_callbacks(r.deliveries) if r.src == "d" else None
    return TimelinePage(rows=found.rows, total=found.total, page=found.page, pages=found.pages, filters=f)


def summarize_callbacks(deliveries: list[DeliveryState]) -> dict[str, Any]:
    """One state for a document's deliveries: none, waiting, sending, retrying, delivered or dead.

    ``attempts`` counts every logged attempt of the latest delivery (a redelivery keeps the log).
    """
    if not deliveries:
        return {"state": "none", "attempts": 0, "count": 0}
    last = deliveries[-1]
    attempts = len(last.attempts or [])
    status = last.status
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
    return store.documents.kinds(), store.systems.mnemonics()

