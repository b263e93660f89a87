"""Admin routes of conformance runs (CONTRACT §10): start, list, read, JUnit report, cancel."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, Response, jsonify, request

from mock_remd.admin.errors import ApiError, request_lang
from mock_remd.catalog.user_messages import text
from mock_remd.conformance.engine import ConformanceError
from mock_remd.conformance.report import junit_xml
from mock_remd.runtime import Runtime

RUN_STATES = ("running", "finished", "cancelled")


def _refusals(view: Callable[..., Any]) -> Callable[..., Any]:
    """The engine's refusals become API errors."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except ConformanceError as exc:
            raise ApiError(exc.status, exc.error, exc.detail) from exc

    return wrapper


def register_conformance_routes(app: Flask, rt: Runtime) -> None:
    """``/_admin/conformance/…``."""
    engine = rt.conformance

    @app.post("/_admin/conformance/runs")
    @_refusals
    def conformance_start():
        body = request.get_json(silent=True)
        if body is None:
            raise ApiError(400, text("admin.conformance_body"))
        run = engine.view(engine.start(body), request_lang())
        resp = jsonify(run)
        resp.status_code = 201
        resp.headers["Location"] = f"/_admin/conformance/runs/{run['id']}"
        return resp

    @app.get("/_admin/conformance/runs")
    def conformance_list():
        state = request.args.get("state", "")
        if state and state not in RUN_STATES:
            raise ApiError(400, text("query.one_of", name="state", value=state, allowed=", ".join(RUN_STATES)),
                           {"parameter": "state"})
        raw = request.args.get("limit", "100")
        try:
            limit = min(max(int(raw), 1), 1000)
        except ValueError as exc:
            raise ApiError(400, text("query.not_int", name="limit", value=raw), {"parameter": "limit"}) from exc
        rows, total = engine.runs.list(system=request.args.get("system", ""), state=state, limit=limit)
        lang = request_lang()
        return jsonify({"items": [engine.view(r, lang) for r in rows], "total": total})

    @app.get("/_admin/conformance/runs/<run_id>")
    @_refusals
    def conformance_get(run_id: str):
        return jsonify(engine.view(engine.get(run_id), request_lang()))

    @app.get("/_admin/conformance/runs/<run_id>/junit")
    @_refusals
    def conformance_junit(run_id: str):
        lang = request_lang()
        body = junit_xml(engine.view(engine.get(run_id), lang), lang)
        return Response(body, mimetype="application/xml",
                        headers={"Content-Disposition": f'attachment; filename="conformance-{run_id}.xml"'})

    @app.delete("/_admin/conformance/runs/<run_id>")
    @_refusals
    def conformance_cancel(run_id: str):
        return jsonify(engine.view(engine.cancel(run_id), request_lang()))

    @app.get("/_admin/conformance/plans")
    def conformance_plans():
        plans, issues = engine.plans.load()
        lang = request_lang()
        return jsonify({"items": [p.summary(lang) for p in plans.values()], "total": len(plans),
                        "load_errors": [i.as_dict(lang) for i in issues]})
