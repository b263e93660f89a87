"""``POST /_admin/documents``: documents that already exist in the registry."""

from __future__ import annotations

import logging
from typing import Any

from mock_remd.admin.errors import ApiError
from mock_remd.catalog.incidents import record_incident
from mock_remd.catalog.user_messages import text
from mock_remd.core.dates import add_years, parse_datetime, registry_date, registry_datetime
from mock_remd.domain.model import snils_digits
from mock_remd.runtime import Runtime
from mock_remd.store.documents import Document, SeededDocument
from mock_remd.store.faults import is_conflict

REQUIRED = ("local_uid", "kind", "organization", "registration_date_time")
log = logging.getLogger(__name__)

OPTIONAL = ("emdr_id", "store_till_date", "patient_snils", "system", "creation_date_time")


def seed_documents(rt: Runtime, items: Any) -> list[Document]:
    """Validate the JSON list and insert registered documents; all or nothing."""
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items:
        raise ApiError(400, text("seed.list"))
    rows = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ApiError(400, text("seed.not_object", i=i))
        missing = [k for k in REQUIRED if not item.get(k)]
        if missing:
            raise ApiError(400, text("seed.missing", i=i, fields=", ".join(missing)))
        unknown = set(item) - set(REQUIRED) - set(OPTIONAL)
        if unknown:
            raise ApiError(400, text("seed.unknown", i=i, fields=", ".join(sorted(unknown))))
        reg = parse_datetime(str(item["registration_date_time"]))
        if reg is None:
            raise ApiError(400, text("seed.not_datetime", i=i), item["registration_date_time"])
        if reg.tzinfo is None:
            raise ApiError(400, text("seed.no_zone", i=i), item["registration_date_time"])
        if rt.store.documents.find_active(str(item["local_uid"])):
            raise ApiError(409, text("seed.exists", i=i, local_uid=item["local_uid"]))
        for field, limit in (("local_uid", 128), ("emdr_id", 64), ("kind", 16), ("organization", 128), ("system", 128)):
            if len(str(item.get(field) or "")) > limit:
                raise ApiError(400, text("seed.too_long", i=i, field=field, limit=limit), str(item[field])[:limit] + "…")
        if item.get("emdr_id") and rt.store.documents.registered_by_emdr_id(str(item["emdr_id"])):
            raise ApiError(409, text("seed.emdr_exists", i=i, emdr_id=item["emdr_id"]))
        created = parse_datetime(str(item.get("creation_date_time") or "")) or reg
        row = SeededDocument(
            local_uid=str(item["local_uid"]),
            kind=str(item["kind"]),
            organization=str(item["organization"]),
            registration_date_time=registry_datetime(reg),
            store_till_date=item.get("store_till_date") or registry_date(add_years(created.date(), rt.options.store_years)),
            patient_snils=snils_digits(item.get("patient_snils")),
            system=str(item.get("system") or ""),
            creation_date_time=str(item.get("creation_date_time") or ""),
            emdr_id=str(item.get("emdr_id") or ""),
        )
        rows.append((row, reg))
    _no_repeats([r for r, _ in rows])
    try:
        with rt.store.transaction() as tx:  # all or nothing; an emdrId is numbered where none was given
            for row, reg in rows:
                if not row.emdr_id:
                    row.emdr_id = rt.service.new_emdr_id(tx.sequences.next("emdr"), reg)
            return [tx.documents.seed(row) for row, _ in rows]
    except Exception as exc:
        if not is_conflict(exc):
            raise
        # a document registered meanwhile by another request: name the candidates
        incident = record_incident("seeding documents")
        uids = ", ".join(r.local_uid for r, _ in rows[:5]) + (" …" if len(rows) > 5 else "")
        raise ApiError(409, text("seed.conflict", uids=uids),
                       {"incident": incident.id}) from None


def _no_repeats(rows: list[SeededDocument]) -> None:
    """A local_uid or emdr_id given twice in one request: one sentence naming it."""
    for field in ("local_uid", "emdr_id"):
        seen: dict[str, int] = {}
        for i, row in enumerate(rows):
            value = getattr(row, field)
            if not value:
                continue
            key = str(value).lower() if field == "local_uid" else str(value)
            if key in seen:
                raise ApiError(409, text("seed.repeat", first=seen[key], second=i, field=field, value=value))
            seen[key] = i
