"""A document's life after its first registration: new versions and links to other documents.

A request's ``associations/association`` (``target`` = emdrId or localUid, ``type`` as sent) links the
new document to registered ones. A link is a **version link** when its type is one of the version
types (default ``RPLC``), when the document's own ``relatedDocument[@typeCode='RPLC']`` names the
target, or when the target has the document's ``setId``. A new version must continue the chain:
same organisation, kind and patient, the newest version as target, a higher ``versionNumber``, and
a kind whose versions are allowed. The refusals and their codes:

* ``RESTRICT_NEW_VERSION`` — the kind is in the forbidden list (kind 230, as the registry says);
* ``CANT_REG_VERSION`` — previous version not registered, of another organisation, kind or
  patient, not the newest version, another ``setId``, ``versionNumber`` not above the newest one;
* ``NOT_UNIQUE_ASSOCIATION`` — the same link twice in the request, or already registered
  (the version was already replaced; the same set already links that document with that type);
* ``CAN_NOT_ASSOCIATE`` — a link to a document not registered, to itself, to another patient's
  document (or, when forbidden by a setting, to another organisation's).

The rules are reconstructed from the classifier and one real message (remd-protocol.md §2 row 12,
tag I/R); :class:`LifecycleOptions` makes the debatable ones switchable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mock_remd.catalog import errors as E
from mock_remd.catalog.associations import type_name
from mock_remd.catalog.errors import ErrorItem
from mock_remd.catalog.findings import text as finding_text
from mock_remd.domain.model import Association, RegisterRequest
from mock_remd.store.documents import Document
from mock_remd.store.repository import Aggregates
from mock_remd.store.versions import NewLink
from mock_remd.validation.cda.versions import DocumentIdentity, identity_of_bytes

#: the codes that may come in the synchronous answer (remd-protocol.md §3: stage-1 codes)
SYNC_CODES = ("CAN_NOT_ASSOCIATE", "NOT_UNIQUE_ASSOCIATION")
LEGS = ("callback", "sync")


@dataclass(frozen=True)
class LifecycleOptions:
    """Switches of the version and link rules (config: ``versions_*``, ``association_*``)."""

    #: kinds whose new versions are refused with RESTRICT_NEW_VERSION
    forbidden_kinds: frozenset[str] = frozenset({"230"})
    #: association types that mark the link to the previous version (compared upper-case)
    version_types: frozenset[str] = frozenset({"RPLC"})
    #: names of further association types (code -> name), e.g. from NSI 1.2.643.5.1.13.13.99.2.122
    type_names: tuple[tuple[str, str], ...] = ()
    #: strict: versionNumber exactly the newest + 1, a version needs its link, types must be known
    strict: bool = False
    #: ``callback`` (default) or ``sync``: where CAN_NOT_ASSOCIATE / NOT_UNIQUE_ASSOCIATION come from
    association_checks: str = "callback"
    #: links (not versions) to documents of organisations the caller does not serve are allowed
    other_organizations: bool = True
    #: size limit when a stored document is read again for its setId/versionNumber
    max_document_bytes: int = 64 * 1024 * 1024

    @property
    def names(self) -> dict[str, str]:
        return dict(self.type_names)


@dataclass
class LinkPlan:
    """What the rules decided for one request: errors, and the links to record once it registers."""

    errors: list[ErrorItem] = field(default_factory=list)
    links: list[NewLink] = field(default_factory=list)


def _cant(reason: str) -> ErrorItem:
    return E.item("CANT_REG_VERSION", reason=reason)


def _cannot_link(reason: str) -> ErrorItem:
    return E.item("CAN_NOT_ASSOCIATE", reason=reason)


class LinkChecker:
    """Checks one request's associations against the registry (reads only; the processor writes).

    ``store`` is the store, or a unit of work (``store.transaction()``) to check inside a write.
    """

    def __init__(self, store: Aggregates, options: LifecycleOptions) -> None:
        self.store = store
        self.options = options
        self._identities: dict[int, DocumentIdentity | None] = {}

    def on(self, store: Aggregates) -> LinkChecker:
        """The same checker reading through ``store`` (a unit of work), with the version facts read so
        far (a registered document's file does not change)."""
        again = LinkChecker(store, self.options)
        again._identities = self._identities
        return again

    # ---- stored documents ------------------------------------------------------------------
    def identity_of(self, row: Document) -> DocumentIdentity | None:
        """The version facts of a registered document, read from its stored file (None: no file)."""
        doc_id = row.id
        if doc_id not in self._identities:
            _request, content = self.store.documents.payload(doc_id)
            self._identities[doc_id] = identity_of_bytes(content, max_bytes=self.options.max_document_bytes)
        return self._identities[doc_id]

    def _number_of(self, row: Document) -> int | None:
        """A registered document's versionNumber: as its own version link recorded it, else from its file."""
        own = next((lk for lk in self.store.versions.links_from(row.id) if lk.is_version), None)
        if own is not None and own.version_number is not None:
            return int(own.version_number)
        identity = self.identity_of(row)
        return identity.version_number if identity else None

    # ---- the rules -------------------------------------------------------------------------
    def check(self, req: RegisterRequest, identity: DocumentIdentity | None,
              organizations: list[str] | None = None) -> LinkPlan:
        """Every rule for ``req`` (``identity`` = the document's header facts, None before the file is known)."""
        plan = LinkPlan()
        seen: set[tuple[str, str]] = set()
        version_links = 0
        for a in req.associations:
            target, typ = a.target.strip(), a.type.strip()
            if not target:
                continue  # the synchronous checks name the missing element
            key = (target.casefold(), typ.casefold())
            if key in seen:
                plan.errors.append(E.item("NOT_UNIQUE_ASSOCIATION", target=target, type=typ))
                continue
            seen.add(key)
            if target.casefold() == req.local_uid.strip().casefold():
                plan.errors.append(_cannot_link(finding_text("link.self")))
                continue
            if self.options.strict and not self._known_type(typ):
                plan.errors.append(_cannot_link(
                    finding_text("link.unknown_type", type=typ)))
                continue
            declared = self._declared_version(a, identity)
            row = self.store.documents.registered_by_target(target)
            if row is None:
                plan.errors.append(_cant(finding_text("version.not_found", target=target)) if declared
                                   else _cannot_link(finding_text("link.not_registered", target=target)))
                continue
            target_identity = self.identity_of(row) if (identity and identity.set_id) else None
            same_set = bool(identity and identity.set_id and target_identity
                            and target_identity.set_id == identity.set_id)
            is_version = declared or same_set
            if is_version:
                version_links += 1
                errors = self._version_errors(req, identity, target, typ, row, version_links)
            else:
                errors = self._link_errors(req, identity, target, typ, row, organizations)
            plan.errors.extend(errors)
            if not errors:
                plan.links.append(self._link_row(req, identity, a, row, is_version))
        if self.options.strict and identity is not None and not req.associations:
            number = identity.version_number
            if number is not None and number > 1:
                plan.errors.append(_cant(finding_text("version.no_link", number=number)))
        return plan

    def _known_type(self, typ: str) -> bool:
        return typ.upper() in self.options.version_types or bool(type_name(typ, self.options.names))

    def _declared_version(self, a: Association, identity: DocumentIdentity | None) -> bool:
        if a.type.strip().upper() in self.options.version_types:
            return True
        return bool(identity and any(p.type_code == "RPLC" and p.names(a.target) for p in identity.parents))

    def _version_errors(self, req: RegisterRequest, identity: DocumentIdentity | None, target: str, typ: str,
                        row: Document, nth: int) -> list[ErrorItem]:
        if req.kind.strip() in self.options.forbidden_kinds:
            return [E.item("RESTRICT_NEW_VERSION", kind=req.kind.strip())]
        if nth > 1:
            return [_cant(finding_text("version.several_parents"))]
        if row.organization != req.organization.strip():
            return [_cant(finding_text("version.other_organization", target=target, organization=row.organization))]
        if row.kind != req.kind.strip():
            return [_cant(finding_text("version.other_kind", kind=req.kind.strip(), previous=row.kind))]
        patient = req.effective_patient_snils
        if patient and row.patient_snils and row.patient_snils != patient:
            return [_cant(finding_text("version.other_patient", patient=patient, previous=row.patient_snils))]
        if identity and identity.set_id:
            previous = self.identity_of(row)
            if previous and previous.set_id and previous.set_id != identity.set_id:
                return [_cant(finding_text("version.other_set_id", set_id=identity.set_id, previous=previous.set_id))]
        replaced_by = [lk for lk in self.store.versions.links_to(row.id) if lk.is_version]
        if replaced_by:
            if any(lk.type.casefold() == typ.casefold() for lk in replaced_by):
                return [E.item("NOT_UNIQUE_ASSOCIATION", target=target, type=typ)]
            newest = self.store.versions.chain(row.id)[-1].document
            return [_cant(finding_text("version.not_current", target=target,
                                       current=newest.emdr_id or newest.local_uid))]
        number = identity.version_number if identity else None
        current = self._number_of(row)  # not replaced: the target is the current version
        if number is None:
            return [_cant(finding_text("version.no_number"))] if self.options.strict and identity else []
        if current is not None and number <= current:
            return [_cant(finding_text("version.number_not_greater", number=number, current=current))]
        if self.options.strict and current is not None and number != current + 1:
            return [_cant(finding_text("version.number_not_next", number=number, current=current))]
        return []

    def _link_errors(self, req: RegisterRequest, identity: DocumentIdentity | None, target: str, typ: str,
                     row: Document, organizations: list[str] | None) -> list[ErrorItem]:
        if (not self.options.other_organizations and organizations is not None
                and row.organization not in organizations):
            return [_cannot_link(finding_text("link.other_organization", target=target, organization=row.organization))]
        patient = req.effective_patient_snils
        if patient and row.patient_snils and row.patient_snils != patient:
            return [_cannot_link(finding_text("link.other_patient", target=target))]
        if identity and self.store.versions.links_of_set_to(identity.set_id, row.id, typ):
            return [E.item("NOT_UNIQUE_ASSOCIATION", target=target, type=typ)]
        return []

    def _link_row(self, req: RegisterRequest, identity: DocumentIdentity | None, a: Association,
                  row: Document, is_version: bool) -> NewLink:
        target_identity = self._identities.get(row.id)
        if is_version and target_identity is None:
            target_identity = self.identity_of(row)
        return NewLink(
            local_uid=req.local_uid,
            set_id=identity.set_id if identity else "",
            version_number=identity.version_number if identity else None,
            target=a.target.strip(),
            type=a.type.strip(),
            type_name=type_name(a.type, self.options.names),
            target_document_id=row.id,
            target_local_uid=row.local_uid,
            target_emdr_id=row.emdr_id or "",
            target_version_number=target_identity.version_number if target_identity else None,
            is_version=is_version,
        )


def sync_link_errors(store: Aggregates, options: LifecycleOptions, req: RegisterRequest,
                     organizations: list[str]) -> list[ErrorItem]:
    """The link errors the synchronous answer carries when ``association_checks`` is ``sync``."""
    if options.association_checks != "sync" or not req.associations:
        return []
    plan = LinkChecker(store, options).check(req, None, organizations)
    return [e for e in plan.errors if e.code in SYNC_CODES]
