"""Layer ``schematron``: the official ISO Schematron of the kind's pack (``<packs dir>/<kind>/*.sch``).

Compiled by our own Schematron→XSLT compiler (:mod:`mock_remd.validation.schematron`), cached on
disk by content hash, run on saxonche on the document with the default namespace removed, as the
official validator does. Each failed assert / successful report becomes a ``VALIDATION_ERROR``
"Ошибка валидации Schematron: <text>. Путь: <location>".
"""

from __future__ import annotations

import logging
from pathlib import Path

from mock_remd.catalog.findings import text as finding_text
from mock_remd.catalog.incidents import record_incident
from mock_remd.validation.caches import ValidationCaches
from mock_remd.validation.context import DocumentContext, ValidationSettings
from mock_remd.validation.layers.xsd_layer import kind_of
from mock_remd.validation.pack_index import InstalledPack
from mock_remd.validation.packs import Pack
from mock_remd.validation.report import Finding, LayerReport
from mock_remd.validation.schematron.model import SchematronError
from mock_remd.validation.schematron.runner import (
    SchematronRunError,
    SchematronValidator,
    locate_line,
)

log = logging.getLogger(__name__)

TRANSFORM_ERROR = finding_text("schematron.transform_error")


class SchematronLayer:
    """Run the kind's official Schematron on the document."""

    name = "schematron"

    def __init__(self, settings: ValidationSettings) -> None:
        self.settings = settings
        opts = settings.options
        self.mode = str(opts.get("schematron_mode", "optimised"))
        cache = opts.get("schematron_cache_dir")
        self.cache_dir = Path(cache) if cache else None

    def prepare(
        self, caches: ValidationCaches, packs_dir: Path, kind: str, template_roots: tuple[str, ...] = (),
        selected: tuple[Pack, InstalledPack] | None | bool = False,
    ) -> tuple[Pack | None, SchematronValidator | None]:
        """The pack and compiled validator for ``kind``, the installed edition matching
        ``template_roots`` (looked up and compiled once into ``caches``, then reused). ``selected``: the
        pack already chosen for the document (as :meth:`ValidationCaches.select_pack` gives it), else it
        is looked up here."""
        if selected is False:
            selected = caches.select_pack(packs_dir, kind, template_roots)
        pack = selected[0] if selected is not None else None
        if pack is None or pack.schematron is None:
            return pack, None
        return pack, caches.schematron(pack.schematron, self.mode, self.cache_dir)

    def run(self, ctx: DocumentContext) -> LayerReport:
        kind = kind_of(ctx)
        packs_dir = ctx.settings.packs_dir
        if packs_dir is None:
            return LayerReport.skipped(self.name, finding_text("skip.no_packs"))
        if not kind:
            return LayerReport.skipped(self.name, finding_text("skip.no_kind_for_schematron"))
        selected = ctx.selected_pack(kind)
        try:
            pack, validator = self.prepare(ctx.caches, packs_dir, kind, selected=selected)
        except SchematronError:  # the pack, not the document: logged with an incident id, never shown
            incident = record_incident(f"schematron pack of kind {kind}")
            finding = Finding(
                "SCHEMA_PROCESSING_ERROR", finding_text("schematron.unsupported", kind=kind, incident=incident.id)
            )
            return LayerReport(self.name, True, False, [finding], details={"incident": incident.id})
        if pack is None or pack.schematron is None or validator is None:
            return LayerReport.skipped(self.name, finding_text("skip.no_schematron", kind=kind, packs_dir=packs_dir))
        details = {
            "pack": str(pack.schematron),
            "edition": selected[1].edition if selected is not None else "",
            "template_ids": list(selected[1].template_ids) if selected is not None else [],
            "compiled": validator.key[:16],
            "compile_source": validator.source,
            "compile_cache_hit": validator.source != "compiled",
            "rules": validator.compiled.rule_count,
        }
        try:
            result = validator.validate(ctx.content)
        except SchematronRunError:
            incident = record_incident(f"schematron {pack.schematron}")
            details["incident"] = incident.id
            return LayerReport(
                self.name, True, False, [Finding("XML_VALIDATION_ERROR", TRANSFORM_ERROR)], details=details
            )
        for f in result.findings:
            f.line = locate_line(ctx.root, f.path, validator.compiled.namespaces)
        details["rules_fired"] = len(result.rule_counts)
        details["rule_firings"] = result.fired
        return LayerReport(self.name, True, not result.findings, result.findings, details=details)
