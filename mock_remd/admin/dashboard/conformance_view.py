"""Dashboard pages of conformance runs: the runs list and one run, live while it is active."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from mock_remd.admin.dashboard import i18n
from mock_remd.runtime import Runtime

#: seconds between reloads of a page while a run is active
REFRESH_SECONDS = 2

STATE_BADGES = {"passed": "ok", "failed": "bad", "running": "wait", "pending": "", "finished": "", "cancelled": "warn"}


def register(bp: Blueprint, rt: Runtime) -> None:
    """``/conformance`` and ``/conformance/<id>``."""
    engine = rt.conformance

    @bp.get("/conformance")
    def conformance_runs():
        system = request.args.get("system", "")
        lang = i18n.pick_lang(request.cookies.get(i18n.LANG_COOKIE))
        rows, total = engine.runs.list(system=system, limit=100)
        runs = [engine.view(r, lang) for r in rows]
        live = any(r["state"] == "running" for r in runs)
        plans, issues = engine.plans.load()
        return render_template("dashboard/conformance_runs.html", runs=runs, total=total, live=live,
                               refresh=REFRESH_SECONDS, badges=STATE_BADGES, plans=[p.summary(lang) for p in plans.values()],
                               plan_issues=[i.render(lang) for i in issues])

    @bp.get("/conformance/<run_id>")
    def conformance_run(run_id: str):
        row = engine.runs.get(run_id)
        if row is None:
            return render_template("dashboard/error.html", key="conf.not_found", uid=run_id), 404
        run = engine.view(row, i18n.pick_lang(request.cookies.get(i18n.LANG_COOKIE)))
        return render_template("dashboard/conformance_run.html", run=run, live=run["state"] == "running",
                               refresh=REFRESH_SECONDS, badges=STATE_BADGES)
