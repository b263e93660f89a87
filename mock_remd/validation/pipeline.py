"""The layered СЭМД validation pipeline (xml → kind → header → xsd → schematron → nsi → cross → signatures).

A :class:`Validator` is built once per server (its Runtime) from :class:`ValidationSettings`; it owns
the layers and their prepared material (:class:`~mock_remd.validation.caches.ValidationCaches`:
pack indexes, loaded XSDs, compiled Schematrons, CA bundles) and is safe to call from threads.
The asynchronous leg of ``registerDocument`` and ``mock-remd validate`` both call :meth:`validate`.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from typing import Protocol

from mock_remd.catalog.findings import text as finding_text
from mock_remd.catalog.incidents import ServerFault, record_incident
from mock_remd.domain.model import RegisterRequest
from mock_remd.validation.caches import ValidationCaches
from mock_remd.validation.context import DocumentContext, ValidationSettings
from mock_remd.validation.report import LAYER_ORDER, LAYERS, Finding, LayerReport, ValidationReport

log = logging.getLogger(__name__)



class Layer(Protocol):
    """A validation layer: constructed once with the settings, run once per document."""

    name: str

    def run(self, ctx: DocumentContext) -> LayerReport: ...


def _load(name: str, settings: ValidationSettings) -> Layer:
    module_name, cls_name = LAYERS[name].split(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    return cls(settings)


class Validator:
    """Runs the enabled layers in order and collects every finding of every layer that ran."""

    def __init__(self, settings: ValidationSettings | None = None, caches: ValidationCaches | None = None) -> None:
        self.settings = settings or ValidationSettings()
        #: what the layers prepare once (packs, schemas, CA bundles): this Validator's own
        self.caches = caches or ValidationCaches()
        self._layers: dict[str, Layer] = {}
        self._lock = threading.Lock()
        #: layer -> the last server-side fault it met (our sentence and incident id), for /ready
        self.server_faults: dict[str, str] = {}

    def layer(self, name: str) -> Layer:
        """The layer object for ``name`` (built on first use, then reused)."""
        inst = self._layers.get(name)
        if inst is None:
            with self._lock:
                inst = self._layers.get(name)
                if inst is None:
                    inst = _load(name, self.settings)
                    self._layers[name] = inst
        return inst

    def warm_up(self) -> None:
        """Build every enabled layer now (compile packs, load dictionaries) instead of on first use."""
        for name in LAYER_ORDER:
            if name in self.settings.layers:
                self.layer(name)

    def validate(
        self, content: bytes, request: RegisterRequest | None = None, kind: str = ""
    ) -> ValidationReport:
        """Validate one document; never raises: a layer that fails inside is logged as an incident and marked as not run."""
        ctx = DocumentContext(
            content=content,
            settings=self.settings,
            request=request,
            requested_kind=kind or (request.kind if request else ""),
            caches=self.caches,
        )
        report = ValidationReport(kind=ctx.requested_kind)
        for name in LAYER_ORDER:
            if name not in self.settings.layers:
                report.layers.append(LayerReport.skipped(name, finding_text("skip.disabled"),
                                                        cause="disabled"))
                continue
            if name != "xml" and ctx.root is None and name != "signatures":
                report.layers.append(LayerReport.skipped(name, *_unread_reason(report)))
                continue
            started = time.perf_counter()
            try:
                result = self.layer(name).run(ctx)
                if name in self.server_faults:  # the server's problem went away
                    self.server_faults.pop(name, None)
            except ServerFault as fault:  # the server's problem (e.g. the CA file): /ready shows it
                result = self._internal_error(name, ctx, fault)
            except Exception:  # a bug of ours, not a defect of the document: logged, never shown
                result = self._internal_error(name, ctx)
            result.duration_ms = (time.perf_counter() - started) * 1000 if result.ran else 0.0
            for f in result.findings:
                f.layer = f.layer or name
            report.layers.append(result)
        if ctx.kind is not None:
            report.kind = ctx.kind.id
        report.identity = ctx.scratch.get("identity")
        return report

    def _internal_error(self, name: str, ctx: DocumentContext, fault: ServerFault | None = None) -> LayerReport:
        """The report of a layer that raised: ``ran: false``, reason ``internal error <id>``; with
        ``on_internal_error=reject`` it also carries XML_VALIDATOR_ERROR with the incident id."""
        request = ctx.request
        incident = record_incident(f"validation layer {name}",
                                   local_uid=request.local_uid if request else "", kind=ctx.requested_kind)
        if fault is not None:
            self.server_faults[name] = finding_text("pipeline.server_fault", message=fault.message, incident=incident.id)
        result = LayerReport.skipped(name, incident.reason)
        result.details = {"incident": incident.id}
        if self.settings.on_internal_error == "reject":
            item = incident.validator_error()
            result.passed = False
            result.findings = [Finding(item.code, item.message, layer=name, rule="internal-error")]
        return result


def _unread_reason(report: ValidationReport) -> tuple[str, str]:
    """Why the layers after ``xml`` cannot run: the document is not XML, or XML whose root is not a
    ClinicalDocument (reason, cause)."""
    if any(f.rule == "xml-root" for layer in report.layers for f in layer.findings):
        return finding_text("skip.after_not_cda"), "not_cda"
    return finding_text("skip.not_xml"), "not_xml"
