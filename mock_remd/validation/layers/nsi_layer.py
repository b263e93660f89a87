"""Layer ``nsi``: coded elements against the loaded FNSI dictionaries (ФНСИ value check).

Findings: ``INVALID_DICTIONARY_OID`` (only with ``options["nsi"]["strict_unknown"]``),
``INVALID_DICTIONARY_VERSION``, ``INVALID_ELEMENT_VALUE_CODE``, ``INVALID_ELEMENT_VALUE_NAME`` and
``VALIDATION_ERROR`` for a wrong ``@codeSystemName``. Without dictionaries the layer does not run.
"""

from __future__ import annotations

import threading

from mock_remd.catalog.findings import text as finding_text
from mock_remd.validation.context import DocumentContext, ValidationSettings
from mock_remd.validation.nsi.check import CheckOptions, NsiChecker
from mock_remd.validation.nsi.store import DictionarySet, load_dir
from mock_remd.validation.report import LayerReport


def document_kind(ctx: DocumentContext) -> str:
    """The kind for messages: the ``kind`` layer's finding, else the one asked for, else by templateId."""
    if ctx.kind is not None:
        return ctx.kind.id
    if ctx.requested_kind:
        return ctx.requested_kind
    root = ctx.root
    if root is not None:
        for el in root.findall("{urn:hl7-org:v3}templateId"):
            kind = ctx.kinds().by_template(el.get("root") or "")
            if kind is not None:
                return kind.id
    return ""


class NsiLayer:
    """Loads the NSI directory once (on first use) and checks each document against it."""

    name = "nsi"

    def __init__(self, settings: ValidationSettings) -> None:
        self.settings = settings
        options = dict(settings.options.get("nsi") or {})
        self.check_options = CheckOptions.from_options(options)
        self._overrides = options.get("overrides") or None
        self._dictionaries: DictionarySet | None = None
        self._lock = threading.Lock()

    @property
    def dictionaries(self) -> DictionarySet:
        """The loaded dictionaries (read from ``settings.nsi_dir`` once)."""
        if self._dictionaries is None:
            with self._lock:
                if self._dictionaries is None:
                    nsi_dir = self.settings.nsi_dir
                    self._dictionaries = load_dir(nsi_dir, self._overrides) if nsi_dir else DictionarySet()
        return self._dictionaries

    def _not_ran_reason(self) -> str:
        nsi_dir = self.settings.nsi_dir
        if nsi_dir is None:
            return finding_text("skip.no_nsi_dir")
        if not nsi_dir.is_dir():
            return finding_text("skip.nsi_dir_missing", nsi_dir=nsi_dir)
        return finding_text("skip.nsi_dir_empty", nsi_dir=nsi_dir)

    def run(self, ctx: DocumentContext) -> LayerReport:
        dictionaries = self.dictionaries
        if dictionaries.empty or ctx.root is None:
            report = LayerReport.skipped(
                self.name, self._not_ran_reason() if dictionaries.empty else finding_text("skip.not_xml")
            )
            if dictionaries.errors:
                report.details["load_errors"] = {k: str(v) for k, v in dictionaries.errors.items()}
            return report
        result = NsiChecker(dictionaries, self.check_options).check(ctx.root, document_kind(ctx))
        details = result.details()
        details["loaded"] = dictionaries.loaded_labels()
        details["strict_unknown"] = self.check_options.strict_unknown
        if dictionaries.errors:
            details["load_errors"] = {k: str(v) for k, v in dictionaries.errors.items()}
        failed = any(f.severity == "error" for f in result.findings)
        return LayerReport(self.name, True, not failed, result.findings, details=details)
