"""Layer ``kind``: which kind (NSI 1520 row) the document is, and whether it may be registered as such.

The document's kind comes from ``templateId/@root`` (all three template generations the registry
knows) or, for 2023+ kinds, from ``code/translation`` in NSI 1520. It is compared with the kind the
request asks for, checked for validity on the creation date and for the CDA format. The layer sets
``ctx.kind``: the document's own kind, or the requested one when the document's cannot be told or
only the requested kind has an installed pack.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mock_remd.catalog import errors
from mock_remd.catalog.findings import text as finding_text
from mock_remd.catalog.kinds import Kind, KindRegistry, KindSnapshot
from mock_remd.validation.cda.access import NOT_CDA_REASON, child, is_cda_root, node_path
from mock_remd.validation.cda.document import NSI_DOC_TYPES, NSI_KINDS, CdaHeader
from mock_remd.validation.cda.timestamps import parse_xs_datetime
from mock_remd.validation.context import DocumentContext, ValidationSettings
from mock_remd.validation.report import Finding, LayerReport


@dataclass(frozen=True)
class KindEvidence:
    """The kind a document declares, and what declared it (``templateId`` or ``code``)."""

    kind: Kind | None
    source: str = ""
    value: str = ""


def current_edition(
    registry: KindRegistry | KindSnapshot,
    type_1522: str,
    today: dt.date | None = None,
    prefer: frozenset[str] = frozenset(),
    created: dt.date | None = None,
) -> Kind | None:
    """The CDA edition of document type ``type_1522`` (NSI 1522) that may be registered ``today``: one
    of ``prefer`` (kinds with an installed pack) if any, then one already in force on the document's
    ``created`` date (an edition that started later would only add a date error), else the newest."""
    today = today or dt.date.today()
    candidates = [k for k in registry.all()
                  if k.type_1522 == type_1522 and k.is_cda and k.valid_on(today) and k.edition.isdigit()]
    return max(
        candidates,
        key=lambda k: (k.id in prefer, created is None or k.valid_on(created), int(k.edition)),
        default=None,
    )


def identify_kind(
    header: CdaHeader,
    registry: KindRegistry | KindSnapshot,
    *,
    by_type: bool = True,
    prefer: frozenset[str] = frozenset(),
    created: dt.date | None = None,
) -> KindEvidence:
    """The kind the document declares.

    By ``templateId/@root``, else by an NSI 1520 code/translation, else by its document type (``code``
    from NSI 1522): the current edition of that type. A templateId of an edition that can no longer
    be registered also gives the current edition of the type (``source`` then says ``edition``), as
    the registry only accepts current kinds. ``by_type=False`` (a request names the kind) keeps to
    what the document itself declares; ``created`` (the document's date) prefers an edition in force then.
    """
    doc_type = next((v.code for v in [header.code] if v is not None and v.code_system in NSI_DOC_TYPES and v.code), "")
    for root in header.template_roots:
        kind = registry.by_template(root)
        if kind is not None:
            if by_type and not kind.valid_on(dt.date.today()):
                current = current_edition(registry, kind.type_1522, prefer=prefer, created=created)
                if current is not None and current.id != kind.id:
                    return KindEvidence(current, "edition", root)
            return KindEvidence(kind, "templateId", root)
    coded = [header.code, *header.translations]
    for value in coded:
        if value is not None and value.code_system == NSI_KINDS and value.code:
            kind = registry.get(value.code)
            if kind is not None:
                return KindEvidence(kind, "code", value.code)
    if doc_type and by_type:
        current = current_edition(registry, doc_type, prefer=prefer, created=created)
        if current is not None:
            return KindEvidence(current, "type", doc_type)
    return KindEvidence(None)


def _creation_date(header: CdaHeader, ctx: DocumentContext) -> dt.date | None:
    ts = header.effective_time
    if ts is not None and ts.date is not None:
        return ts.date
    if ctx.request is not None:
        created = parse_xs_datetime(ctx.request.creation_date_time)
        if created is not None:
            return created.date()
    return None


class KindLayer:
    """Identify the document's kind, compare it with the request, check dates and format."""

    name = "kind"

    def __init__(self, settings: ValidationSettings) -> None:
        self.settings = settings

    def run(self, ctx: DocumentContext) -> LayerReport:
        """Set ``ctx.kind`` and report kind mismatches, kinds out of date and non-CDA kinds."""
        if ctx.root is None:
            return LayerReport.skipped(self.name, finding_text("skip.not_xml"))
        if not is_cda_root(ctx.root):
            return LayerReport.skipped(self.name, NOT_CDA_REASON)
        registry = ctx.kinds()
        header = ctx.header()
        requested_id = (ctx.requested_kind or "").strip()
        with_packs = frozenset(ctx.pack_index().kinds())
        created = _creation_date(header, ctx)
        evidence = identify_kind(header, registry, by_type=not requested_id, prefer=with_packs, created=created)
        requested = registry.get(requested_id) if requested_id else None
        if (
            requested is not None
            and evidence.kind is not None
            and evidence.kind.id != requested.id
            and evidence.source == "templateId"
            and evidence.value in requested.candidate_template_ids()
        ):
            # several kinds share one templateId (e.g. 76 and 118): the request tells them apart
            evidence = KindEvidence(requested, evidence.source, evidence.value)
        findings: list[Finding] = []

        if requested_id and requested is None:
            findings.append(
                Finding(
                    "VALIDATION_ERROR",
                    finding_text("kind.unknown", kind=requested_id, dictionary=NSI_KINDS),
                    rule="K-unknown-kind",
                )
            )
        if requested is not None and not requested.is_cda:
            findings.append(
                Finding(
                    "INVALID_DOC_CONTENT_TYPE",
                    errors.message("INVALID_DOC_CONTENT_TYPE", kind=requested.id),
                    rule="K-format",
                )
            )
        elif requested is not None:
            findings.extend(self._compare(ctx, header, evidence, requested))

        kind = self._validated_as(evidence.kind, requested, with_packs)
        ctx.kind = kind
        if kind is None:
            findings.append(
                Finding(
                    "VALIDATION_ERROR",
                    finding_text(
                        "kind.undetermined", template_ids=", ".join(header.template_roots), dictionary=NSI_KINDS
                    ),
                    rule="K-undetermined",
                    path=self._template_path(ctx),
                    severity="warning",
                )
            )
        else:
            if evidence.source in ("type", "edition") and requested is None:
                findings.append(
                    Finding(
                        "VALIDATION_ERROR",
                        finding_text("kind.edition", template_ids=", ".join(header.template_roots),
                                     type_1522=kind.type_1522, kind=kind.id, name=kind.name),
                        rule="K-edition",
                        path=self._template_path(ctx),
                        severity="warning",
                    )
                )
            if evidence.kind is not None:
                findings.extend(self._code_consistency(ctx, header, evidence.kind))
            if not kind.is_cda and (requested is None or requested.is_cda):
                findings.append(
                    Finding(
                        "INVALID_DOC_CONTENT_TYPE",
                        errors.message("INVALID_DOC_CONTENT_TYPE", kind=kind.id),
                        rule="K-format",
                    )
                )
            if created is not None and not kind.valid_on(created):
                findings.append(
                    Finding(
                        "NO_DOCUMENT_KIND_ON_DATE",
                        errors.message("NO_DOCUMENT_KIND_ON_DATE", kind=kind.id),
                        rule="K-date",
                        path="/ClinicalDocument[1]/effectiveTime[1]",
                    )
                )
        details = {
            "document_kind": evidence.kind.id if evidence.kind else "",
            "identified_by": evidence.source,
            "requested_kind": requested_id,
            "kind": kind.id if kind else "",
        }
        passed = all(f.severity != "error" for f in findings)
        return LayerReport(self.name, True, passed, findings, details=details)

    # ------------------------------------------------------------------------------------------
    @staticmethod
    def _validated_as(document: Kind | None, requested: Kind | None, with_packs: frozenset[str]) -> Kind | None:
        """The kind whose material checks the document: the document's own kind, unless only the
        requested (CDA) kind has an installed pack — then the request's, as the registry validates a
        document by the kind its request declares."""
        if requested is None or not requested.is_cda or document is None:
            return document or requested
        if document.id not in with_packs and requested.id in with_packs:
            return requested
        return document

    @staticmethod
    def _template_path(ctx: DocumentContext) -> str:
        template = child(ctx.root, "templateId")
        return node_path(template) if template is not None else "/ClinicalDocument[1]"

    def _compare(
        self, ctx: DocumentContext, header: CdaHeader, evidence: KindEvidence, requested: Kind
    ) -> list[Finding]:
        """The document's kind against the request's (both known, the requested one CDA)."""
        if evidence.kind is not None:
            if evidence.kind.id == requested.id:
                return []
            return [
                Finding(
                    "VALIDATION_ERROR",
                    finding_text("kind.mismatch", document=evidence.kind.id, request=requested.id),
                    rule="K-mismatch",
                    path=self._template_path(ctx),
                )
            ]
        # The document's kind is unknown to the registry: it must at least carry the requested kind's template.
        roots = header.template_roots
        if roots and not set(roots) & set(requested.candidate_template_ids()):
            return [
                Finding(
                    "VALIDATION_ERROR",
                    finding_text("kind.template_mismatch", template_id=roots[0], request=requested.id),
                    rule="K-mismatch",
                    path=self._template_path(ctx),
                )
            ]
        return self._code_consistency(ctx, header, requested)

    @staticmethod
    def _code_consistency(ctx: DocumentContext, header: CdaHeader, kind: Kind) -> list[Finding]:
        """``ClinicalDocument/code`` (NSI 1522 type, or a 1520 translation) must name ``kind``."""
        index = ctx.child_index()
        code_el = index.child(ctx.root, "code")
        if code_el is None:
            return []
        out: list[Finding] = []
        code = header.code
        if (
            code is not None
            and code.code_system in NSI_DOC_TYPES
            and kind.type_1522
            and code.code != kind.type_1522
        ):
            out.append(
                Finding(
                    "VALIDATION_ERROR",
                    finding_text(
                        "cda.finding",
                        sentence=finding_text("kind.code", expected=kind.type_1522, kind=kind.id),
                        path=node_path(code_el),
                    ),
                    rule="K-code",
                    path=node_path(code_el),
                    line=code_el.sourceline,
                )
            )
        for tr in index.children(code_el, "translation"):
            if tr.get("codeSystem") == NSI_KINDS and (tr.get("code") or "").strip() != kind.id:
                out.append(
                    Finding(
                        "VALIDATION_ERROR",
                        finding_text(
                            "cda.finding",
                            sentence=finding_text(
                                "cda.attr_equals", label="ClinicalDocument/code/translation", name="code",
                                expected=kind.id,
                            ),
                            path=node_path(tr),
                        ),
                        rule="K-code",
                        path=node_path(tr),
                        line=tr.sourceline,
                    )
                )
        return out
