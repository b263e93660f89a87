"""Layer ``header``: not built yet (placeholder that reports it did not run)."""

from __future__ import annotations

from mock_remd.validation.context import DocumentContext, ValidationSettings
from mock_remd.validation.report import LayerReport


class HeaderLayer:
    name = "header"

    def __init__(self, settings: ValidationSettings) -> None:
        self.settings = settings

    def run(self, ctx: DocumentContext) -> LayerReport:
        return LayerReport.skipped(self.name, "слой ещё не реализован в этой сборке")
