"""Layer ``header``: the header rules every modern СЭМД shares (realmCode … legalAuthenticator).

Runs for every kind, with or without an official rule pack; the rules themselves live in
:mod:`mock_remd.validation.cda.header_rules`. Which header parts must be present follows the kind's
official pack (installed, else the published set, else only what CDA R2 requires); the report's
details say which source decided and which parts it requires.
"""

from __future__ import annotations

from mock_remd.validation.cda.access import NOT_CDA_REASON, is_cda_root
from mock_remd.validation.cda.document import CdaHeader
from mock_remd.validation.cda.header_rules import check_header
from mock_remd.validation.cda.pack_requirements import requirements_for
from mock_remd.validation.context import DocumentContext, ValidationSettings
from mock_remd.validation.layers.kind_layer import identify_kind
from mock_remd.validation.layers.xsd_layer import kind_of
from mock_remd.validation.report import LayerReport


class HeaderLayer:
    """Check the CDA header; each broken rule is one ``VALIDATION_ERROR`` finding with path and line."""

    name = "header"

    def __init__(self, settings: ValidationSettings) -> None:
        self.settings = settings

    def run(self, ctx: DocumentContext) -> LayerReport:
        """Validate ``ctx.root``'s header."""
        if ctx.root is None:
            return LayerReport.skipped(self.name, "документ не разобран как XML")
        if not is_cda_root(ctx.root):
            return LayerReport.skipped(self.name, NOT_CDA_REASON)
        kind = kind_of(ctx)
        if not kind:
            declared = identify_kind(CdaHeader(ctx.root), ctx.settings.kinds, by_type=False).kind
            kind = declared.id if declared is not None else ""
        requires = requirements_for(kind, ctx.settings.packs_dir)
        findings = check_header(ctx.root, requires)
        details = {
            "kind": kind,
            "required_by": requires.source,
            "required": sorted(requires.required),
            "ministry_recipient": requires.ministry_recipient,
        }
        return LayerReport(self.name, True, not findings, findings, details=details)
