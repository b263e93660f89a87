"""Rendering a :class:`~mock_remd.validation.report.ValidationReport` for ``mock-remd validate``: text, JSON, JUnit."""

from __future__ import annotations

import json
import re
from typing import Any

from lxml import etree

from mock_remd.catalog.user_messages import MESSAGES, count, say, skip_reason
from mock_remd.validation.report import Finding, LayerReport, ValidationReport, also_sources

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


def verdict(report: ValidationReport) -> str:
    """VALID, INVALID or PARTIAL (no errors, but a deciding layer did not run)."""
    if not report.valid:
        return "INVALID"
    return "PARTIAL" if report.partial else "VALID"


def not_run_text(report: ValidationReport, lang: str) -> str:
    """``not run: xsd, schematron (why — how to fix); nsi (…)`` for the deciding layers that did not run."""
    groups: dict[str, list[str]] = {}
    for lr in report.not_run():
        groups.setdefault(skip_reason(lang, lr.cause, lr.reason), []).append(lr.name)
    items = "; ".join(f"{', '.join(names)} ({why})" for why, names in groups.items())
    return say(lang, "verdict.not_run", items=items) if items else ""


def to_json(report: ValidationReport, source: str = "", lang: str = "ru") -> str:
    """The CONTRACT §8 JSON: ``valid``, ``kind``, ``layers`` [{name, ran, passed, …}], ``errors`` [{code, message, layer, path, …}].

    ``valid`` is true only when every deciding layer ran; ``verdict`` says VALID, INVALID or PARTIAL and
    ``not_run`` lists the deciding layers that did not run with the reason and the fix.
    """
    merged = report.merged_errors()
    data = {
        "valid": report.valid and not report.partial,
        "verdict": verdict(report),
        "not_run": [{"layer": lr.name, "cause": lr.cause, "reason": skip_reason(lang, lr.cause, lr.reason)}
                    for lr in report.not_run()],
        "kind": report.kind,
        "file": source,
        "layers": [
            {
                "name": lr.name,
                "ran": lr.ran,
                "passed": lr.passed,
                "reason": skip_reason(lang, lr.cause, lr.reason) if not lr.ran else lr.reason,
                "findings": [_finding_dict(f) for f in lr.findings],
                "details": lr.details,
                "duration_ms": round(lr.duration_ms, 3),
            }
            for lr in report.layers
        ],
        "errors": [{**_finding_dict(f), "also": [_finding_dict(a) for a in also]} for f, also in merged],
        "warnings": [_finding_dict(f) for lr in report.layers for f in lr.findings if f.severity != "error"],
    }
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


_STATUS_KEYS = ("report.ok", "report.failed", "report.skipped")


def _status(lr: LayerReport, lang: str) -> str:
    """``[     ok]`` / ``[пропущен]``…: the layer's status, padded to the widest status of ``lang``."""
    key = "report.skipped" if not lr.ran else "report.ok" if lr.passed else "report.failed"
    width = max(len(say(lang, k)) for k in _STATUS_KEYS)
    return f"[{say(lang, key):>{width}}]"


def _where(f: Finding, lang: str = "en") -> str:
    parts = []
    if f.rule:
        parts.append(say(lang, "report.rule", value=f.rule))
    if f.line:
        parts.append(say(lang, "report.line", value=f.line))
    if f.path:
        parts.append(say(lang, "report.path", value=f.path))
    return " · ".join(parts)


def _severity(lang: str, severity: str) -> str:
    key = f"report.severity.{severity}"
    return say(lang, key) if key in MESSAGES else severity


def head_line(report: ValidationReport, source: str, lang: str) -> str:
    """``FILE: VALID, kind 119`` (``ДЕЙСТВИТЕЛЕН, вид 119`` in Russian), with what did not run when partial."""
    name = verdict(report)
    if name == "INVALID":
        shown = say(lang, "report.invalid", errors=count(lang, "error", len(report.merged_errors())))
    else:
        shown = say(lang, f"report.{name.lower()}")
    kind = say(lang, "report.kind", kind=report.kind) if report.kind else say(lang, "report.kind_unknown")
    line = say(lang, "report.head", source=source or say(lang, "report.document"), verdict=shown, kind=kind)
    if report.partial:
        line += f" — {not_run_text(report, lang)}"
    return line


def to_text(report: ValidationReport, source: str = "", lang: str = "ru") -> str:
    """A readable report in ``lang``: a verdict line (with what did not run), then one block per layer with
    its findings (the findings' own messages are the registry's, in Russian).

    A defect that the project's header/kind rules and the official Schematron both found is shown
    once, under the Schematron, with the other layer named as a second source.
    """
    lines = [head_line(report, source, lang), ""]
    for lr, shown in report.layers_once():
        head = f"{_status(lr, lang)} {lr.name}"
        own = [f for f, _also in shown]
        if not lr.ran:
            head += f" — {skip_reason(lang, lr.cause, lr.reason)}"
        elif lr.findings:
            head += f" — {count(lang, 'finding', len(lr.findings))}"
            if len(own) < len(lr.findings):
                head += f" ({say(lang, 'report.shown_under', count=len(lr.findings) - len(own))})"
        lines.append(head)
        for f, also in shown:
            mark = "" if f.severity == "error" else f" ({_severity(lang, f.severity)})"
            lines.append(f"    {f.code}{mark}: {f.message}")
            where = _where(f, lang)
            if where:
                lines.append(f"        {where}")
            if also:
                lines.append(f"        {say(lang, 'verdict.also', layers=also_sources(also))}")
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
    for name, value in (("file", source), ("kind", report.kind), ("valid", str(report.valid and not report.partial).lower()),
                        ("verdict", verdict(report))):
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


def render(report: ValidationReport, fmt: str, source: str = "", lang: str = "ru") -> str:
    """The report in ``fmt`` (one of :data:`FORMATS`), messages of the tool in ``lang``."""
    if fmt == "json":
        return to_json(report, source, lang)
    if fmt == "junit":
        return to_junit(report, source)
    return to_text(report, source, lang)
