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
from mock_remd.catalog.user_messages import say
from mock_remd.runtime import Runtime
from mock_remd.store.clock import MSK, aware

OPEN_ENDPOINTS = ("dashboard.login", "dashboard.static", "dashboard.set_lang")


#: the one time format of the dashboard: Moscow time with the zone said (the admin API answers UTC)
TIME_FORMAT = "%d.%m.%Y %H:%M:%S UTC+3"


def _when(value: Any) -> str:
    """A time (stored naive UTC, or ISO 8601 with an offset) as Moscow time ``dd.mm.yyyy HH:MM:SS UTC+3``."""
    if isinstance(value, str):
        if not value.strip():
            return ""
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.strftime("%d.%m.%Y")
    a = aware(value) if isinstance(value, dt.datetime) else None
    return a.astimezone(MSK).strftime(TIME_FORMAT) if a else ""


def _day(value: Any) -> str:
    """A date (``YYYY-MM-DD…``) as ``dd.mm.yyyy``."""
    text = str(value or "")[:10]
    try:
        return dt.date.fromisoformat(text).strftime("%d.%m.%Y")
    except ValueError:
        return text


def _skip_reason(lang: str, layer: Any) -> str:
    """Why a layer (a stored ``as_dict`` or a report) did not run, and how to make it run, in ``lang``."""
    from mock_remd.catalog.user_messages import skip_reason
    from mock_remd.validation.report import skip_cause

    get = layer.get if isinstance(layer, dict) else (lambda k, d="": getattr(layer, k, d))
    reason = get("reason", "") or ""
    cause = get("cause", "") or skip_cause(reason)
    if f"web.skip.{cause}" in i18n.LABEL_KEYS:  # the fix is a field of the Validate form, not a CLI option
        return i18n.translator(lang)(f"web.skip.{cause}")
    return skip_reason(lang, cause, reason)


def _active_scenarios(rt: Runtime) -> dict[str, list[str]]:
    """Active scenario sets by scope ("" = every system), for the banner on every page."""
    if rt.scenarios is None:
        return {}
    from mock_remd.admin.dashboard.scenarios_view import describe

    try:
        return {scope: names for scope, names in describe(rt.scenarios).active.items() if names}
    except Exception:  # noqa: BLE001 - the banner must never take a page down; the page itself reports
        return {}


def _missing_validation(rt: Runtime) -> list[str]:
    """Which deciding validation material is not installed: ``packs`` and/or ``nsi``."""
    vs = rt.validation
    missing = []
    if {"xsd", "schematron"} & set(vs.layers) and not (vs.packs_dir and vs.packs_dir.is_dir()
                                                          and any(vs.packs_dir.iterdir())):
        missing.append("packs")
    if "nsi" in vs.layers and not (vs.nsi_dir and vs.nsi_dir.is_dir() and any(vs.nsi_dir.glob("*.json"))):
        missing.append("nsi")
    return missing


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
        path = request.path
        return {"t": i18n.translator(lang), "lang": lang, "token_set": bool(rt.settings.admin_token),
                "skip_reason": lambda layer: _skip_reason(lang, layer),
                "say": lambda key, **values: say(lang, key, **values),
                "attempt_error": lambda text: i18n.attempt_error(lang, text),
                "active_scenarios": _active_scenarios(rt),
                "missing_validation": _missing_validation(rt)
                if path == "/" or path.startswith(("/documents", "/validate")) else []}

    bp.add_app_template_filter(_when, "when")
    bp.add_app_template_filter(_day, "day")

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
