"""The Kinds page: every kind of the catalog with its rules, the NSI 1520 version and installed packs."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from mock_remd.runtime import Runtime
from mock_remd.validation.material import missing_material, pack_editions


def register(bp: Blueprint, rt: Runtime) -> None:
    """Add ``/kinds`` to ``bp``."""

    @bp.get("/kinds")
    def kinds():
        settings = rt.validation
        editions = pack_editions(settings, rt.validator.caches)
        show = request.args.get("show", "cda")
        q = (request.args.get("q") or "").strip().lower()
        items = rt.kinds.all()
        if show == "cda":
            items = [k for k in items if k.is_cda and k.is_open]
        elif show == "packs":
            items = [k for k in items if k.id in editions]
        if q:
            items = [k for k in items if q in k.name.lower() or q == k.id]
        gaps = [g for g in missing_material(settings, rt.validator.caches) if g.layer in ("xsd", "schematron")]
        return render_template(
            "dashboard/kinds.html", items=items, editions=editions, version=rt.kinds.version,
            source=rt.kinds.source, total=len(rt.kinds), show=show, q=q, gaps=gaps,
            packs_installed=sum(len(v) for v in editions.values()),
        )
