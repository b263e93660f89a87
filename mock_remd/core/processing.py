"""The asynchronous leg: take accepted documents, get their file, validate, register or reject,
and queue the result callback — all durable in the store."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent import futures
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from mock_remd.background import BatchWorker, owner_id
from mock_remd.catalog import errors as E
from mock_remd.catalog.errors import ErrorItem
from mock_remd.catalog.findings import text as finding_text
from mock_remd.catalog.incidents import Incident, record_incident
from mock_remd.core.dates import add_years, parse_datetime, registry_date, registry_datetime
from mock_remd.core.emdr_id import format_emdr_id
from mock_remd.core.lifecycle import LinkChecker
from mock_remd.core.registry import RegistryOptions
from mock_remd.delivery.callback_xml import ACTION, result_envelope
from mock_remd.delivery.pull import pull_document
from mock_remd.domain.behaviour import Behaviour
from mock_remd.domain.messages import register_request_from_plain
from mock_remd.domain.model import RegisterRequest, normalize_message_id
from mock_remd.store.clock import MSK, utcnow
from mock_remd.store.documents import BoundOutcome, DocumentOutcome, Job
from mock_remd.store.faults import is_server_fault
from mock_remd.store.outbox import BoundDelivery, Delivery, NewDelivery
from mock_remd.store.repository import Aggregates, Store
from mock_remd.store.systems import System
from mock_remd.store.versions import NewLink
from mock_remd.validation.cda.versions import DocumentIdentity, identity_of_bytes
from mock_remd.validation.pipeline import Validator
from mock_remd.validation.report import ValidationReport
from mock_remd.xmlsafe import strip_bom

log = logging.getLogger(__name__)

#: documents in flight per processing thread (being prepared or waiting for a thread): a claim tops
#: the window up once half of it is free, so a thread never idles between documents and a claim, each a
#: write transaction, takes several documents at once (a claim is a promise this process keeps soon:
#: the window is well under a second of work)
IN_FLIGHT_PER_THREAD = 12
#: finished documents wait at most this long to be written together with others, seconds: every
#: write takes the store's write lock the synchronous answers also need, so they are batched
COMMIT_INTERVAL = 0.1


@dataclass
class Outcome:
    """A processed document waiting to be written: what was found, and what it decides."""

    doc: Job
    behaviour: Behaviour
    #: the calling system's settings as they were when the document was prepared (callbacks go there)
    system: System | None = None
    #: the registry's errors (none: it registers) and the validation layers' reports
    errors: list[dict[str, Any]] = field(default_factory=list)
    layers: list[dict[str, Any]] = field(default_factory=list)
    #: the CDA bytes when they were pulled from the system (stored with the outcome)
    content: bytes | None = None
    #: links to record when it registers
    links: list[NewLink] = field(default_factory=list)
    #: the link rules to run again inside the write (another process may register a rival version
    #: between this document's check and its write)
    checker: LinkRecheck | None = None
    #: set aside: a failure of ours (an incident), not a verdict on the document; the callback
    #: carries ``callback_errors`` (the errors without the incident)
    failed: bool = False
    callback_errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def registers(self) -> bool:
        return not self.failed and not self.errors


class CallbackHand(Protocol):
    """The callback sender of this process, as the processor hands callbacks to it."""

    owner: str

    @property
    def accepting(self) -> bool:
        """True while it sends what it is handed."""

    def take(self, rows: list[Delivery]) -> None:
        """Send these deliveries (written claimed by ``owner``)."""


@dataclass
class LinkRecheck:
    """What the link rules need to run again: the request, the document's version facts, the caller."""

    checker: LinkChecker
    request: RegisterRequest
    identity: DocumentIdentity | None
    organizations: list[str]


