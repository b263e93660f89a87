"""The admin API (Flask): health, readiness, systems, journal, documents, callbacks, scenarios.

Every answer is JSON; every error is ``{"error", "detail"}`` with a 4xx status (a bug answers a JSON
500, never a plain-text page). With ``MOCK_REMD_ADMIN_TOKEN`` set, ``/_admin`` needs
``Authorization: Bearer TOKEN``.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from mock_remd.admin import serialize
from mock_remd.admin.errors import ApiError, json_error, request_lang
from mock_remd.admin.openapi import openapi_document
from mock_remd.catalog.incidents import record_incident
from mock_remd.catalog.user_messages import MESSAGES, Text, render, say, text
from mock_remd.core.deliveries import redeliver
from mock_remd.core.systems import SystemError_, normalize_system
from mock_remd.domain.model import normalize_message_id
from mock_remd.runtime import Runtime
from mock_remd.store.documents import Document
from mock_remd.store.faults import is_bad_value, is_server_fault

log = logging.getLogger(__name__)

MAX_LIMIT = 1000
#: largest row id (a 64-bit key): a bigger one in a path is simply not found
MAX_ID = 2**63 - 1


def _nul_free(value: Any, where: Text, detail: dict[str, str] | None = None, *, name: bool = False) -> None:
    """ApiError 400 naming the parameter when a value (or, with ``name``, a name) holds a NUL character
    (no database keeps one); ``detail`` is the answer's ``detail`` (``{"parameter": name}`` for a query
    parameter, like its other 400s)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ApiError(400, text("admin.nul_name" if name else "admin.nul", where=where), detail)
    elif isinstance(value, dict):
        for k, v in value.items():
            _nul_free(str(k), where, name=True)
            _nul_free(v, text("admin.where.field", name=f"{where}.{k}"))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _nul_free(v, text("admin.where.field", name=f"{where}[{i}]"))


_lang = request_lang


