"""Rendering a :class:`~mock_remd.validation.report.ValidationReport` for ``mock-remd validate``: text, JSON, JUnit."""

from __future__ import annotations

import json
import re
from typing import Any

from lxml import etree

from mock_remd.validation.report import Finding, LayerReport, ValidationReport

FORMATS = ("text", "json", "junit")
_XML_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "code": f.code,
        "message": f.message,
        "layer": f.layer,
        "path": f.path,
        "rule": f.rule,
        "line": f.line,
        "severity": f.severity,
    }


def to_json(report: ValidationReport, source: str = "") -> str:
    """The CONTRACT §8 JSON: ``valid``, ``kind``, ``layers`` [{name, ran, passed, …}], ``errors`` [{code, message, layer, path, …}]."""
    data = {
        "valid": report.valid,
        "kind": report.kind,
        "file": source,
        "layers": [
            {
                "name": lr.name,
                "ran": lr.ran,
                "passed": lr.passed,
                "reason": lr.reason,
                "findings": [_finding_dict(f) for f in lr.findings],
                "details": lr.details,
                "duration_ms": round(lr.duration_ms, 3),
            }
            for lr in report.layers
        ],
        "errors": [_finding_dict(f) for f in report.errors],
        "warnings": [_finding_dict(f) for lr in report.layers for f in lr.findings if f.severity != "error"],
    }
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def _status(lr: LayerReport) -> str:
    if not lr.ran:
        return "skipped"
    return "ok" if lr.passed else "FAILED"


def _where(f: Finding) -> str:
    parts = []
    if f.rule:
        parts.append(f"rule {f.rule}")
    if f.line:
        parts.append(f"line {f.line}")
    if f.path:
        parts.append(f"path {f.path}")
    return " · ".join(parts)


def to_text(report: ValidationReport, source: str = "") -> str:
    """A readable report: a summary line, then one block per layer with its findings."""
    errors = len(report.errors)
    verdict = "VALID" if report.valid else f"INVALID ({errors} error{'s' if errors != 1 else ''})"
    kind = f"kind {report.kind}" if report.kind else "kind unknown"
    lines = [f"{source or 'document'}: {verdict}, {kind}", ""]
    for lr in report.layers:
        head = f"[{_status(lr):>7}] {lr.name}"
        if not lr.ran:
            head += f" — {lr.reason}" if lr.reason else ""
        elif lr.findings:
            head += f" — {len(lr.findings)} finding{'s' if len(lr.findings) != 1 else ''}"
        lines.append(head)
        for f in lr.findings:
            mark = "" if f.severity == "error" else f" ({f.severity})"
            lines.append(f"    {f.code}{mark}: {f.message}")
            where = _where(f)
            if where:
                lines.append(f"        {where}")
    return "\n".join(lines)


def _clean(text: str) -> str:
    return _XML_BAD_CHARS.sub("\ufffd", text)


def to_junit(report: ValidationReport, source: str = "") -> str:
    """JUnit XML: one testsuite, one testcase per layer (skipped when not run, failure listing findings)."""
    suites = etree.Element("testsuites")
    failures = sum(1 for lr in report.layers if lr.ran and not lr.passed)
    skipped = sum(1 for lr in report.layers if not lr.ran)
    total_time = sum(lr.duration_ms for lr in report.layers) / 1000
    suite = etree.SubElement(
        suites,
        "testsuite",
        name=_clean(f"mock-remd validate {source}".strip()),
        tests=str(len(report.layers)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
        time=f"{total_time:.3f}",
    )
    suites.set("tests", str(len(report.layers)))
    suites.set("failures", str(failures))
    props = etree.SubElement(suite, "properties")
    for name, value in (("file", source), ("kind", report.kind), ("valid", str(report.valid).lower())):
        etree.SubElement(props, "property", name=name, value=_clean(value))
    for lr in report.layers:
        case = etree.SubElement(
            suite, "testcase", classname="mock-remd.validate", name=lr.name, time=f"{lr.duration_ms / 1000:.3f}"
        )
        errors = [f for f in lr.findings if f.severity == "error"]
        others = [f for f in lr.findings if f.severity != "error"]
        if not lr.ran:
            etree.SubElement(case, "skipped", message=_clean(lr.reason or "not run"))
        elif errors or not lr.passed:
            first = errors[0] if errors else None
            failure = etree.SubElement(
                case,
                "failure",
                message=_clean(f"{len(errors)} finding(s)" + (f": {first.code}: {first.message}" if first else "")),
                type=first.code if first else "FAILED",
            )
            failure.text = _clean("\n".join(_block(f) for f in errors))
        if others:
            out = etree.SubElement(case, "system-out")
            out.text = _clean("\n".join(_block(f) for f in others))
    return etree.tostring(suites, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")


def _block(f: Finding) -> str:
    where = _where(f)
    return f"{f.code}: {f.message}" + (f"\n    {where}" if where else "")


def render(report: ValidationReport, fmt: str, source: str = "") -> str:
    """The report in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "json":
        return to_json(report, source)
    if fmt == "junit":
        return to_junit(report, source)
    return to_text(report, source)
