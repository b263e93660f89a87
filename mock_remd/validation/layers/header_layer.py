"""Layer ``header``: the header rules every modern СЭМД shares (realmCode … legalAuthenticator).

Runs for every kind, with or without an official rule pack; the rules themselves live in
:mod:`mock_remd.validation.cda.header_rules`. Which header parts must be present follows the kind's
official pack (installed, else the published set, else only what CDA R2 requires); the report's
details say which source decided and which parts it requires.

Where the kind's pack is installed and the ``schematron`` layer runs it, the pack is the authority on
the shape of each header part: the header layer then reports only what the pack requires to be
present (the same requirement, read from the pack) and the rules with a source of their own (the
SNILS check digit, from the registry's answer texts), so a document the pack accepts is not refused
by our copy of its rules. The rules left to the pack are named in the details.
"""

from __future__ import annotations

import functools

from mock_remd.catalog.findings import text as finding_text
from mock_remd.validation.cda.access import NOT_CDA_REASON, is_cda_root
from mock_remd.validation.cda.header_rules import check_header
from mock_remd.validation.cda.pack_requirements import requirements_for
from mock_remd.validation.context import DocumentContext, ValidationSettings
from mock_remd.validation.layers.kind_layer import identify_kind
from mock_remd.validation.layers.xsd_layer import kind_of
from mock_remd.validation.report import Finding, LayerReport

#: where a missing ClinicalDocument part is reported (the presence rules read from the kind's pack)
_DOCUMENT_PATH = "/ClinicalDocument[1]"
#: the registry's own refusal of a SNILS with a wrong check digit (remd-error-messages.tsv)
_CHECKSUM_WORDS = "контрольным числом СНИЛС"


def own_source(finding: Finding) -> bool:
    """A finding that stands even where the kind's pack runs: a required part missing (read from the
    pack itself) or a SNILS check digit (the registry's own refusal)."""
    return finding.path == _DOCUMENT_PATH or _CHECKSUM_WORDS in finding.message


@functools.lru_cache(maxsize=256)  # a few requirement sets (one per kind and pack edition)
def _sorted_parts(required: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(required))


class HeaderLayer:
    """Check the CDA header; each broken rule is one ``VALIDATION_ERROR`` finding with path and line."""

    name = "header"

    def __init__(self, settings: ValidationSettings) -> None:
        self.settings = settings

    def run(self, ctx: DocumentContext) -> LayerReport:
        """Validate ``ctx.root``'s header."""
        if ctx.root is None:
            return LayerReport.skipped(self.name, finding_text("skip.not_xml"))
        if not is_cda_root(ctx.root):
            return LayerReport.skipped(self.name, NOT_CDA_REASON)
        kind = kind_of(ctx)
        if not kind:
            declared = identify_kind(ctx.header(), ctx.kinds(), by_type=False).kind
            kind = declared.id if declared is not None else ""
        requires = requirements_for(kind, ctx.settings.packs_dir, ctx.template_roots(), ctx.caches.installed_requirements)
        findings = check_header(ctx.root, requires, ctx.child_index())
        details = {
            "kind": kind,
            "required_by": requires.source,
            "required": list(_sorted_parts(requires.required)),
            "ministry_recipient": requires.ministry_recipient,
        }
        if requires.installed and "schematron" in ctx.settings.layers:
            left = sorted({f.rule for f in findings if not own_source(f)})
            findings = [f for f in findings if own_source(f)]
            details["left_to_pack"] = left
        return LayerReport(self.name, True, not findings, findings, details=details)
