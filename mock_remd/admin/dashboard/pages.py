"""Pages: login, language switch, timeline, one document's story and its downloads."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, make_response, redirect, render_template, request, url_for

from mock_remd.admin.dashboard import i18n
from mock_remd.admin.dashboard.auth import TOKEN_COOKIE, token_matches
from mock_remd.admin.dashboard.cda_view import notes_by_line, render_cda, xml_lines
from mock_remd.admin.dashboard.findings import stored_layers_view
from mock_remd.admin.dashboard.story import load_story, request_envelope
from mock_remd.admin.dashboard.timeline import TimelineFilter, kinds_and_systems, timeline_page
from mock_remd.runtime import Runtime


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to (never another host)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def page_number(raw: str | None) -> int:
    """The ``page`` argument as a positive integer (1 when absent or invalid)."""
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


def register(bp: Blueprint, rt: Runtime) -> None:
    """Add the timeline, document, login and language routes to ``bp``."""

    @bp.route("/login", methods=["GET", "POST"])
    def login():
        nxt = safe_next(request.values.get("next"))
        if request.method == "GET":
            return render_template("dashboard/login.html", next=nxt, bad=False)
        token = rt.settings.admin_token
        given = (request.form.get("token") or "").strip()
        if token and not token_matches(given, token):
            return render_template("dashboard/login.html", next=nxt, bad=True), 401
        resp = redirect(nxt)
        resp.set_cookie(TOKEN_COOKIE, given, httponly=True, samesite="Strict", path="/")
        return resp

    @bp.post("/logout")
    def logout():
        resp = redirect(url_for("dashboard.login"))
        resp.delete_cookie(TOKEN_COOKIE, path="/")
        return resp

    @bp.get("/lang/<code>")
    def set_lang(code: str):
        resp = redirect(safe_next(request.args.get("next")))
        resp.set_cookie(i18n.LANG_COOKIE, i18n.pick_lang(code), max_age=365 * 86400, samesite="Lax", path="/")
        return resp

    @bp.get("/")
    def timeline():
        filters = TimelineFilter.from_args(request.args)
        page = timeline_page(rt.store, filters, page_number(request.args.get("page")))
        kinds, systems = kinds_and_systems(rt.store)
        return render_template("dashboard/timeline.html", tl=page, kinds=kinds, systems=systems)

    @bp.get("/documents/<local_uid>")
    def document(local_uid: str):
        attempt = request.args.get("attempt", type=int)
        lang = i18n.pick_lang(request.cookies.get(i18n.LANG_COOKIE))
        story = load_story(rt.store, local_uid, attempt, lang=lang)
        if not story.exists:
            return render_template("dashboard/error.html", key="doc.not_found", uid=local_uid), 404
        content = story.selected.content if story.selected else None
        layers = stored_layers_view(story.selected.layers if story.selected else None)
        notes = notes_by_line(layers)
        return render_template(
            "dashboard/document.html",
            story=story,
            doc=story.selected,
            layers=layers,
            cda_html=render_cda(content, lang),
            lines=xml_lines(content, notes),
        )

    @bp.get("/documents/<local_uid>/document.xml")
    def download_document(local_uid: str):
        story = load_story(rt.store, local_uid, request.args.get("attempt", type=int),
                           lang=i18n.pick_lang(request.cookies.get(i18n.LANG_COOKIE)))
        content = story.selected.content if story.selected else None
        if content is None:
            abort(404)
        return Response(content, mimetype="application/xml",
                        headers={"Content-Disposition": f'attachment; filename="{story.local_uid}.xml"'})

    @bp.get("/documents/<local_uid>/request.xml")
    def download_request(local_uid: str):
        story = load_story(rt.store, local_uid, request.args.get("attempt", type=int),
                           lang=i18n.pick_lang(request.cookies.get(i18n.LANG_COOKIE)))
        body = request_envelope(story.selected) if story.selected else None
        if body is None:
            abort(404)
        resp = make_response(body)
        resp.mimetype = "application/soap+xml"
        resp.headers["Content-Disposition"] = f'attachment; filename="{story.local_uid}-request.xml"'
        return resp
