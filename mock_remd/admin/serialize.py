"""Store records → the JSON shapes of the admin API (CONTRACT §6)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mock_remd.catalog.associations import type_name
from mock_remd.store.clock import iso
from mock_remd.store.documents import Document
from mock_remd.store.journal import JournalEntry
from mock_remd.store.outbox import Delivery
from mock_remd.store.repository import Store
from mock_remd.store.systems import System
from mock_remd.store.versions import Link


def _value(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return iso(v)
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    return v


def system(row: System) -> dict[str, Any]:
    """A system as the admin API shows it."""
    return {k: _value(v) for k, v in row.as_dict().items()}


def request(row: JournalEntry) -> dict[str, Any]:
    """A journal entry as the admin API shows it."""
    return {k: _value(v) for k, v in row.as_dict().items()}


def document(row: Document, *, full: bool = False) -> dict[str, Any]:
    """A document (an attempt) as the admin API shows it; ``full`` adds its request and content size."""
    out = {
        "id": row.id,
        "local_uid": row.local_uid,
        "emdr_id": row.emdr_id,
        "status": row.status,
        "kind": row.kind,
        "organization": row.organization,
        "system": row.system,
        "message_id": row.message_id,
        "received_at": _value(row.received_at),
        "registration_date_time": row.registration_date_time,
        "store_till_date": row.store_till_date,
        "creation_date_time": row.creation_date_time,
        "patient_snils": row.patient_snils,
        "document_number": row.document_number,
        "errors": row.errors or [],
        "layers": row.layers or [],
        "seeded": bool(row.seeded),
        "processing": row.job_state,
    }
    incident = next((e.get("incident") for e in out["errors"] if isinstance(e, dict) and e.get("incident")), None)
    if incident:  # a document set aside as ``failed``: the id of the log record that explains it
        out["incident"] = incident
    if full:
        out["request"] = row.request
        out["behaviour"] = row.behaviour
        out["content_size"] = len(row.content) if row.content is not None else None
    return out


def link(row: Link, *, incoming: bool = False) -> dict[str, Any]:
    """One recorded link; ``incoming`` = seen from its target (``local_uid``/``emdr_id`` of the source)."""
    out = {
        "target": row.target,
        "type": row.type,
        "type_name": row.type_name or "",
        "version": bool(row.is_version),
        "target_local_uid": row.target_local_uid or None,
        "target_emdr_id": row.target_emdr_id or None,
        "target_version_number": row.target_version_number,
        "recorded": True,
    }
    if incoming:
        out["local_uid"] = row.local_uid
        out["version_number"] = row.version_number
    return out


def life(store: Store, row: Document) -> dict[str, Any]:
    """``versions`` (the registered version chain, oldest first), ``associations`` (the links this
    document carries: recorded ones once registered, else as the request asked) and ``linked_from``."""
    if row.status != "registered":
        asked = (row.request or {}).get("associations") or []
        return {
            "versions": [],
            "associations": [{"target": a.get("target"), "type": a.get("type"), "type_name": type_name(a.get("type", "")),
                              "version": None, "target_local_uid": None, "target_emdr_id": None,
                              "target_version_number": None, "recorded": False} for a in asked],
            "linked_from": [],
        }
    chain = store.versions.chain(row.id)
    versions = [
        {
            "local_uid": v.document.local_uid,
            "emdr_id": v.document.emdr_id,
            "version_number": v.version_number,
            "status": v.document.status,
            "registration_date_time": v.document.registration_date_time,
            "current": i == len(chain) - 1,
        }
        for i, v in enumerate(chain)
    ]
    return {
        "versions": versions,
        "associations": [link(lk) for lk in store.versions.links_from(row.id)],
        "linked_from": [link(lk, incoming=True) for lk in store.versions.links_to(row.id)],
    }


def delivery(row: Delivery) -> dict[str, Any]:
    """A delivery; an attempt in flight (``sending`` in the store) shows as ``pending`` with ``in_flight``."""
    keys = ("id", "relates_to", "local_uid", "system", "url", "soap_version", "status", "attempts", "attempt_count",
            "due_at", "created_at", "delivered_at", "body", "note")
    out = {k: _value(getattr(row, k)) for k in keys}
    out["in_flight"] = out["status"] == "sending"
    if out["in_flight"]:
        out["status"] = "pending"
    return out
