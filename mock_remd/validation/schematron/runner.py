"""Run a compiled Schematron pack on a document with Saxon and turn its output into findings."""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mock_remd.catalog.findings import FINDINGS
from mock_remd.validation.report import Finding
from mock_remd.validation.schematron import saxon
from mock_remd.validation.schematron.cache import compiled_for
from mock_remd.validation.schematron.compiler import REC, SEP, CompiledSchematron
from mock_remd.validation.schematron.model import normalize_space
from mock_remd.xmlsafe import UnsafeXmlError, strip_bom

CDA_NS = "urn:hl7-org:v3"
#: the official validator removes exactly this declaration (and the white space before it) before
#: running the schematron; searched from its literal start (a leading ``\s`` made ``re`` try every byte)
_DEFAULT_NS = re.compile(rb"""xmlns\s*=\s*(["'])urn:hl7-org:v3\1""")
_QNAME = re.compile(r"Q\{([^}]*)\}")
#: "У1-15. …", "Main05-1. …", "(Требование: У1-3) …", "У1-4.1.1.1: …"
_RULE_ID = re.compile(r"^\s*\(?\s*(?:Требование:\s*)?([A-Za-zА-Яа-яЁё]+[0-9]+(?:[-.][0-9]+)*)(?=[\s.:)]|$)")
#: one failed assert or report (catalog/findings.py), bound once
_FINDING = FINDINGS["schematron.finding"].format



class SchematronRunError(RuntimeError):
    """Saxon could not run the compiled pack on this document (a dynamic XPath error, bad input)."""


@dataclass
class SchematronResult:
    """Findings of one run plus how many (rule, node) pairs fired, per rule index."""

    findings: list[Finding] = field(default_factory=list)
    rule_counts: dict[int, int] = field(default_factory=dict)

    @property
    def fired(self) -> int:
        return sum(self.rule_counts.values())


def strip_default_namespace(content: bytes) -> str:
    """The document as text, without ``xmlns="urn:hl7-org:v3"`` (as the official validator does)."""
    data = strip_bom(content)
    parts: list[bytes] = []
    last = 0
    for m in _DEFAULT_NS.finditer(data):
        start = m.start()
        if start > last and data[start - 1 : start].isspace():
            parts.append(data[last : start - 1])
            last = m.end()
    if not parts:
        return data.decode("utf-8")
    parts.append(data[last:])
    return b"".join(parts).decode("utf-8")


def rule_id(text: str) -> str:
    """The requirement id an assert text starts with (``У1-15``, ``Main05-1``), or ``""``."""
    m = _RULE_ID.match(text)
    return m.group(1) if m else ""


