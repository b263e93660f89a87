"""The dictionary check itself: every coded element of a CDA tree against the loaded dictionaries.

A coded element is any element in the CDA or ``urn:hl7-ru:*`` namespaces with ``@codeSystem`` and
``@code`` (``code``, ``value xsi:type="CD"``, ``translation``, ``identity:*Type``, ``address:stateCode``,
``medService:*`` …). Only loaded dictionaries are checked; an NSI-looking OID that is not loaded is
skipped (and said so) unless ``strict_unknown`` asks for ``INVALID_DICTIONARY_OID``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from mock_remd.catalog import errors
from mock_remd.catalog.findings import FINDINGS
from mock_remd.catalog.findings import text as finding_text
from mock_remd.validation.nsi.model import Dictionary, normalize_name
from mock_remd.validation.nsi.store import DictionarySet
from mock_remd.validation.report import Finding

#: OID prefixes of FNSI dictionaries (ФНСИ Минздрава): only these can be "missing" in strict mode
NSI_OID_PREFIXES = ("1.2.643.5.1.13.13.11.", "1.2.643.5.1.13.13.99.2.")
HL7_NS = "urn:hl7-org:v3"

#: why an OID was not checked: said for every coded element of such an OID, so bound once
_SKIPPED_BY_OVERRIDE = FINDINGS["nsi.skipped_by_override"]
_NOT_LOADED = FINDINGS["nsi.not_loaded"]
_NOT_FNSI = FINDINGS["nsi.not_fnsi"]

RU_NS_PREFIX = "urn:hl7-ru:"


@dataclass(frozen=True)
class CheckOptions:
    """Knobs of the check (``settings.options["nsi"]``)."""

    #: report NSI-looking OIDs that are not loaded as INVALID_DICTIONARY_OID
    strict_unknown: bool = False
    #: compare @displayName with the NSI name
    check_display_name: bool = True
    #: compare @codeSystemName with the dictionary's full name
    check_code_system_name: bool = True
    #: a version that is not loaded: "error" (INVALID_DICTIONARY_VERSION) or "latest" (check the value
    #: against the highest loaded version instead, for exports that lag behind the documents)
    unknown_version: str = "error"

    @classmethod
    def from_options(cls, options: dict[str, Any] | None) -> CheckOptions:
        """Build from a plain mapping; unknown keys are ignored, strings like "true"/"1" accepted."""
        options = options or {}

        def flag(name: str, default: bool) -> bool:
            value = options.get(name, default)
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)

        return cls(
            strict_unknown=flag("strict_unknown", False),
            check_display_name=flag("check_display_name", True),
            check_code_system_name=flag("check_code_system_name", True),
            unknown_version="latest" if str(options.get("unknown_version", "error")).lower() == "latest" else "error",
        )


def _message(error_code: str, /, **values: str) -> str:
    """The catalogue template of ``code`` filled with ``values`` (``errors.message`` cannot take ``code=``)."""
    return errors.TEMPLATES[error_code].format(**values)


def looks_like_nsi(oid: str) -> bool:
    """True for OIDs of the FNSI dictionary branches (1.2.643.5.1.13.13.11.*, 1.2.643.5.1.13.13.99.2.*)."""
    return oid.startswith(NSI_OID_PREFIXES)


_CDA_TAG = "{" + HL7_NS + "}"
_RU_TAG = "{" + RU_NS_PREFIX


def _in_cda_namespace(el: etree._Element) -> bool:
    tag = el.tag
    return isinstance(tag, str) and (tag.startswith(_CDA_TAG) or tag.startswith(_RU_TAG))


#: the candidates, found by libxml2 in document order (``root`` included); compiled once
_CODED = etree.XPath("descendant-or-self::*[@codeSystem and @code]")


def coded_elements(root: etree._Element) -> Iterator[etree._Element]:
    """Elements of the CDA namespaces that carry both ``@codeSystem`` and ``@code``."""
    for el in _CODED(root):
        if _in_cda_namespace(el):
            yield el


def element_path(el: etree._Element) -> str:
    """XPath of ``el`` as the registry writes it: ``/ClinicalDocument[1]/recordTarget[1]/address:Type[1]``."""
    steps: list[str] = []
    cur: etree._Element | None = el
    while cur is not None:
        q = etree.QName(cur)
        ns = q.namespace or ""
        label = q.localname
        if ns.startswith(RU_NS_PREFIX):
            label = f"{ns[len(RU_NS_PREFIX):]}:{q.localname}"
        parent = cur.getparent()
        index = 1 if parent is None else 1 + sum(1 for s in cur.itersiblings(preceding=True) if s.tag == cur.tag)
        steps.append(f"{label}[{index}]")
        cur = parent
    return "/" + "/".join(reversed(steps))


@dataclass
class CheckResult:
    """Findings plus what was checked and what was skipped (for ``LayerReport.details``)."""

    findings: list[Finding] = field(default_factory=list)
    elements: int = 0
    checked: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    #: OID -> {version asked: version used} when ``unknown_version`` is "latest"
    fallbacks: dict[str, dict[str, str]] = field(default_factory=dict)

    def details(self) -> dict[str, Any]:
        return {
            "coded_elements": self.elements,
            "checked": {oid: dict(v) for oid, v in sorted(self.checked.items())},
            "skipped": dict(sorted(self.skipped.items())),
            "version_fallbacks": dict(sorted(self.fallbacks.items())),
        }


class NsiChecker:
    """Checks coded elements against a :class:`DictionarySet` (immutable; safe to share between threads)."""

    def __init__(self, dictionaries: DictionarySet, options: CheckOptions | None = None) -> None:
        self.dictionaries = dictionaries
        self.options = options or CheckOptions()

    def check(self, root: etree._Element, kind: str = "") -> CheckResult:
        """Check every coded element under ``root``; ``kind`` goes into version messages."""
        result = CheckResult()
        reported: set[tuple[str, str, str]] = set()
        for el in coded_elements(root):
            result.elements += 1
            self._check_element(el, kind, result, reported)
        return result

    def _finding(self, code: str, message: str, rule: str, el: etree._Element) -> Finding:
        return Finding(code, message, layer="nsi", rule=rule, path=element_path(el), line=el.sourceline)

    def _check_element(
        self, el: etree._Element, kind: str, result: CheckResult, reported: set[tuple[str, str, str]]
    ) -> None:
        oid = (el.get("codeSystem") or "").strip()
        version = (el.get("codeSystemVersion") or "").strip()
        code = (el.get("code") or "").strip()
        override = self.dictionaries.overrides.get(oid, {})
        if override.get("skip"):
            result.skipped[oid] = _SKIPPED_BY_OVERRIDE
            return
        versions = self.dictionaries.versions(oid)
        if not versions:
            if looks_like_nsi(oid) and self.options.strict_unknown:
                if ("oid", oid, "") not in reported:
                    reported.add(("oid", oid, ""))
                    msg = _message("INVALID_DICTIONARY_OID", oid=oid)
                    result.findings.append(self._finding("INVALID_DICTIONARY_OID", msg, "nsi-dictionary-oid", el))
            else:
                reason = _NOT_LOADED if looks_like_nsi(oid) else _NOT_FNSI
                result.skipped.setdefault(oid, reason)
            return
        stats = result.checked.setdefault(oid, {})
        stats[version] = stats.get(version, 0) + 1
        dictionary = self.dictionaries.get(oid, version)
        if dictionary is None and self.options.unknown_version == "latest":
            dictionary = self.dictionaries.latest(oid)
            if dictionary is not None:
                result.fallbacks.setdefault(oid, {})[version] = dictionary.version
        if dictionary is None:
            if ("version", oid, version) not in reported:
                reported.add(("version", oid, version))
                msg = _message("INVALID_DICTIONARY_VERSION", oid=oid, version=version, kind=kind)
                msg = finding_text("nsi.required_versions", message=msg, versions=", ".join(versions))
                result.findings.append(self._finding("INVALID_DICTIONARY_VERSION", msg, "nsi-version", el))
            return
        self._check_value(el, dictionary, code, result)

    def _check_value(self, el: etree._Element, d: Dictionary, code: str, result: CheckResult) -> None:
        expected = d.name_of(code)
        if expected is None:
            msg = _message("INVALID_ELEMENT_VALUE_CODE", oid=d.oid, version=d.version, code=code)
            result.findings.append(self._finding("INVALID_ELEMENT_VALUE_CODE", msg, "nsi-code", el))
            return
        display = el.get("displayName")
        if (
            self.options.check_display_name
            and display is not None
            and expected
            and not d.options.get("skip_display_name")
            and display != expected  # the usual case, spared two normalisations
            and normalize_name(display) != normalize_name(expected)
        ):
            msg = _message(
                "INVALID_ELEMENT_VALUE_NAME", oid=d.oid, version=d.version, name=display, expected=expected
            )
            result.findings.append(self._finding("INVALID_ELEMENT_VALUE_NAME", msg, "nsi-display-name", el))
        system_name = el.get("codeSystemName")
        full_name = d.full_name or str(d.options.get("full_name") or "")
        if (
            self.options.check_code_system_name
            and system_name is not None
            and full_name
            and system_name != full_name
            and normalize_name(system_name) != normalize_name(full_name)
        ):
            msg = finding_text(
                "nsi.code_system_name", oid=d.oid, version=d.version, name=system_name, expected=full_name
            )
            result.findings.append(self._finding("VALIDATION_ERROR", msg, "nsi-code-system-name", el))
