"""Validation results: findings, per-layer reports and the whole report."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

#: The validation layers in the order they run (CONTRACT §8): name -> "module:Class" implementing it.
#: The one table to extend with a new layer (the class is imported when a validator is built).
LAYERS: dict[str, str] = {
    "xml": "mock_remd.validation.layers.xml_layer:XmlLayer",
    "kind": "mock_remd.validation.layers.kind_layer:KindLayer",
    "header": "mock_remd.validation.layers.header_layer:HeaderLayer",
    "xsd": "mock_remd.validation.layers.xsd_layer:XsdLayer",
    "schematron": "mock_remd.validation.layers.schematron_layer:SchematronLayer",
    "nsi": "mock_remd.validation.layers.nsi_layer:NsiLayer",
    "cross": "mock_remd.validation.layers.cross_layer:CrossLayer",
    "signatures": "mock_remd.validation.layers.signatures_layer:SignaturesLayer",
}
#: Layer names in the order they run.
LAYER_ORDER: tuple[str, ...] = tuple(LAYERS)
#: Layers whose silence cannot be taken for a pass: the registry always runs them. A document they
#: did not check (for a reason other than the user turning them off) is PARTIAL, not VALID.
DECIDING_LAYERS: tuple[str, ...] = ("xsd", "schematron", "nsi")

#: why a layer did not run, recognised from the reason the layer gave (when it set no cause itself)
_CAUSES: tuple[tuple[str, str], ...] = (
    ("MOCK_REMD_VALIDATION", "disabled"),
    ("не разобран как XML", "not_xml"),
    ("не ClinicalDocument", "not_cda"),
    ("пакетов не задан", "no_packs"),
    ("вид СЭМД не определён", "kind_unknown"),
    ("нет XSD-схемы", "no_pack_for_kind"),
    ("нет схематрона", "no_pack_for_kind"),
    ("справочники НСИ не загружены", "no_nsi"),
    ("проверка подписей отключена", "signatures_off"),
    ("без запроса", "no_request"),
    ("нет запроса", "no_request"),
)


@dataclass
class Finding:
    """One problem found in a document, shaped like a registry ``errors/item`` plus detail."""

    code: str
    message: str
    layer: str = ""
    rule: str = ""
    path: str = ""
    line: int | None = None
    severity: str = "error"  # error | warning

    def as_dict(self) -> dict[str, Any]:
        """What ``dataclasses.asdict`` gives (every field is a str, an int or None), without its deep copy."""
        return {"code": self.code, "message": self.message, "layer": self.layer, "rule": self.rule,
                "path": self.path, "line": self.line, "severity": self.severity}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """A finding stored with :meth:`as_dict` (unknown keys ignored)."""
        line = data.get("line")
        return cls(code=str(data.get("code") or ""), message=str(data.get("message") or ""),
                   layer=str(data.get("layer") or ""), rule=str(data.get("rule") or ""),
                   path=str(data.get("path") or ""), line=int(line) if isinstance(line, int) else None,
                   severity=str(data.get("severity") or "error"))


@dataclass
class LayerReport:
    """What one layer did: ``ran`` false means it could not run (``reason`` says why)."""

    name: str
    ran: bool
    passed: bool
    findings: list[Finding] = field(default_factory=list)
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    duration_ms: float = 0.0
    #: why it did not run, as a code (``no_packs``, ``kind_unknown``, ``no_nsi``, ``disabled`` …)
    cause: str = ""

    @classmethod
    def skipped(cls, name: str, reason: str, cause: str = "") -> LayerReport:
        """A layer that did not run: nothing was found, it says why (``cause`` as a code when known)."""
        return cls(name=name, ran=False, passed=True, reason=reason, cause=cause or skip_cause(reason))

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ran": self.ran,
            "passed": self.passed,
            "findings": [f.as_dict() for f in self.findings],
            "reason": self.reason,
            "details": self.details,
            "duration_ms": round(self.duration_ms, 3) if self.duration_ms else 0.0,  # a layer that did not run: 0.0 without round()
            "cause": self.cause,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LayerReport:
        """A layer stored with :meth:`as_dict` (a document's stored layers)."""
        return cls(name=str(data.get("name") or ""), ran=bool(data.get("ran")), passed=bool(data.get("passed")),
                   findings=[Finding.from_dict(f) for f in data.get("findings") or [] if isinstance(f, dict)],
                   reason=str(data.get("reason") or ""), details=dict(data.get("details") or {}),
                   duration_ms=float(data.get("duration_ms") or 0.0), cause=str(data.get("cause") or ""))


@dataclass
class ValidationReport:
    """All layers of one validation run."""

    kind: str = ""
    layers: list[LayerReport] = field(default_factory=list)
    #: the version facts (a DocumentIdentity) the cross layer read from the parsed document, None when
    #: it read none; not part of the report's dict (the processor reuses it instead of parsing again)
    identity: Any = field(default=None, repr=False, compare=False)

    @property
    def valid(self) -> bool:
        return all(f.severity != "error" for layer in self.layers for f in layer.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for layer in self.layers for f in layer.findings if f.severity == "error"]

    def not_run(self) -> list[LayerReport]:
        """Deciding layers that did not check the document although the user did not turn them off."""
        return [lr for lr in self.layers
                if lr.name in DECIDING_LAYERS and not lr.ran and (lr.cause or skip_cause(lr.reason)) != "disabled"]

    @property
    def partial(self) -> bool:
        """No errors found, but a deciding layer did not run: the document is not known to be valid."""
        return self.valid and bool(self.not_run())

    def merged_errors(self) -> list[tuple[Finding, list[Finding]]]:
        """Each error once: (finding, the same defect found by other layers at the same place).

        The project's ``kind``/``header`` rules and the official Schematron may report one defect;
        the Schematron finding is kept and the others are listed as its second sources.
        """
        errors = self.errors
        official = {f.path: f for f in errors if f.layer == "schematron" and f.path}
        also: dict[int, list[Finding]] = {}
        merged: list[tuple[Finding, list[Finding]]] = []
        for f in errors:
            twin = official.get(f.path) if f.layer in ("kind", "header") and f.path else None
            if twin is not None:
                also.setdefault(id(twin), []).append(f)
                continue
            merged.append((f, also.setdefault(id(f), [])))
        return merged

    def layers_once(self) -> list[tuple[LayerReport, list[tuple[Finding, list[Finding]]]]]:
        """Each layer with the findings to show under it, each once: a defect :meth:`merged_errors` gives to the
        Schematron is shown there with its other sources, and left out under the layer that also found it."""
        merged = self.merged_errors()
        sources = {id(f): also for f, also in merged}
        elsewhere = {id(a) for _f, also in merged for a in also}
        return [(lr, [(f, sources.get(id(f), [])) for f in lr.findings if id(f) not in elsewhere]) for lr in self.layers]

    @classmethod
    def from_dicts(cls, layers: list[dict[str, Any]], kind: str = "") -> ValidationReport:
        """A report from stored layers (:meth:`LayerReport.as_dict` each, as a document keeps them)."""
        return cls(kind=kind, layers=[LayerReport.from_dict(lr) for lr in layers or [] if isinstance(lr, dict)])

    def answer_errors(self) -> list[Finding]:
        """The errors the registry would answer with.

        The project's own ``kind`` and ``header`` rules stand in for kinds without an official pack;
        where the official Schematron ran and reported a problem at the same place, the registry's
        answer carries the Schematron text only (every finding stays in :attr:`layers`).
        """
        sch = self.layer("schematron")
        taken = {f.path for f in sch.findings if f.path} if sch is not None and sch.ran else set()
        return [f for f in self.errors if not (f.layer in ("kind", "header") and f.path in taken)]

    def layer(self, name: str) -> LayerReport | None:
        return next((lr for lr in self.layers if lr.name == name), None)

    def as_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "kind": self.kind, "layers": [lr.as_dict() for lr in self.layers]}


def also_sources(also: list[Finding]) -> str:
    """The other layers (and their rules) that found the same defect: ``header (Main05-1)``."""
    return ", ".join(sorted({a.layer + (f" ({a.rule})" if a.rule else "") for a in also}))


@functools.lru_cache(maxsize=256)  # the layers' own few reasons: each is looked up once
def skip_cause(reason: str) -> str:
    """The cause code of a skipped layer's ``reason`` (empty when not recognised)."""
    return next((cause for needle, cause in _CAUSES if needle in (reason or "")), "")
