"""``/_admin/ui/…``: fragments the pages poll and the actions their forms post (admin-token protected)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, render_template, request

from mock_remd.admin.dashboard import i18n
from mock_remd.admin.dashboard.pages import page_number, safe_next
from mock_remd.admin.dashboard.scenarios_view import error_text
from mock_remd.admin.dashboard.story import load_story
from mock_remd.admin.dashboard.timeline import TimelineFilter, timeline_page
from mock_remd.admin.dashboard.tools import render_scenarios, render_systems
from mock_remd.admin.errors import ApiError
from mock_remd.catalog.user_messages import network_failure as say_network_failure
from mock_remd.catalog.user_messages import text
from mock_remd.core.deliveries import redeliver
from mock_remd.delivery.callback_xml import ACTION, content_type, result_envelope
from mock_remd.runtime import Runtime
from mock_remd.scenarios.engine import ScenarioError
from mock_remd.store.systems import System

TEST_TIMEOUT = 10.0


def sample_outcome(system: System) -> dict[str, Any]:
    """A plausible successful registration to send as a test callback."""
    orgs = system.organizations or [""]
    return {
        "status": "success",
        "local_uid": "00000000-0000-4000-8000-00000000test",
        "kind": "119",
        "organization": orgs[0],
        "emdr_id": "1.50.00.00.000000000",
        "registration_date_time": "2000-01-01T00:00:00.000+03:00",
        "store_till_date": "2025-01-01+03:00",
    }


def send_test_callback(system: System, lang: str = "ru") -> dict[str, Any]:
    """POST a sample ``registerDocumentResult`` to the system's callback URL; the MIS's status and body."""
    import requests  # here: the HTTP workers load it only when someone presses the button

    url = system.callback_url or ""
    if not url:
        return {"ok": False, "error": "no callback_url"}
    version = system.callback_soap_version or "1.1"
    relates_to = "urn:uuid:00000000-0000-4000-8000-000000000000"
    body = result_envelope(sample_outcome(system), relates_to=relates_to, to=url, version=version)
    headers = {"Content-Type": content_type(version)}
    if version != "1.2":
        headers["SOAPAction"] = f'"{ACTION}"'
    try:
        resp = requests.post(url, data=body, headers=headers, timeout=TEST_TIMEOUT, allow_redirects=False)
    except requests.RequestException as exc:
        return {"ok": False, "url": url, "error": say_network_failure(lang, exc, url), "sent": body.decode()}
    return {"ok": 200 <= resp.status_code < 300, "url": url, "status": resp.status_code,
            "body": resp.text[:20000], "sent": body.decode()}


def register(app: Flask, rt: Runtime) -> None:
    """Add the ``/_admin/ui`` routes to the admin app."""

    @app.get("/_admin/ui/timeline")
    def ui_timeline():
        filters = TimelineFilter.from_args(request.args)
        page = timeline_page(rt.store, filters, page_number(request.args.get("page")))
        return jsonify({
            "rows": render_template("dashboard/_timeline_rows.html", tl=page),
            "pager": render_template("dashboard/_pager.html", tl=page),
            "total": page.total,
            "page": page.page,
        })

    @app.get("/_admin/ui/documents/<local_uid>/live")
    def ui_document_live(local_uid: str):
        story = load_story(rt.store, local_uid, request.args.get("attempt", type=int),
                           lang=i18n.pick_lang(request.cookies.get(i18n.LANG_COOKIE)))
        return jsonify({
            "status": story.selected.status if story.selected else None,
            "attempts": len(story.attempts),
            "callbacks": render_template("dashboard/_callbacks.html", story=story, doc=story.selected),
        })

    @app.post("/_admin/ui/callbacks/<int(max=9223372036854775807):delivery_id>/redeliver")
    def ui_redeliver(delivery_id: int):
        row = redeliver(rt.store.outbox, rt, delivery_id)
        if row is None:
            raise ApiError(404, text("admin.delivery_missing", id=delivery_id))
        return redirect(safe_next(request.form.get("next"), f"/documents/{row.local_uid}") + "#callbacks", 303)

    @app.post("/_admin/ui/systems/<mnemonic>/test-callback")
    def ui_test_callback(mnemonic: str):
        system = rt.store.systems.get(mnemonic)
        if system is None:
            raise ApiError(404, text("admin.system_missing", mnemonic=mnemonic))
        lang = i18n.pick_lang(request.cookies.get(i18n.LANG_COOKIE))
        return render_systems(rt, tested=mnemonic, result=send_test_callback(system, lang))

    @app.post("/_admin/ui/scenarios/activate")
    def ui_scenarios_activate():
        names = request.form.getlist("names")
        system = (request.form.get("system") or "").strip()
        only = (request.form.get("only") or "").strip()
        off = (request.form.get("off") or "").strip()
        if off:  # the button next to an active scenario: take it out of every set it is in
            return _changed(lambda: _take_out(off))
        if only:  # the button next to one scenario: add it to what is active for that scope
            active = rt.scenarios.describe().get("active") or {}
            current = list(active.get(system or "*") or active.get(system) or [])
            names = current + ([only] if only not in current else [])
        if names:
            return _changed(lambda: rt.scenarios.activate(names, system=system))
        return _changed(lambda: rt.scenarios.deactivate(system=system))

    def _changed(change: Callable[[], Any]) -> Any:
        """Apply a change of the active sets: back to the page, or the page with the refusal (400)."""
        try:
            change()
        except ScenarioError as exc:
            return render_scenarios(rt, lint=error_text(exc, i18n.pick_lang(request.cookies.get(i18n.LANG_COOKIE))),
                                    status=400)
        return redirect("/scenarios?" + urlencode({"msg": "scn.done"}), 303)

    def _take_out(name: str) -> None:
        for scope, current in (rt.scenarios.describe().get("active") or {}).items():
            if name not in current:
                continue
            system = "" if scope in ("*", "") else scope
            rest = [n for n in current if n != name]
            if rest:
                rt.scenarios.activate(rest, system=system)
            else:
                rt.scenarios.deactivate(system=system)

    @app.post("/_admin/ui/scenarios/deactivate")
    def ui_scenarios_deactivate():
        rt.scenarios.deactivate(system=(request.form.get("system") or "").strip())
        return redirect("/scenarios?" + urlencode({"msg": "scn.done"}), 303)

    @app.post("/_admin/ui/scenarios/upload")
    def ui_scenarios_upload():
        upload = request.files.get("file")
        source = upload.read().decode("utf-8", errors="replace") if upload and upload.filename else ""
        source = source or request.form.get("source", "")
        try:
            result = rt.scenarios.upload(source, "application/yaml")
        except ScenarioError as exc:
            lang = i18n.pick_lang(request.cookies.get(i18n.LANG_COOKIE))
            return render_scenarios(rt, lint=error_text(exc, lang), source=source, status=400)
        name = result.get("name", "") if isinstance(result, dict) else ""
        return redirect("/scenarios?" + urlencode({"msg": "scn.uploaded", "name": name}), 303)
