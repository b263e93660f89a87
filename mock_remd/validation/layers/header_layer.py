"""Layer ``header``: the header rules every modern СЭМД shares (realmCode … legalAuthenticator).

Runs for every kind, with or without an official rule pack; the rules themselves live in
:mod:`mock_remd.validation.cda.header_rules`.
"""

from __future__ import annotations

from mock_remd.validation.cda.access import NOT_CDA_REASON, is_cda_root
from mock_remd.validation.cda.header_rules import check_header
from mock_remd.validation.context import DocumentContext, ValidationSettings
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
        findings = check_header(ctx.root)
        return LayerReport(self.name, True, not findings, findings)