def _int_param(name: str, default: int, low: int, high: int | None = None) -> int:
    """Query parameter ``name`` as an integer in [low, high]; a 400 naming the parameter otherwise."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, say(_lang(), "query.not_int", name=name, value=raw), {"parameter": name}) from None
    if value < low or (high is not None and value > high):
        key = "query.range" if high is not None else "query.at_least"
        raise ApiError(400, say(_lang(), key, name=name, value=raw, low=low, high=high), {"parameter": name})
    return value


def _choice_param(name: str, allowed: tuple[str, ...]) -> str:
    """Query parameter ``name``, empty or one of ``allowed``; a 400 naming the parameter otherwise."""
    value = request.args.get(name, "")
    if value and value not in allowed:
        raise ApiError(400, say(_lang(), "query.one_of", name=name, value=value, allowed=", ".join(allowed)),
                       {"parameter": name})
    return value


def _limit() -> tuple[int, int]:
    """``limit`` (≥ 1, default 100, at most MAX_LIMIT returned) and ``offset`` (≥ 0) of a list request."""
    return min(_int_param("limit", 100, 1), MAX_LIMIT), _int_param("offset", 0, 0, MAX_ID)


def _json_body() -> Any:
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, text("admin.json_body"))
    return data


def create_admin_app(rt: Runtime) -> Flask:
    """Build the Flask app for ``rt``."""
    app = Flask("mock_remd.admin")
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config["MAX_CONTENT_LENGTH"] = rt.settings.max_request_bytes

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return json_error(exc.status, exc.error, exc.detail)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        page = not request.path.startswith(("/_admin", "/port", "/health", "/ready"))
        if page and (exc.code == 413 or "text/html" in request.headers.get("Accept", "")):  # a browser: a page
            from flask import render_template

            limit = rt.settings.max_request_bytes // (1024 * 1024)
            key = "err.too_large" if exc.code == 413 else "err.http"
            return render_template("dashboard/error.html", key=key, limit=limit, code=exc.code), exc.code or 500
        code = exc.code or 500
        key = f"http.{code}" if f"http.{code}" in MESSAGES else "http.other"
        return json_error(code, text(key, code=code, path=request.path, method=request.method,
                                     limit=rt.settings.max_request_bytes // (1024 * 1024),
                                     ctype=request.mimetype or "-"))

    @app.errorhandler(Exception)
    def _bug(exc: Exception):
        incident = record_incident(f"admin API {request.method} {request.path}")
        resp = jsonify({**incident.as_answer(), "error": say(_lang(), "admin.internal")})
        resp.status_code = 503 if is_server_fault(exc) else 500
        if is_bad_value(exc):  # a value the database refuses (too long, out of range): the request's fault
            resp = json_error(400, text("admin.unstorable"), {"incident": incident.id})
        return resp

    @app.before_request
    def _auth():
        token = rt.settings.admin_token
        if not token or not request.path.startswith("/_admin"):
            return None
        header = request.headers.get("Authorization", "")
        given = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if not given:  # the dashboard's login cookie (HttpOnly, SameSite=Strict), see admin/dashboard/auth.py
            given = request.cookies.get("mock_remd_token", "").strip()
        if not given or not hmac.compare_digest(given.encode(), token.encode()):
            resp = json_error(401, text("admin.token"), "Authorization: Bearer <MOCK_REMD_ADMIN_TOKEN>")
            resp.headers["WWW-Authenticate"] = 'Bearer realm="mock-remd"'
            return resp
        return None

    @app.before_request
    def _values_storable():
        for key, value in request.args.items(multi=True):
            _nul_free(key, text("admin.where.param"), {"parameter": key}, name=True)
            _nul_free(value, text("admin.where.param_of", name=key), {"parameter": key})
        if request.is_json:
            _nul_free(request.get_json(silent=True), text("admin.where.json"))
        elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for key, value in request.form.items(multi=True):
                _nul_free(value, text("admin.where.field", name=key))
        return None

    # ---- health --------------------------------------------------------------------------------
    @app.get("/health")
    def health():
        return jsonify({"status": "ok"})

    @app.get("/ready")
    def ready():
        ok, details = rt.readiness()
        # client_address: where this request came from, so a test client behind a published container
        # port learns the address the server can call it back at (pytest plugin, mock-remd send)
        resp = jsonify({"status": "ready" if ok else "starting", "details": render(request_lang(), details),
                        "client_address": request.remote_addr})
        resp.status_code = 200 if ok else 503
        return resp

    @app.get("/_admin/openapi.json")
    def openapi():
        return jsonify(openapi_document(request.host_url.rstrip("/")))

    @app.post("/_admin/reset")
    def reset():
        everything = request.args.get("all", "").lower() in ("1", "true", "yes")
        rt.store.reset(everything=everything)
        if everything:
            rt.conformance.runs.delete_all()
        rt.service.forget_systems()
        if everything:
            rt.service.seed_systems(rt.settings.systems)
        rt.scenarios.reset(everything=everything)
        return jsonify({"status": "ok", "all": everything})

    # ---- systems -------------------------------------------------------------------------------
    @app.get("/_admin/systems")
    def systems_list():
        items = [serialize.system(s) for s in rt.store.systems.list()]
        return jsonify({"items": items, "total": len(items)})

    @app.get("/_admin/systems/<mnemonic>")
    def systems_get(mnemonic: str):
        row = rt.store.systems.get(mnemonic)
        if row is None:
            raise ApiError(404, text("admin.system_missing", mnemonic=mnemonic))
        return jsonify(serialize.system(row))

    @app.put("/_admin/systems/<mnemonic>")
    def systems_put(mnemonic: str):
        try:
            system = normalize_system(_json_body(), mnemonic)
        except SystemError_ as exc:
            raise ApiError(400, text("admin.system_invalid"), exc.text) from exc
        other = rt.store.systems.by_client_id(system.client_entity_id)
        if other is not None and other.mnemonic != mnemonic:
            raise ApiError(409, text("admin.client_id_taken"), other.mnemonic)
        before = rt.store.systems.get(mnemonic)
        saved = rt.store.systems.upsert(system)
        if before is not None and before.callback_url and saved.callback_url \
                and before.callback_url != saved.callback_url:
            # callbacks still waiting to be delivered follow the system's new address (a temporary
            # port of `mock-remd send` that has closed must not be retried until the delivery dies)
            rt.store.outbox.readdress(mnemonic, before.callback_url, saved.callback_url)
        rt.service.forget_systems()
        return jsonify(serialize.system(saved))

    @app.delete("/_admin/systems/<mnemonic>")
    def systems_delete(mnemonic: str):
        if not rt.store.systems.delete(mnemonic):
            raise ApiError(404, text("admin.system_missing", mnemonic=mnemonic))
        rt.service.forget_systems()
        return jsonify({"status": "deleted", "mnemonic": mnemonic})

    # ---- journal -------------------------------------------------------------------------------
    @app.get("/_admin/requests")
    def requests_list():
        limit, offset = _limit()
        rows, total = rt.store.journal.list(
            message_id=normalize_message_id(request.args.get("message_id", "")),
            local_uid=request.args.get("local_uid", ""),
            system=request.args.get("system", ""),
            limit=limit,
            offset=offset,
        )
        items = [serialize.request(r) for r in rows]
        if request.args.get("explain", "").lower() in ("1", "true", "yes"):
            for item in items:
                item["explain"] = rt.scenarios.explain(item)
        return jsonify({"items": items, "total": total})

    # ---- documents -----------------------------------------------------------------------------
    @app.get("/_admin/documents")
    def documents_list():
        limit, offset = _limit()
        status = _choice_param("status", ("pending", "registered", "rejected", "failed"))
        rows, total = rt.store.documents.list(status=status, system=request.args.get("system", ""),
                                              kind=request.args.get("kind", ""), limit=limit, offset=offset)
        return jsonify({"items": [serialize.document(r) for r in rows], "total": total})

    def _document(key: str) -> Document:
        """A document by localUid, or the registered one with this emdrId."""
        row = rt.store.documents.get(key)
        if row is None:
            registered = rt.store.documents.registered_by_emdr_id(key)
            row = rt.store.documents.by_id(registered.id) if registered else None
        if row is None:
            raise ApiError(404, text("admin.document_missing", key=key))
        return row

    @app.get("/_admin/documents/<local_uid>")
    def documents_get(local_uid: str):
        row = _document(local_uid)
        local_uid = row.local_uid
        out = serialize.document(row, full=True)
        history = rt.store.documents.history(local_uid)
        out["attempts"] = [serialize.document(h) for h in history]
        deliveries, _ = rt.store.outbox.list(local_uid=local_uid, limit=100)
        out["callbacks"] = [serialize.delivery(d) for d in deliveries]
        out.update(serialize.life(rt.store, row))
        return jsonify(out)

    @app.get("/_admin/documents/<local_uid>/content")
    def documents_content(local_uid: str):
        row = _document(local_uid)
        local_uid = row.local_uid
        if row.content is None:
            raise ApiError(404, text("admin.no_content", local_uid=local_uid), row.status)
        return Response(row.content, mimetype="application/xml",
                        headers={"Content-Disposition": f'attachment; filename="{local_uid}.xml"'})

    @app.post("/_admin/documents")
    def documents_seed():
        from mock_remd.admin.seeding import seed_documents

        items = _json_body()
        created = seed_documents(rt, items)
        resp = jsonify({"items": [serialize.document(r) for r in created], "total": len(created)})
        resp.status_code = 201
        return resp

    # ---- callbacks -----------------------------------------------------------------------------
    @app.get("/_admin/callbacks")
    def callbacks_list():
        limit, offset = _limit()
        status = _choice_param("status", ("pending", "delivered", "dead"))
        rows, total = rt.store.outbox.list(
            relates_to=normalize_message_id(request.args.get("relates_to", "")),
            status="pending,sending" if status == "pending" else status,
            local_uid=request.args.get("local_uid", ""),
            limit=limit,
            offset=offset,
        )
        return jsonify({"items": [serialize.delivery(r) for r in rows], "total": total})

    @app.get(f"/_admin/callbacks/<int(max={MAX_ID}):delivery_id>")
    def callbacks_get(delivery_id: int):
        row = rt.store.outbox.get(delivery_id)
        if row is None:
            raise ApiError(404, text("admin.delivery_missing", id=delivery_id))
        return jsonify(serialize.delivery(row))

    @app.post("/_admin/callbacks/flush")
    def callbacks_flush():
        n = rt.store.make_all_due()
        rt.wake()
        return jsonify({"status": "ok", "released": n})

    @app.post(f"/_admin/callbacks/<int(max={MAX_ID}):delivery_id>/redeliver")
    def callbacks_redeliver(delivery_id: int):
        row = redeliver(rt.store.outbox, rt, delivery_id)
        if row is None:
            raise ApiError(404, text("admin.delivery_missing", id=delivery_id))
        return jsonify(serialize.delivery(row))

    # ---- scenarios -----------------------------------------------------------------------------
    from mock_remd.admin.scenario_routes import register_scenario_routes

    register_scenario_routes(app, rt)
    from mock_remd.admin.conformance_routes import register_conformance_routes

    register_conformance_routes(app, rt)

    from mock_remd.admin.catalog_routes import register_catalog_routes

    register_catalog_routes(app, rt)
    from mock_remd.admin.dashboard import register_dashboard

    register_dashboard(app, rt)
    return app
