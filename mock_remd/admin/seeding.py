"""``POST /_admin/documents``: documents that already exist in the registry."""

from __future__ import annotations

from typing import Any

from mock_remd.admin.errors import ApiError
from mock_remd.core.dates import add_years, parse_datetime, registry_date, registry_datetime
from mock_remd.core.model import snils_digits
from mock_remd.server.runtime import Runtime

REQUIRED = ("local_uid", "kind", "organization", "registration_date_time")
OPTIONAL = ("emdr_id", "store_till_date", "patient_snils", "system", "creation_date_time")


def seed_documents(rt: Runtime, items: Any) -> list[dict[str, Any]]:
    """Validate the JSON list and insert registered documents; all or nothing."""
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items:
        raise ApiError(400, "ожидается непустой JSON-список документов")
    rows = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ApiError(400, f"элемент [{i}]: ожидается объект")
        missing = [k for k in REQUIRED if not item.get(k)]
        if missing:
            raise ApiError(400, f"элемент [{i}]: не указаны поля {', '.join(missing)}")
        unknown = set(item) - set(REQUIRED) - set(OPTIONAL)
        if unknown:
            raise ApiError(400, f"элемент [{i}]: неизвестные поля {', '.join(sorted(unknown))}")
        reg = parse_datetime(str(item["registration_date_time"]))
        if reg is None:
            raise ApiError(400, f"элемент [{i}]: registration_date_time не в формате xs:dateTime",
                           item["registration_date_time"])
        if reg.tzinfo is None:
            raise ApiError(400, f"элемент [{i}]: registration_date_time без часового пояса", item["registration_date_time"])
        if rt.store.find_active_by_local_uid(str(item["local_uid"])):
            raise ApiError(409, f"элемент [{i}]: документ {item['local_uid']} уже есть в реестре")
        created = parse_datetime(str(item.get("creation_date_time") or "")) or reg
        row = {
            "local_uid": str(item["local_uid"]),
            "kind": str(item["kind"]),
            "organization": str(item["organization"]),
            "registration_date_time": registry_datetime(reg),
            "store_till_date": item.get("store_till_date") or registry_date(add_years(created.date(), rt.options.store_years)),
            "patient_snils": snils_digits(item.get("patient_snils")),
            "system": str(item.get("system") or ""),
            "creation_date_time": str(item.get("creation_date_time") or ""),
            "emdr_id": item.get("emdr_id") or None,
        }
        if row["emdr_id"] is None:
            row["__emdr_id_factory"] = lambda seq, _reg=reg: rt.service.new_emdr_id(seq, _reg)
        rows.append(row)
    try:
        return rt.store.seed_documents(rows)
    except Exception as exc:  # e.g. an emdr_id that exists already
        raise ApiError(409, "документы не добавлены: конфликт с реестром", str(exc)) from exc
