"""Layer ``xsd``: the official XSD of the kind's pack (``<packs dir>/<kind>/CDA.xsd``), checked with lxml.

Valid documents cost one lxml validation (well under a millisecond for a typical СЭМД). Invalid
ones are re-checked with ``xmlschema`` to list every error the way the registry (Xerces) does,
since libxml2 stops inside an element after its first content-model error. A pack libxml2 cannot
compile is validated as :func:`mock_remd.validation.packs.load_schema` loaded it (normalised for
libxml2, or by xmlschema); the report's details name the engine and the reason.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from pathlib import Path
from typing import Any

from mock_remd.catalog.incidents import ServerFault
from mock_remd.validation.context import DocumentContext, ValidationSettings
from mock_remd.validation.pack_index import InstalledPack, select_pack
from mock_remd.validation.packs import Pack, PackSchema, PackSchemaError, load_schema
from mock_remd.validation.report import Finding, LayerReport
from mock_remd.validation.xsd_messages import from_lxml, from_xmlschema

log = logging.getLogger(__name__)

_full_schemas: dict[Path, Any] = {}
_full_lock = threading.Lock()
_validate_locks: dict[Path, threading.Lock] = {}
#: packs whose xmlschema could not list a document's errors once: not asked again in this process
_full_unusable: set[Path] = set()


def kind_of(ctx: DocumentContext) -> str:
    """The kind id to validate against: what the ``kind`` layer found, else what was asked for."""
    return ctx.kind.id if ctx.kind is not None else (ctx.requested_kind or "")


#: an identity constraint selecting over the descendant axis (``xs:selector xpath=".//hl7:entry/…"``)
_DESCENDANT_SELECTOR = re.compile(rb"""<(?:xs|xsd):selector\s+xpath\s*=\s*["']\s*\.//""")


def _descendant_identity_constraints(path: Path) -> bool:
    """True when the pack declares an ``xs:key``/``xs:unique`` whose selector uses ``.//``: xmlschema
    then recurses without end over the recursive CDA content model (23 of the 24 published packs with
    such a selector), so its error lists are not asked for."""
    return any(_DESCENDANT_SELECTOR.search(f.read_bytes()) for f in path.parent.rglob("*.xsd"))


def _xmlschema_for(path: Path) -> Any | None:
    """A lazily built ``xmlschema`` schema for full Xerces-like error lists (None if it cannot load)."""
    with _full_lock:
        if path in _full_unusable:
            return None
        if path in _full_schemas:
            return _full_schemas[path]
        if _descendant_identity_constraints(path):
            log.info("XSD messages for %s come from libxml2 (descendant-axis identity constraints)", path)
            _full_unusable.add(path)
            return None
        try:
            import xmlschema

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                schema = xmlschema.XMLSchema(str(path), allow="local", defuse="always", validation="lax")
        except Exception as exc:  # a pack xmlschema cannot read: lxml's messages still work
            log.warning("xmlschema cannot load %s (%s); XSD messages come from libxml2 only", path, exc)
            schema = None
        _full_schemas[path] = schema
        return schema


class XsdLayer:
    """Validate the document against its kind's official XSD."""

    name = "xsd"

    def __init__(self, settings: ValidationSettings) -> None:
        self.settings = settings
        self.full_messages = bool(settings.options.get("xsd_full_messages", True))
        #: (packs dir, kind) -> (root XSD, schema); packs are read once per layer instance
        self._prepared: dict[tuple[Path, str], tuple[Path | None, Any]] = {}
        self._lock = threading.Lock()

    def prepare(
        self, packs_dir: Path, kind: str, template_roots: tuple[str, ...] = (),
        selected: tuple[Pack, InstalledPack] | None | bool = False,
    ) -> tuple[Path | None, PackSchema | None]:
        """The root XSD and its loaded schema for ``kind``, the installed edition matching
        ``template_roots`` (loaded once, then reused).

        Raises :class:`PackSchemaError` when no validator can load the pack (not cached: a fixed
        pack is picked up by the next document). ``selected``: the pack already chosen for the
        document (as :func:`select_pack` gives it), else it is looked up here.
        """
        if selected is False:
            selected = select_pack(packs_dir, kind, template_roots)
        pack = selected[0] if selected is not None else None
        key = (packs_dir, str(pack.xsd) if pack is not None else kind)
        held = self._prepared.get(key)
        if held is None:
            with self._lock:
                held = self._prepared.get(key)
                if held is None:
                    xsd = pack.xsd.resolve() if pack is not None and pack.xsd is not None else None
                    held = (xsd, load_schema(xsd) if xsd is not None else None)
                    self._prepared[key] = held
        return held

    def run(self, ctx: DocumentContext) -> LayerReport:
        kind = kind_of(ctx)
        packs_dir = ctx.settings.packs_dir
        if packs_dir is None:
            return LayerReport.skipped(
                self.name, "каталог официальных пакетов не задан (--packs / MOCK_REMD_PACKS_DIR)"
            )
        if not kind:
            return LayerReport.skipped(self.name, "вид СЭМД не определён: нечем выбрать XSD-схему")
        selected = ctx.selected_pack(kind)
        try:
            key, schema = self.prepare(packs_dir, kind, selected=selected)
        except PackSchemaError as exc:  # the server's pack, not the document: /ready and the log show it
            raise ServerFault(
                f"XSD-схема вида СЭМД {kind} в каталоге пакетов не загружается ни libxml2, ни xmlschema"
            ) from exc
        if key is None or schema is None:
            return LayerReport.skipped(self.name, f"нет XSD-схемы для вида СЭМД {kind} в {packs_dir}")
        details: dict[str, Any] = {"pack": str(key), **schema.describe()}
        if selected is not None:  # which installed edition was used
            details["edition"] = selected[1].edition
            details["template_ids"] = list(selected[1].template_ids)
        if schema.lxml is None:
            findings = [f for error in schema.xmlschema.iter_errors(ctx.root) for f in from_xmlschema(error)]
            findings.sort(key=lambda f: f.line or 0)
            return LayerReport(self.name, True, not findings, findings, details=details)
        lock = _validate_locks.setdefault(key, threading.Lock())
        with lock:  # an XMLSchema object keeps its error log: one validation at a time
            ok = schema.lxml.validate(ctx.root)
            log_entries = list(schema.lxml.error_log) if not ok else []
        if ok:
            return LayerReport(self.name, True, True, [], details=details)
        findings: list[Finding] = []
        full = _xmlschema_for(key) if self.full_messages and not schema.refused else None
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
                with _full_lock:
                    _full_unusable.add(key)
                findings = []
        if not findings:
            findings = [from_lxml(e) for e in log_entries]
            details["messages"] = "lxml"
        findings.sort(key=lambda f: f.line or 0)
        return LayerReport(self.name, True, False, findings, details=details)
