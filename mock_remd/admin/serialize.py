"""Store rows → the JSON shapes of the admin API (CONTRACT §6)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mock_remd.catalog.associations import type_name
from mock_remd.store.clock import iso
from mock_remd.store.repository import Store


def _value(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return iso(v)
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    return v


def system(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: _value(v) for k, v in row.items()}
    return out


def request(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "message_id", "operation", "received_at", "system", "client_entity_id", "local_uid", "kind",
            "sync_status", "errors", "http_status", "soap_version", "scenario", "duration_ms", "detail")
    return {k: _value(row.get(k)) for k in keys}


def document(row: dict[str, Any], *, full: bool = False) -> dict[str, Any]:
    out = {
        "id": row.get("id"),
        "local_uid": row.get("local_uid"),
        "emdr_id": row.get("emdr_id"),
        "status": row.get("status"),
        "kind": row.get("kind"),
        "organization": row.get("organization"),
        "system": row.get("system"),
        "message_id": row.get("message_id"),
        "received_at": _value(row.get("received_at")),
        "registration_date_time": row.get("registration_date_time"),
        "store_till_date": row.get("store_till_date"),
        "creation_date_time": row.get("creation_date_time"),
        "patient_snils": row.get("patient_snils"),
        "document_number": row.get("document_number"),
        "errors": row.get("errors") or [],
        "layers": row.get("layers") or [],
        "seeded": bool(row.get("seeded")),
        "processing": row.get("job_state"),
    }
    incident = next((e.get("incident") for e in out["errors"] if isinstance(e, dict) and e.get("incident")), None)
    if incident:  # a document set aside as ``failed``: the id of the log record that explains it
        out["incident"] = incident
    if full:
        out["request"] = row.get("request")
        out["behaviour"] = row.get("behaviour")
        content = row.get("content")
        out["content_size"] = len(content) if content is not None else None
    return out


def link(row: dict[str, Any], *, incoming: bool = False) -> dict[str, Any]:
    """One recorded link; ``incoming`` = seen from its target (``local_uid``/``emdr_id`` of the source)."""
    out = {
        "target": row.get("target"),
        "type": row.get("type"),
        "type_name": row.get("type_name") or "",
        "version": bool(row.get("is_version")),
        "target_local_uid": row.get("target_local_uid") or None,
        "target_emdr_id": row.get("target_emdr_id") or None,
        "target_version_number": row.get("target_version_number"),
        "recorded": True,
    }
    if incoming:
        out["local_uid"] = row.get("local_uid")
        out["version_number"] = row.get("version_number")
    return out


def life(store: Store, row: dict[str, Any]) -> dict[str, Any]:
    """``versions`` (the registered version chain, oldest first), ``associations`` (the links this
    document carries: recorded ones once registered, else as the request asked) and ``linked_from``."""
    if row.get("status") != "registered":
        asked = (row.get("request") or {}).get("associations") or []
        return {
            "versions": [],
            "associations": [{"target": a.get("target"), "type": a.get("type"), "type_name": type_name(a.get("type", "")),
                              "version": None, "target_local_uid": None, "target_emdr_id": None,
                              "target_version_number": None, "recorded": False} for a in asked],
            "linked_from": [],
        }
    chain = store.version_chain(int(row["id"]))
    versions = [
        {
            "local_uid": v["local_uid"],
            "emdr_id": v.get("emdr_id"),
            "version_number": v.get("version_number"),
            "status": v.get("status"),
            "registration_date_time": v.get("registration_date_time"),
            "current": i == len(chain) - 1,
        }
        for i, v in enumerate(chain)
    ]
    return {
        "versions": versions,
        "associations": [link(lk) for lk in store.links_from(int(row["id"]))],
        "linked_from": [link(lk, incoming=True) for lk in store.links_to(int(row["id"]))],
    }


def delivery(row: dict[str, Any]) -> dict[str, Any]:
    """A delivery; an attempt in flight (``sending`` in the store) shows as ``pending`` with ``in_flight``."""
    keys = ("id", "relates_to", "local_uid", "system", "url", "soap_version", "status", "attempts", "attempt_count",
            "due_at", "created_at", "delivered_at", "body", "note")
    out = {k: _value(row.get(k)) for k in keys}
    out["in_flight"] = out["status"] == "sending"
    if out["in_flight"]:
        out["status"] = "pending"
    return out
