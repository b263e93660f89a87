"""Pages: Scenarios, Systems and Validate (the layered report of ``mock-remd validate``, nothing sent)."""

from __future__ import annotations

import dataclasses
import threading
from typing import TYPE_CHECKING, Any

from flask import Blueprint, render_template, request
from lxml import etree

from mock_remd.admin.dashboard import i18n
from mock_remd.admin.dashboard.cda_view import notes_by_line, xml_lines
from mock_remd.admin.dashboard.findings import layers_view
from mock_remd.admin.dashboard.scenarios_view import describe
from mock_remd.catalog.incidents import record_incident
from mock_remd.domain.model import RegisterRequest
from mock_remd.runtime import Runtime
from mock_remd.soap.operations import find_register_request, parse_register
from mock_remd.validation.report import LAYER_ORDER, ValidationReport
from mock_remd.xmlsafe import UnsafeXmlError, XmlTooLargeError, parse_bytes

if TYPE_CHECKING:  # built on the first upload: the HTTP workers of serve do not carry the layers otherwise
    from mock_remd.validation.pipeline import Validator

_lock = threading.Lock()


def full_validator(rt: Runtime) -> Validator:
    """A validator running every layer (as the CLI does), sharing the server's when it already does."""
    from mock_remd.validation.pipeline import Validator

    if rt.validation.layers >= frozenset(LAYER_ORDER):
        return rt.validator
    with _lock:
        v = getattr(rt, "_dashboard_validator", None)
        if v is None:
            v = Validator(dataclasses.replace(rt.validation, layers=frozenset(LAYER_ORDER)))
            rt._dashboard_validator = v  # type: ignore[attr-defined]
    return v


class UnreadableRequest(ValueError):
    """The uploaded request cannot be used: ``key`` and ``values`` of a dashboard message (i18n.py)."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key, self.values = key, values


def read_request(data: bytes) -> RegisterRequest:
    """A ``registerDocumentRequest`` from an envelope or a bare request (:class:`UnreadableRequest` otherwise)."""
    try:
        root = parse_bytes(data)
    except XmlTooLargeError:
        raise UnreadableRequest("val.req_too_large") from None
    except UnsafeXmlError:
        raise UnreadableRequest("val.req_unsafe") from None
    except etree.XMLSyntaxError as exc:
        raise UnreadableRequest("val.req_not_xml", line=getattr(exc, "lineno", None) or "?") from None
    op = find_register_request(root)
    if op is None:
        raise UnreadableRequest("val.req_no_request")
    return parse_register(op)


def validate_upload(rt: Runtime, content: bytes, request_bytes: bytes | None, kind: str) -> ValidationReport:
    """Run the layers on an uploaded document (and request); raises :class:`UnreadableRequest` for an unreadable request."""
    req = read_request(request_bytes) if request_bytes else None
    return full_validator(rt).validate(content, req, kind=kind)


def render_scenarios(rt: Runtime, *, message: str = "", lint: tuple[str, list[str]] | None = None,
                     source: str = "", status: int = 200) -> Any:
    """The Scenarios page (with an upload's lint errors, if any)."""
    view = describe(rt.scenarios)
    systems = rt.store.systems.mnemonics()
    return render_template("dashboard/scenarios.html", view=view, systems=systems, message=message, lint=lint,
                           source=source), status


def render_systems(rt: Runtime, *, tested: str = "", result: dict[str, Any] | None = None) -> Any:
    """The Systems page (with the answer of a test callback, if one was sent)."""
    return render_template("dashboard/systems.html", systems=rt.store.systems.list(), tested=tested, result=result)


def register(bp: Blueprint, rt: Runtime) -> None:
    """Add the Scenarios, Systems and Validate routes to ``bp``."""

    @bp.get("/scenarios")
    def scenarios():
        return render_scenarios(rt, message=request.args.get("msg", ""))

    @bp.get("/systems")
    def systems():
        return render_systems(rt)

    @bp.route("/validate", methods=["GET", "POST"])
    def validate():
        if request.method == "GET":
            return render_template("dashboard/validate.html", report=None, error="", lines=[])
        upload = request.files.get("document")
        content = upload.read() if upload else b""
        if not content:
            return render_template("dashboard/validate.html", report=None, error="val.no_file", lines=[]), 400
        req_file = request.files.get("request")
        req_bytes = req_file.read() if req_file else b""
        try:
            report = validate_upload(rt, content, req_bytes or None, (request.form.get("kind") or "").strip())
        except UnreadableRequest as exc:
            t = i18n.translator(i18n.pick_lang(request.cookies.get(i18n.LANG_COOKIE)))
            return render_template("dashboard/validate.html", report=None, error="val.bad_request",
                                   exc=t(exc.key, **exc.values), lines=[]), 400
        except Exception:  # a bug of ours: the page names the incident, the log has the traceback
            incident = record_incident("dashboard validate")
            t = i18n.translator(i18n.pick_lang(request.cookies.get(i18n.LANG_COOKIE)))
            return render_template("dashboard/validate.html", report=None, error="val.bad_request",
                                   exc=t("err.incident", id=incident.id), lines=[]), 500
        layers = layers_view(report)
        return render_template("dashboard/validate.html", report=report, layers=layers, error="",
                               filename=upload.filename if upload else "",
                               lines=xml_lines(content, notes_by_line(layers)))
