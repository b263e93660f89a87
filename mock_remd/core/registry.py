"""The registry core: answers the SOAP operations, keeps the journal, accepts documents for processing.

It knows nothing about HTTP or SOAP: the protocol layer hands it parsed values and renders what it
returns. Storage is reached only through :class:`~mock_remd.store.repository.Store`.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from mock_remd.catalog import errors as E
from mock_remd.catalog.errors import ErrorItem
from mock_remd.catalog.findings import text as finding_text
from mock_remd.catalog.kinds import KindRegistry
from mock_remd.core.backpressure import Backpressure
from mock_remd.core.coarse_checks import run_coarse_checks
from mock_remd.core.dates import parse_datetime
from mock_remd.core.emdr_id import format_emdr_id
from mock_remd.core.lifecycle import LifecycleOptions, sync_link_errors
from mock_remd.core.systems import DEMO_SYSTEM, normalize_system
from mock_remd.domain.behaviour import (
    Behaviour,
    BehaviourSource,
    RequestFacts,
    decides_nothing,
    magic_behaviour,
)
from mock_remd.domain.model import RegisterRequest, normalize_message_id, snils_digits
from mock_remd.store.clock import MSK, utcnow
from mock_remd.store.documents import ActiveDocument, Document, NewDocument
from mock_remd.store.journal import NewJournalEntry
from mock_remd.store.repository import Store
from mock_remd.store.systems import System

#: how long a worker trusts its cached system lookups
SYSTEMS_CACHE_SECONDS = 1.0


class WouldWait(Exception):  # noqa: N818 - a signal, not an error
    """registerDocument could not be answered without waiting (a caller that must not wait asked, see
    :meth:`RegistryService.register_then`): nothing was done, the caller asks again where it may wait."""


@dataclass
class SyncResult:
    """The synchronous answer: ``status`` with ``errors``, or a behaviour that replaces the answer."""

    status: str = "success"
    errors: list[ErrorItem] = field(default_factory=list)
    behaviour: Behaviour | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    item: dict[str, Any] | None = None


@dataclass
class _Accepting:
    """A registerDocument that passed its checks, on its way to the store."""

    req: RegisterRequest
    system: System
    #: the decoded inline file (None in pull mode)
    content: bytes | None
    behaviour: Behaviour | None
    result: SyncResult
    soap_version: str
    started: float


@dataclass
class RegistryOptions:
    region: str = "50"
    registry_prefix: str = "1"
    check_checksums: bool = True
    magic_values: bool = True
    store_years: int = 25
    callback_delay_ms: int = 0
    callback_backoff: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0)
    lifecycle: LifecycleOptions = field(default_factory=LifecycleOptions)
    #: backlog allowed before registerDocument answers later, in seconds of background work (core/backpressure.py)
    backlog_seconds: float = 0.0
    #: … and as a cap in items (-1: none); 0 = backpressure off
    backlog_limit: int = 0


class RegistryService:
    """Synchronous side of the registry."""

    def __init__(
        self,
        store: Store,
        kinds: KindRegistry,
        options: RegistryOptions,
        *,
        behaviours: BehaviourSource | None = None,
        on_accepted: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.kinds = kinds
        self.options = options
        self.behaviours = behaviours
        self.on_accepted = on_accepted or (lambda: None)
        self._seed_lock = threading.Lock()
        self._systems_cache: dict[str, tuple[float, System | None]] = {}
        self.backpressure = Backpressure(store.leg_progress, seconds=options.backlog_seconds,
                                         limit=options.backlog_limit)

    # ---- systems -------------------------------------------------------------------------------
    def seed_systems(self, configured: list[dict[str, Any]]) -> None:
        """Load systems from the config file; the demo system when the config names none."""
        with self._seed_lock:
            if configured:
                for s in configured:
                    self.store.systems.upsert(normalize_system(s), source="config")
            elif not self.store.systems.list():
                self.store.systems.upsert(normalize_system(DEMO_SYSTEM), source="builtin")
            self.forget_systems()

    def identify(self, client_entity_id: str) -> System | None:
        """The calling system, by its clientEntityId only (None when absent or unknown: ``NO_RMIS``).

        The ``system`` element of a request never chooses the caller; it is only checked against
        the system found here. Answers are cached for :data:`SYSTEMS_CACHE_SECONDS`; admin changes
        made through this process clear the cache at once (other worker processes see them within
        that time).
        """
        key = client_entity_id.strip().lower()
        if not key:
            return None
        now = time.monotonic()
        hit = self._systems_cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        row = self.store.systems.by_client_id(key)
        self._systems_cache[key] = (now + SYSTEMS_CACHE_SECONDS, row)
        return row

    def _identified(self, client_entity_id: str) -> System | None:
        """:meth:`identify` from the cache only (:class:`WouldWait` when it would read the store)."""
        key = client_entity_id.strip().lower()
        if not key:
            return None
        hit = self._systems_cache.get(key)
        if hit is None or hit[0] <= time.monotonic():
            raise WouldWait
        return hit[1]

    def forget_systems(self) -> None:
        """Drop cached system lookups (after an admin change)."""
        self._systems_cache.clear()

    # ---- behaviour -----------------------------------------------------------------------------
    def decide(self, facts: RequestFacts, may_wait: bool = True) -> Behaviour | None:
        """Scenario rules first, then the magic values of documentNumber (``may_wait`` False:
        :class:`WouldWait` when a scenario or a conformance run is active for the request: deciding
        then writes)."""
        b = None
        if self.behaviours:
            with self.store.db.one_settings_stamp():  # the scenarios and the conformance runs read it: one stat
                if may_wait:
                    b = self.behaviours.decide(facts)
                elif not decides_nothing(self.behaviours, facts):
                    raise WouldWait
        if b is None and self.options.magic_values and facts.document_number:
            b = magic_behaviour(facts.document_number)
        return b

    # ---- registerDocument ----------------------------------------------------------------------
    def register(self, req: RegisterRequest, *, soap_version: str = "1.2") -> SyncResult:
        """Answer registerDocument: coarse checks; on success the document is accepted for processing.
        While the asynchronous leg is far behind, the answer waits first (:mod:`~mock_remd.core.backpressure`)."""
        started = time.perf_counter()
        answered, accepting = self._register_checked(req, soap_version, started)
        if answered is not None:
            return answered
        assert accepting is not None
        return self._accepted(accepting, self._accept(accepting))

    def register_then(self, req: RegisterRequest, then: Callable[[SyncResult | None, BaseException | None], None],
                      *, elsewhere: Callable[[Callable[[], None]], None], soap_version: str = "1.2",
                      may_wait: bool = True,
                      lead: Callable[[Callable[[], None]], None] | None = None) -> SyncResult | None:
        """:meth:`register` without waiting for the store's commit where nothing but the store decides the
        answer: None when the document went to be stored, and ``then(result, None)`` (or ``then(None,
        error)`` when the write failed, as :meth:`register` would raise it) is called after the commit by
        the thread that committed it, which must not wait: a duplicate's answer, which journals first,
        is made by a call handed to ``elsewhere`` (a thread that may wait). Else (a scenario's or magic
        value's behaviour for the synchronous answer, an error found before the write, no group commit)
        the result, as :meth:`register`.

        ``may_wait`` False (a server's event loop, which must not block): :class:`WouldWait` is raised,
        before anything is journaled or stored, wherever this call could wait (backpressure, a store
        read, a journal write, a behaviour, an answer made now) or lead a write that is not a short
        local one (only a SQLite store's batch is led here). ``lead``: the write's batch is led by the
        call handed to it, not now (see :meth:`~mock_remd.store.group_commit.GroupCommitter.submit_then`)."""
        if not may_wait and not self._may_go_inline(req):
            raise WouldWait
        started = time.perf_counter()
        answered, accepting = self._register_checked(req, soap_version, started, may_wait=may_wait)
        if answered is not None:
            return answered
        assert accepting is not None
        behaviour = accepting.result.behaviour
        if behaviour is not None and behaviour.sync.changes_answer:  # answered by this thread, as ever
            if not may_wait:
                raise WouldWait
            return self._accepted(accepting, self._accept(accepting))

        def stored(existing: ActiveDocument | None, error: BaseException | None) -> None:
            if error is not None:
                then(None, error)
            elif existing is None:
                try:
                    self.on_accepted()
                except Exception as exc:  # (as register would raise it)
                    then(None, exc)
                    return
                then(accepting.result, None)
            else:
                elsewhere(partial(self._answer_duplicate, accepting, existing, then))

        if not self.store.documents.accepts_later:
            return self._accepted(accepting, self._accept(accepting))
        doc, entry = self._accepting_rows(accepting)
        self.store.documents.accept_unless_duplicate(doc, entry, self.store.journal, then=stored, lead=lead,
                                                     elsewhere=elsewhere if lead is not None else None)
        return None

    def _may_go_inline(self, req: RegisterRequest) -> bool:
        """Cheap conditions for :meth:`register_then` without waiting: writes group-committed on SQLite
        (a short local transaction), no link checks that read the store."""
        return (self.store.documents.accepts_later and self.store.db.is_sqlite
                and not (self.options.lifecycle.association_checks == "sync" and req.associations))

    def _answer_duplicate(self, accepting: _Accepting, existing: ActiveDocument,
                          then: Callable[[SyncResult | None, BaseException | None], None]) -> None:
        try:
            result = self._accepted(accepting, existing)
        except Exception as exc:  # (as register would raise it)
            then(None, exc)
            return
        then(result, None)

    def _register_checked(self, req: RegisterRequest, soap_version: str, started: float,
                          may_wait: bool = True) -> tuple[SyncResult | None, _Accepting | None]:
        """registerDocument up to the store's write: the result when it is answered without one, else
        what the write needs (``may_wait`` False: :class:`WouldWait` instead of any wait or answer)."""
        if may_wait:
            self.backpressure.wait()
        elif self.backpressure.would_wait():
            raise WouldWait
        now = dt.datetime.now(dt.UTC)
        system = self.identify(req.client_entity_id) if may_wait else self._identified(req.client_entity_id)
        facts = RequestFacts(
            operation="registerDocument",
            system=(system.mnemonic if system else ""),
            kind=req.kind,
            organization=req.organization,
            patient_snils=req.effective_patient_snils,
            local_uid=req.local_uid,
            document_number=req.document_number,
            request=req,
        )
        behaviour = self.decide(facts, may_wait)
        result = SyncResult(behaviour=behaviour)
        if not may_wait and behaviour and behaviour.sync.changes_answer:
            raise WouldWait
        if behaviour and behaviour.sync.replaces_answer:
            if behaviour.sync.errors:
                result.status = "error"
                values = {"kind": req.kind, "local_uid": req.local_uid, "organization": req.organization,
                          "system": facts.system}
                result.errors = [E.item(e["code"], e.get("message"), **values) for e in behaviour.sync.errors]
            self._journal(req, system, result, soap_version, started)
            return result, None
        errors, content = self._check(req, system, now, may_wait)
        if errors:
            result.status, result.errors = "error", errors
            self._journal(req, system, result, soap_version, started)
            return result, None
        assert system is not None
        return None, _Accepting(req, system, content, behaviour, result, soap_version, started)

    def _accepted(self, accepting: _Accepting, existing: ActiveDocument | None) -> SyncResult:
        """The answer once the write is done: success, or the duplicate's error (journaled)."""
        a = accepting
        if existing is not None:
            a.result.status, a.result.errors = "error", [self._duplicate_error(a.req, existing, a.system)]
            self._journal(a.req, a.system, a.result, a.soap_version, a.started)
            return a.result
        self.on_accepted()
        return a.result

    @staticmethod
    def _caller_error(system: System | None) -> list[ErrorItem] | None:
        """NO_RMIS for an unknown caller, DISABLED_RMIS for a disabled one, else None."""
        if system is None:
            return [E.item("NO_RMIS")]
        if not system.enabled:
            return [E.item("DISABLED_RMIS", system=system.mnemonic)]
        return None

    @staticmethod
    def _duplicate_error(req: RegisterRequest, existing: ActiveDocument, caller: System) -> ErrorItem:
        """NOT_UNIQUE_PROVIDED_ID; the emdrId is named only to the system that registered the document
        (for a seeded document without a system: to the systems of its organisation)."""
        if existing.status == "registered":
            owner = existing.system or ""
            if owner == caller.mnemonic or (not owner and existing.organization in (caller.organizations or [])):
                return E.item("NOT_UNIQUE_PROVIDED_ID", local_uid=req.local_uid, emdr_id=existing.emdr_id)
            return E.item("NOT_UNIQUE_PROVIDED_ID", finding_text("sync.duplicate_elsewhere", local_uid=req.local_uid))
        return E.item("NOT_UNIQUE_PROVIDED_ID", finding_text("sync.duplicate_in_progress", local_uid=req.local_uid))

    def _accept(self, a: _Accepting) -> ActiveDocument | None:
        """Store the accepted document with its journal entry; returns the existing one on a duplicate."""
        doc, entry = self._accepting_rows(a)
        return self.store.documents.accept_unless_duplicate(doc, entry, self.store.journal)

    def _accepting_rows(self, a: _Accepting) -> tuple[NewDocument, NewJournalEntry]:
        """The accepted document (``content`` = the decoded inline file, None in pull mode) and its journal entry."""
        req = a.req
        request_json = req.as_plain()
        if req.document is not None:
            request_json["document"]["data_b64"] = ""  # the bytes are stored once, as content
        message_id, patient_snils = normalize_message_id(req.message_id), req.effective_patient_snils
        return (
            NewDocument(
                local_uid=req.local_uid,
                message_id=message_id,
                system=a.system.mnemonic,
                organization=req.organization,
                kind=req.kind,
                creation_date_time=req.creation_date_time,
                patient_snils=patient_snils,
                document_number=req.document_number,
                request=request_json,
                content=a.content,
                behaviour=a.behaviour.as_dict() if a.behaviour else None,
            ),
            self._journal_entry(req, a.system, a.result, a.soap_version, a.started,
                                message_id=message_id, patient_snils=patient_snils),
        )

    def _check(self, req: RegisterRequest, system: System | None, now: dt.datetime,
               may_wait: bool = True) -> tuple[list[ErrorItem], bytes | None]:
        """All synchronous errors, and the inline document decoded on the way (``may_wait`` False:
        :class:`WouldWait` at the first error, whose answer is journaled)."""
        refused = self._caller_error(system)
        if refused is not None:
            if not may_wait:
                raise WouldWait
            return refused, None
        assert system is not None
        errors: list[ErrorItem] = []
        if system.require_system and not req.system:
            errors.append(E.validation_error(finding_text("sync.missing_system")))
        if req.system and req.system != system.mnemonic:
            errors.append(
                E.validation_error(finding_text("sync.other_system", request=req.system, system=system.mnemonic))
            )
        coarse = run_coarse_checks(req, kinds=self.kinds, now=now, check_checksums=self.options.check_checksums)
        errors.extend(coarse.errors)
        if req.organization and req.organization not in (system.organizations or []):
            errors.append(E.item("VALIDATION_ERROR", E.message("ORG_NOT_BOUND", organization=req.organization,
                                                                system=system.mnemonic)))
        errors.extend(sync_link_errors(self.store, self.options.lifecycle, req, list(system.organizations or [])))
        if errors and not may_wait:
            raise WouldWait
        if req.local_uid and errors:  # with other errors, report a duplicate too (one read)
            existing = self.store.documents.find_active(req.local_uid)
            if existing is not None:
                errors.append(self._duplicate_error(req, existing, system))
        return errors, coarse.document

    def _journal(self, req: RegisterRequest, system: System | None, result: SyncResult, soap_version: str,
                 started: float) -> None:
        self.store.journal.add(self._journal_entry(req, system, result, soap_version, started))

    def _journal_entry(self, req: RegisterRequest, system: System | None, result: SyncResult,
                       soap_version: str, started: float, *, message_id: str | None = None,
                       patient_snils: str | None = None) -> NewJournalEntry:
        """The request's journal entry (``message_id`` and ``patient_snils``: the request's, normalised
        already by the caller, else worked out here)."""
        b = result.behaviour
        if patient_snils is None:
            patient_snils = req.effective_patient_snils
        return NewJournalEntry(
            message_id=normalize_message_id(req.message_id) if message_id is None else message_id,
            operation="registerDocument",
            system=system.mnemonic if system else req.system,
            client_entity_id=req.client_entity_id,
            local_uid=req.local_uid,
            kind=req.kind,
            sync_status=self._sync_label(result),
            errors=[e.as_dict() for e in result.errors] if result.errors else [],
            http_status=self._http_status(result),
            soap_version=soap_version,
            scenario=b.source if b else None,
            duration_ms=(time.perf_counter() - started) * 1000,
            # what scenario rules match on beyond the columns above (for ?explain=true)
            detail={"facts": {"organization": req.organization, "patient_snils": patient_snils,
                              "document_number": req.document_number}},
        )

    @staticmethod
    def _sync_label(result: SyncResult) -> str:
        b = result.behaviour
        if b and b.sync.drop:
            return f"drop:{b.sync.drop}"
        if b and b.sync.fault:
            return "fault"
        if b and b.sync.http_status:
            return f"http:{b.sync.http_status}"
        return result.status

    def journal_other(self, *, operation: str, message_id: str, client_entity_id: str, sync_status: str,
                      errors: list[dict[str, str]] | None = None, http_status: int | None = 200,
                      soap_version: str = "",
                      detail: dict[str, Any] | None = None, system: str = "",
                      behaviour: Behaviour | None = None) -> None:
        """Journal a request answered without the register path (search, get, faults)."""
        self.store.journal.add(NewJournalEntry(
            message_id=normalize_message_id(message_id),
            operation=operation,
            client_entity_id=client_entity_id,
            system=system,
            sync_status=sync_status,
            errors=errors or [],
            http_status=http_status,
            soap_version=soap_version,
            detail=detail,
            scenario=behaviour.source if behaviour else None,
        ))

    # ---- search / get --------------------------------------------------------------------------
    def _scenario_answer(self, facts: RequestFacts) -> SyncResult:
        """A result carrying the scenario behaviour for search/get (errors filled in when it says so)."""
        b = self.behaviours.decide(facts) if self.behaviours else None
        result = SyncResult(behaviour=b)
        if b is not None and b.sync.errors:
            result.status = "error"
            result.errors = [E.item(e["code"], e.get("message")) for e in b.sync.errors]
        return result

    @staticmethod
    def _http_status(result: SyncResult) -> int | None:
        """The HTTP status answered, for the journal; None when a scenario dropped the connection instead."""
        b = result.behaviour
        if b is None:
            return 200
        return None if b.sync.drop else b.sync.answer_status

    def search(self, client_entity_id: str, criteria: dict[str, str], *, message_id: str = "",
               soap_version: str = "") -> SyncResult:
        """searchRegistryItem: registered documents of the caller's organisations."""
        system = self.identify(client_entity_id)
        result = self._scenario_answer(RequestFacts(
            operation="searchRegistryItem", system=(system.mnemonic if system else ""),
            kind=criteria.get("kind", ""), organization=criteria.get("organization", ""),
            patient_snils=criteria.get("patient_snils", "")))
        if result.behaviour and result.behaviour.sync.replaces_answer:
            pass
        elif (refused := self._caller_error(system)) is not None:
            result.status, result.errors = "error", refused
        else:
            assert system is not None
            begin = parse_datetime(criteria.get("register_date_begin", "")) if criteria.get("register_date_begin") else None
            end = parse_datetime(criteria.get("register_date_end", "")) if criteria.get("register_date_end") else None
            bad = [n for n, v, p in (("registerDateBegin", criteria.get("register_date_begin"), begin),
                                     ("registerDateEnd", criteria.get("register_date_end"), end)) if v and p is None]
            if bad:
                result.status = "error"
                result.errors = [E.validation_error(finding_text("sync.not_datetime_of", name=n)) for n in bad]
            else:
                rows = self.store.documents.search_registered(
                    organizations=list(system.organizations or []),
                    organization=criteria.get("organization", ""),
                    kind=criteria.get("kind", ""),
                    begin=_aware(begin),
                    end=_aware(end),
                    patient_snils=snils_digits(criteria.get("patient_snils", "")),
                )
                result.items = [registry_item(r) for r in rows]
        self.journal_other(operation="searchRegistryItem", message_id=message_id, client_entity_id=client_entity_id,
                           sync_status=self._sync_label(result), errors=[e.as_dict() for e in result.errors],
                           soap_version=soap_version, system=(system.mnemonic if system else ""),
                           detail={"criteria": criteria, "matches": len(result.items)},
                           http_status=self._http_status(result), behaviour=result.behaviour)
        return result

    def get_item(self, client_entity_id: str, emdr_id: str, *, message_id: str = "", soap_version: str = "") -> SyncResult:
        """getRegistryItem: one registered document of the caller's organisations."""
        system = self.identify(client_entity_id)
        result = self._scenario_answer(RequestFacts(operation="getRegistryItem",
                                                    system=(system.mnemonic if system else "")))
        if result.behaviour and result.behaviour.sync.replaces_answer:
            pass
        elif (refused := self._caller_error(system)) is not None:
            result.status, result.errors = "error", refused
        elif not emdr_id:
            result.status, result.errors = "error", [E.validation_error(finding_text("sync.missing_emdr_id"))]
        else:
            row = self.store.documents.registered_by_emdr_id(emdr_id)
            if row is None or row.organization not in (system.organizations or []):
                result.status, result.errors = "error", [E.item("REGISTRY_ITEM_NOT_FOUND", emdr_id=emdr_id)]
            else:  # the registry answers with the current version of the document
                result.item = registry_item(self.store.versions.current(row.id) or row)
        self.journal_other(operation="getRegistryItem", message_id=message_id, client_entity_id=client_entity_id,
                           sync_status=self._sync_label(result), errors=[e.as_dict() for e in result.errors],
                           soap_version=soap_version, system=(system.mnemonic if system else ""),
                           detail={"emdr_id": emdr_id}, http_status=self._http_status(result),
                           behaviour=result.behaviour)
        return result

    # ---- seeding -------------------------------------------------------------------------------
    def new_emdr_id(self, seq: int, when: dt.datetime | None = None) -> str:
        when = (when or dt.datetime.now(dt.UTC)).astimezone(MSK)
        return format_emdr_id(self.options.registry_prefix, self.options.region, when, seq)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def registry_item(row: Document) -> dict[str, Any]:
    """A registry record as the SOAP answers list it."""
    return {
        "emdrId": row.emdr_id or "",
        "localUid": row.local_uid or "",
        "kind": row.kind or "",
        "organization": row.organization or "",
        "registrationDateTime": row.registration_date_time or "",
        "storeTillDate": row.store_till_date or "",
    }


__all__ = ["RegistryService", "RegistryOptions", "SyncResult", "WouldWait", "registry_item", "utcnow"]
