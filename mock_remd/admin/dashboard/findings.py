"""Validation layers as the document and validate pages show them: each defect once, with all its sources.

The merge is the one ``mock-remd validate`` prints (:meth:`ValidationReport.layers_once`): a defect that
the project's header/kind rules and the official Schematron both found is listed under the Schematron,
the other layer named as a second source.
"""

from __future__ import annotations

from typing import Any

from mock_remd.validation.report import ValidationReport, also_sources


def layers_view(report: ValidationReport) -> list[dict[str, Any]]:
    """Each layer as a dict (:meth:`LayerReport.as_dict`) whose ``findings`` are the ones shown under it, each
    with ``also`` (the other sources, "" when none); ``found`` is how many the layer reported and
    ``shown_under`` how many of them are shown under another layer."""
    out = []
    for lr, shown in report.layers_once():
        view = lr.as_dict()
        view["findings"] = [{**f.as_dict(), "also": also_sources(also) if also else ""} for f, also in shown]
        view["found"] = len(lr.findings)
        view["shown_under"] = len(lr.findings) - len(shown)
        out.append(view)
    return out


def stored_layers_view(layers: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """:func:`layers_view` of a document's stored layers."""
    return layers_view(ValidationReport.from_dicts(layers or []))
