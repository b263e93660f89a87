"""Layer ``xsd``: the official XSD of the kind's pack (``<packs dir>/<kind>/CDA.xsd``), checked with lxml.

Valid documents cost one lxml validation (well under a millisecond for a typical СЭМД). Invalid
ones are re-checked with ``xmlschema`` to list every error the way the registry (Xerces) does,
since libxml2 stops inside an element after its first content-model error. A pack libxml2 cannot
compile is validated as :func:`mock_remd.validation.packs.load_schema` loaded it (normalised for
libxml2, or by xmlschema); the report's details name the engine and the reason. Loaded schemas live
in the Validator's :class:`~mock_remd.validation.caches.ValidationCaches`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mock_remd.catalog.findings import text as finding_text
from mock_remd.catalog.incidents import ServerFault
from mock_remd.validation.caches import ValidationCaches
from mock_remd.validation.context import DocumentContext, ValidationSettings
from mock_remd.validation.pack_index import InstalledPack
from mock_remd.validation.packs import Pack, PackSchema, PackSchemaError
from mock_remd.validation.report import Finding, LayerReport
from mock_remd.validation.xsd_messages import from_lxml, from_xmlschema

log = logging.getLogger(__name__)

def kind_of(ctx: DocumentContext) -> str:
    """The kind id to validate against: what the ``kind`` layer found, else what was asked for."""
    return ctx.kind.id if ctx.kind is not None else (ctx.requested_kind or "")


class XsdLayer:
    """Validate the document against its kind's official XSD."""

    name = "xsd"

    def __init__(self, settings: ValidationSettings) -> None:
        self.settings = settings
        self.full_messages = bool(settings.options.get("xsd_full_messages", True))

    @staticmethod
    def prepare(
        caches: ValidationCaches, packs_dir: Path, kind: str, template_roots: tuple[str, ...] = (),
        selected: tuple[Pack, InstalledPack] | None | bool = False,
    ) -> tuple[Path | None, PackSchema | None]:
        """The root XSD and its loaded schema for ``kind``, the installed edition matching
        ``template_roots`` (loaded once into ``caches``, then reused).

        Raises :class:`PackSchemaError` when no validator can load the pack (not kept: a fixed
        pack is picked up by the next document). ``selected``: the pack already chosen for the
        document (as :meth:`ValidationCaches.select_pack` gives it), else it is looked up here.
        """
        if selected is False:
            selected = caches.select_pack(packs_dir, kind, template_roots)
        pack = selected[0] if selected is not None else None
        if pack is None or pack.xsd is None:
            return None, None
        xsd = caches.resolved(pack.xsd)
        return xsd, caches.pack_schema(xsd)

    def run(self, ctx: DocumentContext) -> LayerReport:
        kind = kind_of(ctx)
        packs_dir = ctx.settings.packs_dir
        if packs_dir is None:
            return LayerReport.skipped(self.name, finding_text("skip.no_packs"))
        if not kind:
            return LayerReport.skipped(self.name, finding_text("skip.no_kind_for_xsd"))
        selected = ctx.selected_pack(kind)
        try:
            key, schema = self.prepare(ctx.caches, packs_dir, kind, selected=selected)
        except PackSchemaError as exc:  # the server's pack, not the document: /ready and the log show it
            raise ServerFault(finding_text("fault.xsd_unloadable", kind=kind)) from exc
        if key is None or schema is None:
            return LayerReport.skipped(self.name, finding_text("skip.no_xsd", kind=kind, packs_dir=packs_dir))
        details: dict[str, Any] = {"pack": str(key), **schema.describe()}
        if selected is not None:  # which installed edition was used
            details["edition"] = selected[1].edition
            details["template_ids"] = list(selected[1].template_ids)
        if schema.lxml is None:
            findings = [f for error in schema.xmlschema.iter_errors(ctx.root) for f in from_xmlschema(error)]
            findings.sort(key=lambda f: f.line or 0)
            return LayerReport(self.name, True, not findings, findings, details=details)
        with ctx.caches.schema_locks.get(key):  # an XMLSchema object keeps its error log: one validation at a time
            ok = schema.lxml.validate(ctx.root)
            log_entries = list(schema.lxml.error_log) if not ok else []
        if ok:
            return LayerReport(self.name, True, True, [], details=details)
        findings: list[Finding] = []
        full = ctx.caches.message_schemas.get(key) if self.full_messages and not schema.refused else None
        if full is not None:
            try:
                for error in full.iter_errors(ctx.root):
                    findings.extend(from_xmlschema(error))
                details["messages"] = "xmlschema"
            except (Exception, RecursionError) as exc:  # keep lxml's verdict and messages
                log.warning(
                    "xmlschema cannot list errors for %s (%s); libxml2's messages are used for this pack",
                    key,
                    type(exc).__name__,
                )
                ctx.caches.message_schemas.put(key, None)  # not asked again for this pack
                findings = []
        if not findings:
            findings = [from_lxml(e) for e in log_entries]
            details["messages"] = "lxml"
        findings.sort(key=lambda f: f.line or 0)
        return LayerReport(self.name, True, False, findings, details=details)
