"""The dashboard at ``/``: timeline, document stories, scenarios, systems and a validate page.

Server-rendered Jinja pages with a little JavaScript (polling for live updates); templates, CSS,
JS and the CDA stylesheet ship inside this package, nothing is fetched from the network. Pages
live in a Blueprint at ``/``; the fragments they poll and the actions they post live under
``/_admin/ui/…`` and are protected like the rest of the admin API. With an admin token set, the
pages ask for it once (a login form stores it in a cookie).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Flask, redirect, request, url_for

from mock_remd.admin.dashboard import i18n
from mock_remd.admin.dashboard.auth import request_authorised
from mock_remd.server.runtime import Runtime
from mock_remd.store.clock import MSK, aware

OPEN_ENDPOINTS = ("dashboard.login", "dashboard.static", "dashboard.set_lang")


def _when(value: Any) -> str:
    """A stored time (naive UTC) as Moscow time ``dd.mm.yyyy HH:MM:SS``."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    a = aware(value) if isinstance(value, dt.datetime) else None
    return a.astimezone(MSK).strftime("%d.%m.%Y %H:%M:%S") if a else ""


def make_blueprint(rt: Runtime) -> Blueprint:
    """The dashboard Blueprint (pages at ``/``, static files at ``/_dashboard/static``)."""
    bp = Blueprint("dashboard", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/_dashboard/static")

    @bp.before_request
    def _login_required():
        if request.endpoint in OPEN_ENDPOINTS or request_authorised(request, rt.settings.admin_token):
            return None
        return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")))

    @bp.app_context_processor
    def _context() -> dict[str, Any]:
        lang = i18n.pick_lang(request.cookies.get(i18n.LANG_COOKIE))
        return {"t": i18n.translator(lang), "lang": lang, "token_set": bool(rt.settings.admin_token)}

    bp.add_app_template_filter(_when, "when")

    def kind_name(code: str) -> str:
        kind = rt.kinds.get(code) if code else None
        return kind.name if kind else ""

    bp.add_app_template_global(kind_name, "kind_name")

    from mock_remd.admin.dashboard import conformance_view, kinds_view, pages, tools

    pages.register(bp, rt)
    tools.register(bp, rt)
    conformance_view.register(bp, rt)
    kinds_view.register(bp, rt)
    return bp


def register_dashboard(app: Flask, rt: Runtime) -> None:
    """Mount the dashboard pages and its ``/_admin/ui`` endpoints on the admin app."""
    from mock_remd.admin.dashboard import ui_api

    app.register_blueprint(make_blueprint(rt))
    ui_api.register(app, rt)
