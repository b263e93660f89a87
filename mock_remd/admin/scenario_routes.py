"""Admin routes of the scenario engine (CONTRACT §6/§7)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, jsonify, request

from mock_remd.admin.errors import ApiError, request_lang
from mock_remd.catalog.user_messages import render, text
from mock_remd.runtime import Runtime
from mock_remd.scenarios.engine import ScenarioError
from mock_remd.yamlsafe import DEFAULT_LIMITS


def _refusals(view: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the engine's refusals (``ScenarioError``: lint issues, unknown names) into API errors."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except ScenarioError as exc:
            raise ApiError(exc.status, exc.error, exc.detail) from exc

    return wrapper


def register_scenario_routes(app: Flask, rt: Runtime) -> None:
    """Scenario library and active sets."""

    @app.get("/_admin/scenarios")
    def scenarios_list():
        return jsonify(render(request_lang(), rt.scenarios.describe()))

    @app.post("/_admin/scenarios")
    @_refusals
    def scenarios_upload():
        limit = DEFAULT_LIMITS.max_bytes
        if (request.content_length or 0) > limit:  # refused before the body is read
            raise ApiError(413, text("admin.scenario_too_large", limit=limit), {"content_length": request.content_length})
        return jsonify(rt.scenarios.upload(request.get_data(as_text=True), request.content_type or "")), 201

    @app.get("/_admin/scenarios/active")
    def scenarios_active():
        return jsonify(rt.scenarios.describe()["active"])

    @app.put("/_admin/scenarios/active")
    @_refusals
    def scenarios_activate():
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("names"), list):
            raise ApiError(400, text("admin.activate_body"))
        return jsonify(rt.scenarios.activate(body["names"], system=body.get("system") or request.args.get("system", "")))

    @app.delete("/_admin/scenarios/active")
    @_refusals
    def scenarios_deactivate():
        return jsonify(rt.scenarios.deactivate(system=request.args.get("system", "")))

    @app.get("/_admin/scenarios/<name>")
    @_refusals
    def scenarios_get(name: str):
        return jsonify(rt.scenarios.get(name))

    @app.delete("/_admin/scenarios/<name>")
    @_refusals
    def scenarios_delete(name: str):
        return jsonify(rt.scenarios.remove(name))
