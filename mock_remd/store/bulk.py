"""Bulk loading of a history (benchmarks of the pages that read many rows)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from mock_remd.store import schema as t
from mock_remd.store.session import Session


class Bulk:
    """Many rows in one transaction, without the per-row work of the request path."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def load_history(self, documents: list[dict[str, Any]], refused: list[dict[str, Any]], *,
                     callback_url: str) -> list[int]:
        """Insert processed ``documents`` (rows of ``documents``), journal entries of ``refused``
        requests, and one delivered callback to ``callback_url`` per document; returns the documents' ids."""
        with self.s.write() as c:
            before = c.execute(select(t.documents.c.id).order_by(t.documents.c.id.desc()).limit(1)).scalar() or 0
            c.execute(insert(t.documents), documents)
            if refused:
                c.execute(insert(t.requests), refused)
            ids = [r.id for r in c.execute(select(t.documents.c.id).where(t.documents.c.id > before)
                                           .order_by(t.documents.c.id))]
            c.execute(insert(t.outbox), [
                {"relates_to": d["message_id"], "local_uid": d["local_uid"], "document_id": doc_id,
                 "system": d["system"], "url": callback_url, "body": b"<x/>", "status": "delivered",
                 "attempts": [{"at": d["received_at"].isoformat(), "http_status": 200, "error": None}],
                 "attempt_count": 1, "backoff": [], "due_at": d["received_at"], "created_at": d["received_at"],
                 "delivered_at": d["received_at"], "note": ""}
                for doc_id, d in zip(ids, documents, strict=True)
            ])
        return ids