class SchematronValidator:
    """A compiled pack, runnable from any thread and in forked children.

    The XSLT text is compiled by Saxon once per process (lazily, under the Saxon lock).
    """

    def __init__(
        self, compiled: CompiledSchematron, *, key: str = "", source: str = "", label: str = ""
    ) -> None:
        self.compiled = compiled
        self.key = key
        self.source = source
        self.label = label
        self._executable: tuple[int, Any] | None = None
        self._prefix_of = {uri: prefix for prefix, uri in compiled.namespaces.items() if prefix}

    def executable(self) -> Any:
        """This process's Saxon executable for the pack (compiled on first use)."""
        pid = os.getpid()
        held = self._executable
        if held is not None and held[0] == pid:
            return held[1]
        with saxon.saxon_lock():
            held = self._executable
            if held is not None and held[0] == pid:
                return held[1]
            exe = saxon.xslt_compiler().compile_stylesheet(stylesheet_text=self.compiled.xslt)
            if exe is None:
                raise SchematronRunError(f"Saxon could not compile the schematron {self.label}")
            self._executable = (pid, exe)
            return exe

    def run_raw(self, content: bytes) -> str:
        """Saxon's text output for the document (see the compiler's output protocol)."""
        if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
            raise UnsafeXmlError("DOCTYPE/ENTITY declarations are not allowed")
        text = strip_default_namespace(content)
        exe = self.executable()
        with saxon.saxon_lock():
            try:
                node = saxon.processor().parse_xml(xml_text=text)
                out = exe.transform_to_string(xdm_node=node)
            except Exception as exc:  # PySaxonApiError and friends: Saxon's words stay in the chained cause (the log)
                raise SchematronRunError(f"Saxon could not run the schematron {self.label}") from exc
        return out or ""

    def failures(self, content: bytes) -> list[tuple[int, str]]:
        """(check index, Saxon ``path()`` of the context node) of every failed assert / fired report,
        in the schema's check order."""
        out = []
        for record in self.run_raw(content).split(REC)[1:]:
            fields = record.split(SEP)
            if fields[0] == "F":
                out.append((int(fields[1]), fields[2]))
        out.sort(key=lambda f: f[0])
        return out

    def validate(self, content: bytes) -> SchematronResult:
        """Run the pack on ``content`` (namespaced CDA bytes); findings sorted by the schema's check order."""
        result = SchematronResult()
        fired: list[tuple[int, str, str]] = []
        for record in self.run_raw(content).split(REC)[1:]:
            fields = record.split(SEP)
            if fields[0] == "C":
                idx = int(fields[1])
                result.rule_counts[idx] = result.rule_counts.get(idx, 0) + int(fields[2])
            elif fields[0] == "F":
                fired.append((int(fields[1]), fields[2], SEP.join(fields[3:])))
        fired.sort(key=lambda f: f[0])  # stable: document order is kept within one check
        for index, location, dynamic in fired:
            kind, static, check_id = self.compiled.checks[index]
            text = static if static is not None else normalize_space(dynamic)
            path = self.location(location)
            body = text if text.endswith(".") else text + "."
            result.findings.append(
                Finding(
                    code="VALIDATION_ERROR",
                    message=_FINDING(text=body, path=path),
                    rule=str(check_id or rule_id(text) or ("schematron-" + str(kind))),
                    path=path,
                )
            )
        return result

    def location(self, path: str) -> str:
        """``/Q{}ClinicalDocument[1]/Q{urn:hl7-ru:address}Type[1]`` → ``/ClinicalDocument[1]/address:Type[1]``."""

        def repl(m: re.Match[str]) -> str:
            uri = m.group(1)
            if not uri:
                return ""
            prefix = self._prefix_of.get(uri)
            return f"{prefix}:" if prefix else m.group(0)

        return _QNAME.sub(repl, path)


#: process-wide on purpose: the Saxon executables of the one processor of this process (saxon.py),
#: keyed by the Schematron's content hash and mode, so they are right for every server; which file a
#: server reads, and when it changed, is its own ValidationCaches' business
_validators: dict[tuple[str, str], SchematronValidator] = {}
_registry_lock = threading.Lock()


def get_validator(
    sch_path: Path, mode: str = "optimised", cache_dir: Path | None = None
) -> SchematronValidator:
    """The validator for a ``.sch`` file's content, compiled once per process by the one Saxon processor
    (a Validator keeps the one for each of its files in its :class:`~mock_remd.validation.caches.ValidationCaches`)."""
    data = sch_path.read_bytes()
    compiled, key, source = compiled_for(data, mode, cache_dir)
    with _registry_lock:
        found = _validators.get((key, mode))
        if found is None:
            found = SchematronValidator(compiled, key=key, source=source, label=str(sch_path))
            _validators[(key, mode)] = found
        return found


_STEP = re.compile(r"^(?:([A-Za-z_][\w.\-]*):)?([A-Za-z_][\w.\-]*)\[(\d+)\]$")


def locate_line(root: Any, path: str, namespaces: dict[str, str]) -> int | None:
    """Source line of the element a finding's location points at, in the namespaced lxml tree.

    Unprefixed steps are CDA elements (their default namespace was removed for the run); an
    attribute step ends the walk at its element. None when the path cannot be followed.
    """
    if root is None or not path.startswith("/"):
        return None
    node = None
    for step in path.strip("/").split("/"):
        if step.startswith("@"):
            break
        m = _STEP.match(step)
        if m is None:
            return None
        prefix, local, index = m.group(1), m.group(2), int(m.group(3))
        uris = [namespaces.get(prefix, "")] if prefix else [CDA_NS, ""]
        tags = {f"{{{u}}}{local}" if u else local for u in uris}
        candidates = [root] if node is None else [c for c in node if c.tag in tags]
        if node is None and root.tag not in tags:
            return None
        if index > len(candidates):
            return None
        node = candidates[index - 1]
    return getattr(node, "sourceline", None)
