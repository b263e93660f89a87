"""Admin routes of the scenario engine (CONTRACT §6/§7)."""

from __future__ import annotations

from flask import Flask, jsonify, request

from mock_remd.admin.errors import ApiError
from mock_remd.server.runtime import Runtime


def register_scenario_routes(app: Flask, rt: Runtime) -> None:
    """Scenario library and active sets; answers 501 while no engine is built in."""

    def engine():
        if rt.scenarios is None:
            raise ApiError(501, "сценарии ещё не поддерживаются этой сборкой")
        return rt.scenarios

    @app.get("/_admin/scenarios")
    def scenarios_list():
        return jsonify(engine().describe())

    @app.post("/_admin/scenarios")
    def scenarios_upload():
        return jsonify(engine().upload(request.get_data(as_text=True), request.content_type or "")), 201

    @app.put("/_admin/scenarios/active")
    def scenarios_activate():
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("names"), list):
            raise ApiError(400, 'ожидается JSON {"names": [...]} (и, по желанию, "system")')
        return jsonify(engine().activate(body["names"], system=body.get("system") or ""))

    @app.delete("/_admin/scenarios/active")
    def scenarios_deactivate():
        return jsonify(engine().deactivate(system=request.args.get("system", "")))
