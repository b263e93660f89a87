"""Validation results: findings, per-layer reports and the whole report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Layer names in the order they run (CONTRACT §8).
LAYER_ORDER: tuple[str, ...] = ("xml", "kind", "header", "xsd", "schematron", "nsi", "cross", "signatures")


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
        return asdict(self)


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

    @classmethod
    def skipped(cls, name: str, reason: str) -> LayerReport:
        """A layer that did not run: counts as passed (nothing was found), says why."""
        return cls(name=name, ran=False, passed=True, reason=reason)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ran": self.ran,
            "passed": self.passed,
            "findings": [f.as_dict() for f in self.findings],
            "reason": self.reason,
            "details": self.details,
            "duration_ms": round(self.duration_ms, 3),
        }


@dataclass
class ValidationReport:
    """All layers of one validation run."""

    kind: str = ""
    layers: list[LayerReport] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return all(f.severity != "error" for layer in self.layers for f in layer.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for layer in self.layers for f in layer.findings if f.severity == "error"]

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
