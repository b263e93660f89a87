"""Admin routes of the kind catalog and the installed packs (CONTRACT §6 ``/_admin/kinds``, ``/_admin/packs``)."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request

from mock_remd.admin.errors import ApiError, request_lang
from mock_remd.catalog.kinds import Kind
from mock_remd.catalog.user_messages import render, text
from mock_remd.runtime import Runtime
from mock_remd.validation.material import missing_material, pack_editions


def kind_item(kind: Kind, editions: dict[str, list[dict[str, object]]]) -> dict[str, Any]:
    """One kind as the API shows it: the catalog facts plus its installed pack editions (or null)."""
    item = kind.as_dict()
    item["pack"] = editions.get(kind.id) or None
    return item


def register_catalog_routes(app: Flask, rt: Runtime) -> None:
    """``GET /_admin/kinds``, ``GET /_admin/kinds/{code}``, ``GET /_admin/packs``."""

    def settings():
        return rt.validation

    @app.get("/_admin/kinds")
    def kinds_list():
        editions = pack_editions(settings(), rt.validator.caches)
        kinds = rt.kinds.all()
        fmt = (request.args.get("format") or "").upper()
        if fmt:
            kinds = [k for k in kinds if ("CDA" if k.is_cda else "PDF") in fmt or k.format == fmt]
        if request.args.get("open", "").lower() in ("1", "true", "yes"):
            kinds = [k for k in kinds if k.is_open]
        if request.args.get("pack", "").lower() in ("1", "true", "yes"):
            kinds = [k for k in kinds if k.id in editions]
        items = [kind_item(k, editions) for k in reversed(kinds)]
        return jsonify({"items": items, "total": len(items), "version": rt.kinds.version, "source": rt.kinds.source})

    @app.get("/_admin/kinds/<code>")
    def kinds_get(code: str):
        kind = rt.kinds.get(code)
        if kind is None:
            raise ApiError(404, text("admin.kind_missing", code=code, version=rt.kinds.version), {"code": code})
        item = kind_item(kind, pack_editions(settings(), rt.validator.caches))
        item["version"] = rt.kinds.version
        return jsonify(item)

    @app.get("/_admin/packs")
    def packs_list():
        s = settings()
        index = rt.validator.caches.pack_index(s.packs_dir)
        items = [p.as_dict() for p in index.packs]
        return jsonify({"items": items, "total": len(items), "dir": str(s.packs_dir) if s.packs_dir else None,
                        "missing": render(request_lang(),
                                          [g.as_dict() for g in missing_material(s, rt.validator.caches)])})