class Processor(BatchWorker):
    """Runs the asynchronous leg for accepted documents (one loop, a few worker threads)."""

    def __init__(
        self,
        store: Store,
        validator: Validator,
        options: RegistryOptions,
        *,
        pull_timeout: float = 10.0,
        max_document_bytes: int = 64 * 1024 * 1024,
        threads: int = 2,
        on_enqueued: Callable[[], None] | None = None,
        hand_off: CallbackHand | None = None,
        poll_interval: float = 0.2,
        commit_interval: float = COMMIT_INTERVAL,
        validation_nice: int = 0,
        validations: int = 0,
    ) -> None:
        self.store = store
        self.validator = validator
        self.options = options
        self.pull_timeout = pull_timeout
        self.max_document_bytes = max_document_bytes
        self.on_enqueued = on_enqueued or (lambda: None)
        #: the sender of this process: callbacks due now are written claimed for it and handed over
        self.hand_off = hand_off
        self.owner = owner_id("processor")
        super().__init__("mock-remd-processor", threads=threads, poll_interval=poll_interval,
                         token=lambda: store.changes.token("documents"), pool_nice=validation_nice,
                         scope=store.db.kept_connection)
        #: documents validated at once by this process (0: one per thread). The threads still pull and
        #: prepare side by side; where other processes validate too, one validation at a time per process
        #: keeps two validating threads from trading the GIL at each of libxml2's and OpenSSL's calls
        #: (processing_cost at load 8-12: ~0.3 ms more CPU per document with two at once)
        self.validating: AbstractContextManager[Any] | None = None
        if 0 < validations < threads:  # one at a time: a lock (C), not a semaphore (Python, over a Condition)
            self.validating = threading.Lock() if validations == 1 else threading.Semaphore(validations)
        self._systems: dict[str, System | None] = {}
        #: the systems' change stamp the cached systems were read at (None: read again every claim)
        self._systems_stamp: Any = None
        #: the last claim took all it asked for: the next one skips the look for due work
        self._backlog = False
        #: documents being prepared on the pool -> their job rows (only the loop thread changes it)
        self._inflight: dict[futures.Future[Outcome], Job] = {}
        #: jobs of this process to prepare again (their turn met a database fault)
        self._again: list[Job] = []
        #: how long finished documents may wait to be written together (fewer, larger transactions)
        self.commit_interval = commit_interval
        #: when the oldest finished, not yet written document finished (monotonic), or None
        self._first_done_at: float | None = None
        #: documents on the pool not yet done; the pool threads wake the loop (``_settled``) when it
        #: has something to do: the first done since it looked, or at most ``_wake_at`` still running
        self._count_lock = threading.Lock()
        self._running = 0
        self._seen_done = False
        #: in-flight documents done, in the order they finished (appended by the pool threads), so a
        #: turn of the loop does not ask every future in flight whether it is done
        self._done: list[futures.Future[Outcome]] = []
        self._wake_at = 0
        self._settled = threading.Event()
        #: (token, monotonic time) of the last claim that found fewer jobs than it asked for, or None
        self._drained: tuple[Any, float] | None = None
        self._token: Any = None

    def _system(self, mnemonic: str) -> System | None:
        """The system's settings, read once per batch, or kept until a system is written (where the
        store has a change stamp); admin changes apply from the next batch."""
        if mnemonic not in self._systems:
            self._systems[mnemonic] = self.store.systems.get(mnemonic)
        return self._systems[mnemonic]

    def _fresh_systems(self) -> None:
        """Forget the cached systems when they may have changed (a new batch begins)."""
        stamp = self.store.systems.stamp()
        if stamp is None or stamp != self._systems_stamp:
            self._systems = {}
        self._systems_stamp = stamp

    def step(self) -> int:
        """Claim due jobs and process them; returns how many were taken or written (0 = idle).

        On the thread pool the documents flow through (:meth:`_flow`): a slow document holds up
        no other. Without a pool (stopped, tests driving it) one batch is done here, start to end.
        """
        if self._pool is None:
            return self._batch()
        return self._flow()

    def _batch(self) -> int:
        jobs = self.store.documents.claim_jobs(self.owner, limit=self.threads * 4)
        if not jobs:
            return 0
        self._fresh_systems()
        # a document with links is checked against the registry as the documents before it left it:
        # those are prepared and written one at a time, after the rest of the batch
        linked = [j for j in jobs if (j.request or {}).get("associations")]
        plain = [j for j in jobs if not (j.request or {}).get("associations")]
        if plain:
            self._commit(self.map(self.prepare, plain), owner=self.owner)
        for job in linked:
            self._commit([self.prepare(job)], owner=self.owner)
        return len(jobs)

    def _flow(self) -> int:
        """One turn of the pipeline: claim as many jobs as the threads have room for, and write the
        outcomes that are ready, together, at most ``commit_interval`` after the first of them.

        A document is written as soon as it is done (give or take the interval that keeps the
        writes batched), not when the slowest document claimed with it is: one large or slow
        document (a 30 MB file, a pull that times out) holds up only its own thread.
        """
        pool = self._pool
        assert pool is not None
        again, self._again = self._again, []
        running = self._running
        window = self.threads * IN_FLIGHT_PER_THREAD
        room = window - running - len(again)
        # claims are batched: one when half the window is free (or nothing is in hand)
        claim = (room >= window // 2 or (room > 0 and not running)) and self._worth_claiming()
        claimed = self.store.documents.claim_jobs(self.owner, limit=room, probe=not self._backlog) if claim else []
        if claim:  # the queue drained at this token: the next claim waits for a sign of new work
            self._drained = (self._token, time.monotonic()) if len(claimed) < room else None
            self._backlog = len(claimed) == room
        jobs = again + claimed
        if jobs:
            self._fresh_systems()
        for i, job in enumerate(jobs):
            if (job.request or {}).get("associations"):
                # checked against the registry as every document before it left it: wait for those
                try:
                    self._drain()
                    self._commit([self.prepare(job)], owner=self.owner)
                except Exception:
                    self._again.extend(jobs[i:])
                    raise
            else:
                with self._count_lock:
                    self._running += 1
                future = pool.submit(self.prepare, job)
                self._inflight[future] = job
                future.add_done_callback(self._on_done)
        written = self._write_ready()
        return len(jobs) + written or (1 if self._inflight else 0)

    def _worth_claiming(self) -> bool:
        """Whether a claim may find work: not when the last claim emptied the queue and, since then,
        the store gave no sign (token), this process did not wake the loop, and the fallback interval
        has not passed. While documents are in flight the loop turns with every one that finishes:
        this spares a query per turn."""
        self._token = self.loop.read_token()
        woken = self.loop.take_wake()
        if self._drained is None or self._token is None or woken:
            return True
        token, at = self._drained
        return self._token != token or time.monotonic() - at >= self.loop.idle_poll

    def _on_done(self, future: futures.Future[Outcome]) -> None:
        """A document is prepared (on its pool thread): wake the loop when it has something to do."""
        with self._count_lock:
            self._done.append(future)
            self._running = max(0, self._running - 1)
            wake = not self._seen_done or self._running <= self._wake_at
            self._seen_done = True
        if wake:
            self._settled.set()

    def _write_ready(self) -> int:
        """Wait for in-flight documents (at most until the first finished one has waited
        ``commit_interval``) and write the finished ones: all together, when nothing else is running
        or when the first of them has waited that long (fewer, larger write transactions).

        The loop sleeps until it has something to do (not at every document done): the first one
        done (the write's clock starts), half the window free (a claim), all done, or the write due.
        """
        if not self._inflight:
            return 0
        self._settled.clear()
        with self._count_lock:
            running = self._running
            if self._first_done_at is None and running < len(self._inflight):
                self._first_done_at = time.monotonic()
            self._seen_done = self._first_done_at is not None
            window = self.threads * IN_FLIGHT_PER_THREAD
            self._wake_at = window - window // 2 - len(self._again)
        if running:
            waited = 0.0 if self._first_done_at is None else time.monotonic() - self._first_done_at
            self._settled.wait(max(0.0, self.commit_interval - waited))
            if self._first_done_at is None and self._running < len(self._inflight):
                self._first_done_at = time.monotonic()
        with self._count_lock:  # a future written already (by _drain) is dropped
            self._done = [f for f in self._done if f in self._inflight]
            done = set(self._done)
        ready = [f for f in self._inflight if f in done]  # in the order they were claimed, as before
        if not ready or self._first_done_at is None:
            return 0
        if len(ready) < len(self._inflight) and time.monotonic() - self._first_done_at < self.commit_interval:
            return 0
        self._first_done_at = None
        self._write(ready)
        return len(ready)

    def _drain(self) -> None:
        """Write every in-flight document (waiting for all of them)."""
        if self._inflight:
            futures.wait(self._inflight)
            self._first_done_at = None
            self._write(list(self._inflight))
            with self._count_lock:
                self._done = [f for f in self._done if f in self._inflight]

    def _write(self, done: list[futures.Future[Outcome]]) -> None:
        """Write the outcomes of finished futures in one batch. A job whose preparing or writing met a
        server fault (the database) is prepared again on the next turn: while this process renews
        its leases, no other process would take it."""
        rows = [self._inflight.pop(f) for f in done]
        outcomes: list[Outcome] = []
        fault: BaseException | None = None
        for f, row in zip(done, rows, strict=True):
            exc = f.exception()
            if exc is None:
                outcomes.append(f.result())
            else:
                fault = exc
                self._again.append(row)
        try:
            if outcomes:
                self._commit(outcomes, owner=self.owner)
        except Exception:
            self._again.extend(o.doc for o in outcomes)
            raise
        if fault is not None:
            raise fault

    def start(self) -> None:
        """Start the loop, woken by the store when another process accepts a document."""
        self.store.changes.subscribe("documents", self.wake)
        super().start()

    def stop(self) -> None:
        """Stop taking work; the documents in flight are finished and written first."""
        self._settled.set()
        self.loop.stop()
        try:
            self._drain()
        except Exception:  # the database is gone: their leases lapse and another process takes them
            record_incident("writing the documents in flight at stop")
        self._inflight, self._again, self._first_done_at = {}, [], None
        with self._count_lock:
            self._done = []
            self._running = 0
        super().stop()

    def _renew(self) -> int:
        if self._busy.is_set() or self._inflight or self._again:
            self.renew()
        return 0

    def renew(self) -> None:
        """Keep the leases of the jobs in hand (called while a batch runs)."""
        self.store.documents.renew_leases(self.owner)

    def _commit(self, outcomes: list[Outcome], *, owner: str | None = None) -> None:
        # one transaction for the batch (a document's number and callbacks are written together); when
        # it fails, each document is written alone, so one poison document never holds back the others
        try:
            delivers = any(self._delivers(o) for o in self._store_outcomes(outcomes, owner=owner))
        except Exception as exc:
            if is_server_fault(exc):  # the database, not a document: the jobs come back when their lease ends
                raise
            if len(outcomes) > 1:
                log.warning("writing a batch of %d documents failed; writing them one by one", len(outcomes))
            delivers = any([self._commit_alone(o, retry=len(outcomes) > 1, owner=owner) for o in outcomes])
        if delivers:
            self.on_enqueued()

    def _commit_alone(self, o: Outcome, *, retry: bool, owner: str | None = None) -> bool:
        """Write one outcome; if it cannot be written, set the document aside as ``failed``. True if it delivers."""
        if retry:
            try:
                return any(self._delivers(w) for w in self._store_outcomes([o], owner=owner))
            except Exception as exc:
                if is_server_fault(exc):
                    raise
        incident = record_incident("storing the outcome of a document", document_id=o.doc.id,
                                   local_uid=o.doc.local_uid)
        return any(self._delivers(w) for w in self._store_outcomes([self._set_aside(o.doc, incident)], owner=owner))

    def _store_outcomes(self, outcomes: list[Outcome], *, owner: str | None) -> list[Outcome]:
        """Write outcomes in one unit of work; returns those written, as written. With ``owner`` only
        the jobs this owner still holds are written (a job whose lease lapsed and that another process
        took over is left to it: one outcome, one callback).

        Everything a write needs is made before it (:meth:`_draft`: rows, callback bodies, their
        JSON and dates): the synchronous answers wait for the same write lock. Inside, the statements
        run, and each registered document gets its number and emdrId."""
        hand = self.hand_off if self.hand_off is not None and self.hand_off.accepting else None
        hand_to = hand.owner if hand is not None else None
        drafts = [self._draft(o, hand_to) for o in outcomes]
        with self.store.transaction() as tx:
            held = tx.documents.hold([o.doc.id for o in outcomes], owner) if owner is not None else None
            written: list[_Draft] = []
            for d in drafts:
                o = d.outcome
                if held is not None and o.doc.id not in held:
                    continue
                if o.checker is not None and o.registers:
                    checked = self._checked_again(tx, o)
                    if checked is not o:  # refused after all: made again (rare: a rival version won)
                        d = self._draft(checked, hand_to)
                written.append(d)
            # one statement each for the batch: its numbers, its outcomes, its callbacks
            numbers = iter(tx.sequences.take("emdr", sum(1 for d in written if d.outcome.registers)))
            for d in written:
                if d.outcome.registers:
                    d.number(format_emdr_id(self.options.registry_prefix, self.options.region, d.moscow,
                                            next(numbers)))
                    tx.versions.add(d.outcome.doc.id, d.outcome.links)
            tx.documents.finish_bound([d.row for d in written])
            ids = tx.outbox.add_bound([b for d in written for b in d.deliveries])
        if hand is not None:  # committed: they are the sender's now
            handed = [b for d in written for b in d.deliveries if b.handed]
            hand.take([b.delivery(i) for b, i in zip(handed, ids, strict=True)])
        return [d.outcome for d in written]

    def _draft(self, o: Outcome, hand_to: str | None) -> _Draft:
        """The outcome's row and callbacks, bound for the store's driver; a registered one carries a
        stand-in for its emdrId (:meth:`_Draft.number` puts the real one in, inside the write)."""
        now = dt.datetime.now(dt.UTC)
        stored = now.replace(tzinfo=None)  # one instant for the row's and the callbacks' times (naive UTC)
        outcome, callbacks = self._result(o, _EMDR_STAND_IN if o.registers else None, now, stored=stored)
        store = self.store
        return _Draft(o, store.documents.bind_outcome(o.doc.id, outcome, content=o.content, now=stored),
                      store.outbox.bind_all(callbacks, hand_to=hand_to, now=stored), now.astimezone(MSK))

    def _checked_again(self, tx: Aggregates, o: Outcome) -> Outcome:
        """The link rules once more, inside the write, with the linked documents held: of two versions
        of one document processed at once (by two processes), exactly one registers; the other gets
        the refusal the rules give a version that arrives after it."""
        recheck = o.checker
        assert recheck is not None
        tx.documents.lock(link.target_document_id for link in o.links)
        plan = recheck.checker.on(tx).check(recheck.request, recheck.identity, recheck.organizations)
        if not plan.errors:
            return o
        return replace(o, errors=[e.as_dict() for e in _dedupe(plan.errors)], links=[], checker=None)

    @staticmethod
    def _delivers(o: Outcome) -> bool:
        system = o.system
        return bool((o.failed or not o.behaviour.callback.skip) and system and system.callback_url)

    # ---- one document --------------------------------------------------------------------------
    def prepare(self, doc: Job) -> Outcome:
        """Work out one document's outcome (pull, validate); never raises.

        A failure inside is a bug of ours: the document is tried once more, then set aside as
        ``failed`` with an incident id (logged with the traceback) and an XML_VALIDATOR_ERROR callback.
        """
        for attempt in (1, 2):
            try:
                return self._process(doc)
            except Exception as exc:
                if is_server_fault(exc):  # the database, not the document: the job comes back after its lease
                    raise
                if attempt == 1:
                    log.warning("processing document %s failed; trying it once more", doc.local_uid)
                    continue
                incident = record_incident("processing a document", local_uid=doc.local_uid, document_id=doc.id)
        return self._set_aside(doc, incident)

    def _set_aside(self, doc: Job, incident: Incident) -> Outcome:
        """The outcome of a document we could not process: ``failed``, the incident id, a plain error callback."""
        item = incident.validator_error()
        return Outcome(doc, Behaviour(), system=self._system(doc.system), failed=True,
                       errors=[{**item.as_dict(), "incident": incident.id}], callback_errors=[item.as_dict()])

    def _process(self, doc: Job) -> Outcome:
        behaviour = Behaviour.from_dict(doc.behaviour)
        if doc.request is None:  # claimed documents carry their payload; others are read here
            doc.request, doc.content = self.store.documents.payload(doc.id)
        doc.request = doc.request or {}
        content = doc.content
        req = register_request_from_plain(doc.request)
        pulled = None
        errors: list[ErrorItem] = []
        system = self._system(doc.system)
        if content is None:
            url = system.document_url if system else ""
            if not url:
                errors.append(E.item("FILE_WAS_NOT_SENT", finding_text("processing.no_file", system=doc.system)))
            else:
                result = pull_document(url, doc.local_uid, timeout=self.pull_timeout, max_bytes=self.max_document_bytes)
                errors.extend(result.errors)
                content = pulled = result.content
        report: ValidationReport | None = None
        if content is not None:
            report = self._validate(content, req)
            errors.extend(ErrorItem(f.code, f.message) for f in report.answer_errors())
        links: list[NewLink] = []
        recheck = None
        lifecycle = self.options.lifecycle
        if req.associations or lifecycle.strict:
            identity = _identity(content, report, self.max_document_bytes)
            organizations = list(system.organizations if system else [])
            checker = LinkChecker(self.store, lifecycle)
            plan = checker.check(req, identity, organizations)
            errors.extend(plan.errors)
            links = plan.links
            if links:
                recheck = LinkRecheck(checker, req, identity, organizations)
        return self._finish(doc, behaviour, system, errors=errors, report=report, content=pulled, links=links,
                            recheck=recheck)

    def _validate(self, content: bytes, req: RegisterRequest) -> ValidationReport:
        if self.validating is None:
            return self.validator.validate(content, req)
        with self.validating:
            return self.validator.validate(content, req)

    def _finish(self, doc: Job, behaviour: Behaviour, system: System | None, *, errors: list[ErrorItem],
                report: ValidationReport | None, content: bytes | None,
                links: list[NewLink] | None = None, recheck: LinkRecheck | None = None) -> Outcome:
        cb = behaviour.callback
        forced = False
        if cb.status == "error" or (cb.errors and cb.status != "success"):
            # a forced code's message is its catalogue template, filled with what the request says
            facts = {"kind": doc.kind or "", "local_uid": doc.local_uid or "",
                     "organization": doc.organization or "", "system": doc.system or ""}
            items = [E.item(e["code"], e.get("message"), **facts) for e in (cb.errors or [])]
            errors = items or errors or [E.item("VALIDATION_ERROR", finding_text("processing.forced_error"))]
            forced = True
        elif cb.status == "success":
            errors = []
            forced = True
        return Outcome(doc, behaviour, system, errors=[e.as_dict() for e in _dedupe(errors)],
                       layers=[lr.as_dict() for lr in report.layers] if report else [], content=content,
                       links=links or [], checker=None if forced else recheck)

    def _result(self, o: Outcome, emdr_id: str | None, now: dt.datetime, *,
                stored: dt.datetime | None = None) -> tuple[DocumentOutcome, list[NewDelivery]]:
        """The document's outcome and its callbacks: registered at ``now`` with the emdrId ``emdr_id``,
        rejected (``emdr_id`` None), or set aside as failed; the callbacks due from ``stored`` (naive
        UTC, the store's time: now when None)."""
        doc = o.doc
        common = {"local_uid": doc.local_uid, "kind": doc.kind, "organization": doc.organization}
        if o.failed:
            outcome = {"status": "error", "errors": o.callback_errors, **common}
            return DocumentOutcome("failed", errors=o.errors), self._deliveries(o, outcome, stored)
        if emdr_id is None:
            outcome = {"status": "error", "errors": o.errors, **common}
            return (DocumentOutcome("rejected", errors=o.errors, layers=o.layers),
                    self._deliveries(o, outcome, stored))
        created = parse_datetime(doc.creation_date_time or "")
        if created is None:
            created = now
        elif created.tzinfo is None:
            created = created.replace(tzinfo=MSK)
        registered = DocumentOutcome(
            "registered", errors=o.errors, layers=o.layers, emdr_id=emdr_id,
            registration_date_time=registry_datetime(now),
            store_till_date=registry_date(add_years(created.astimezone(MSK).date(), self.options.store_years)),
        )
        outcome = {"status": "success", "emdr_id": emdr_id, "registration_date_time": registered.registration_date_time,
                   "store_till_date": registered.store_till_date, **common}
        return registered, self._deliveries(o, outcome, stored)

    def _deliveries(self, o: Outcome, outcome: dict[str, Any], now: dt.datetime | None = None) -> list[NewDelivery]:
        """The callbacks of the outcome ``outcome``, due from ``now`` (naive UTC; None: now); they read
        nothing from the store."""
        doc, behaviour, system = o.doc, o.behaviour, o.system
        cb = behaviour.callback
        if cb.skip:
            return []
        url = system.callback_url if system else ""
        if not url:
            return []
        version = cb.soap_version or (system.callback_soap_version if system else "") or "1.1"
        raw_mid = (doc.request or {}).get("message_id") or doc.message_id or ""
        relates_to = cb.relates_to or raw_mid
        delay_ms = cb.delay_ms if cb.delay_ms is not None else self.options.callback_delay_ms
        due = now or utcnow()
        if delay_ms:
            due += dt.timedelta(milliseconds=delay_ms)
        out = []

        def delivery(body: bytes, relates: str, when: dt.datetime, note: str, backoff: list[float]) -> NewDelivery:
            return NewDelivery(relates_to=normalize_message_id(relates), local_uid=doc.local_uid, document_id=doc.id,
                               system=doc.system, url=url, soap_version=version, action=ACTION, body=body,
                               backoff=backoff, due_at=when, note=note)

        if cb.foreign_first:  # meant for another MIS: tried once, the right one follows
            stranger = str(uuid.uuid4())
            foreign = {**outcome, "local_uid": str(uuid.uuid4())}
            out.append(delivery(result_envelope(foreign, relates_to=stranger, to=url, version=version),
                                stranger, due, "foreign", []))
            due += dt.timedelta(milliseconds=cb.repeat_interval_ms or FOREIGN_GAP_MS)
        phases = [(outcome, due, "")]
        if (system and system.send_to_fremd) or cb.fremd is not None:
            phases = two_phase(outcome, due, cb.fremd or {})
        for phase_outcome, phase_due, stage in phases:
            note = " ".join(n for n in (stage, "malformed" if cb.malformed else "") if n)
            for i in range(max(1, int(cb.repeat or 1))):
                body = result_envelope(phase_outcome, relates_to=relates_to, to=url, version=version,
                                       malformed=cb.malformed)
                when = phase_due + dt.timedelta(milliseconds=i * (cb.repeat_interval_ms or 0))
                out.append(delivery(body, relates_to, when, note, list(self.options.callback_backoff)))
        return out


#: what a registered outcome's row and callbacks carry in place of its emdrId until its number is
#: drawn inside the write (random: no value of a request can hold it; XML escaping leaves it as is)
_EMDR_STAND_IN = f"emdr-{uuid.uuid4().hex}"
_EMDR_STAND_IN_BYTES = _EMDR_STAND_IN.encode()


@dataclass
class _Draft:
    """An outcome made ready before its write: the document's row and its callbacks, bound."""

    outcome: Outcome
    row: BoundOutcome
    deliveries: list[BoundDelivery]
    #: when it registers (Moscow time): the month of its emdrId
    moscow: dt.datetime

    def number(self, emdr_id: str) -> None:
        """Put the emdrId drawn inside the write in place of the stand-in."""
        self.row.set_emdr_id(emdr_id)
        value = emdr_id.encode()
        for d in self.deliveries:
            body = d.row["body"]
            if _EMDR_STAND_IN_BYTES in body:
                d.set_body(body.replace(_EMDR_STAND_IN_BYTES, value))


#: pause between a foreign callback and the right one, unless ``repeat_interval_ms`` says otherwise
FOREIGN_GAP_MS = 500

#: delay of the federal (ФРЭМД) result after the regional one, unless a scenario says otherwise
FREMD_DELAY_MS = 1000


def two_phase(outcome: dict[str, Any], due: dt.datetime, fremd: dict[str, Any]) -> list[tuple[dict[str, Any], dt.datetime, str]]:
    """ЕМИАС МО two-phase outcome: the regional result (``stage`` = ``regional``), then, when the
    region registered the document, the federal one (``stage`` = ``federal``): success with the same
    emdrId, or the errors ФРЭМД reported (a scenario's ``callback.fremd``)."""
    regional = {**outcome, "stage": "regional"}
    phases = [(regional, due, "regional")]
    if outcome.get("status") != "success" or fremd.get("skip"):
        return phases
    federal = {**outcome, "stage": "federal"}
    if fremd.get("status") == "error" or fremd.get("errors"):
        items = [E.item(e["code"], e.get("message")) for e in (fremd.get("errors") or [])]
        items = items or [E.item("VALIDATION_ERROR", finding_text("processing.fremd_refused"))]
        federal.update(status="error", errors=[i.as_dict() for i in items])
        for key in ("emdr_id", "registration_date_time", "store_till_date"):
            federal.pop(key, None)
    delay = fremd.get("delay_ms")
    later = due + dt.timedelta(milliseconds=FREMD_DELAY_MS if delay is None else int(delay))
    phases.append((federal, later, "federal"))
    return phases


def _identity(content: bytes | None, report: ValidationReport | None, max_bytes: int) -> DocumentIdentity | None:
    """The document's version facts: those the validation read from its parsed tree (the same bytes,
    the same safe parse), else :func:`identity_of_bytes` (which parses the document again)."""
    if (report is not None and report.identity is not None and content is not None
            and len(strip_bom(content)) <= max_bytes):  # what identity_of_bytes would have refused
        return report.identity
    return identity_of_bytes(content, max_bytes=max_bytes)


def _dedupe(items: list[ErrorItem]) -> list[ErrorItem]:
    seen = set()
    out = []
    for i in items:
        key = (i.code, i.message)
        if key not in seen:
            seen.add(key)
            out.append(i)
    return out
