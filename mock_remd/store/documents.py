"""Documents: accepted requests, their processing jobs, registered documents and their payloads.

A document row carries its processing job (queued → claimed → done); the large parts (request
metadata with signatures, the CDA bytes) live in ``payloads``, apart from the row processing updates.
Claims are one ``UPDATE … RETURNING`` (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) with leases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, literal_column, select, update
from sqlalchemy.engine import Connection

from mock_remd.store import schema as t
from mock_remd.store.claims import LEASE_SECONDS, Claim
from mock_remd.store.clock import utcnow
from mock_remd.store.group_commit import GroupCommitter, Then
from mock_remd.store.journal import Journal, NewJournalEntry, fit_columns
from mock_remd.store.prepared import (
    LARGE_BLOB_BYTES,
    BoundRow,
    Prepared,
    PreparedIn,
    PreparedInsert,
    SqliteBlob,
    run_many,
)
from mock_remd.store.record import Record
from mock_remd.store.session import Session

# Statements of the hot path, built once: executing a prepared construct with a parameter dict
# skips SQLAlchemy's per-call statement building (measured: half the cost of an accepted request).
_INSERT_DOCUMENT = insert(t.documents).returning(t.documents.c.id)
_PAYLOAD_FIELDS = ("request", "content")
_ACTIVE_BY_KEY = (
    select(t.documents.c.id, t.documents.c.status, t.documents.c.emdr_id, t.documents.c.local_uid,
           t.documents.c.system, t.documents.c.organization)
    .where(t.documents.c.local_uid_key == bindparam("key"))
    .where(t.documents.c.status.in_([literal_column("'registered'"), literal_column("'pending'")]))
    .order_by(t.documents.c.id.desc())
    .limit(1)
)
# … and those of every accepted registration run on the DBAPI cursor (store/prepared.py): the
# duplicate read and the inserts cost 0.1 ms of CPU less each than through execute()
_ACCEPT_DUPLICATE = Prepared(_ACTIVE_BY_KEY, ["key"])
_ACCEPT_DOCUMENT = PreparedInsert(
    t.documents, returning="id",
    # SQLite: the duplicate check and the insert in one statement (the read only when it finds one)
    unless=lambda table, row: and_(table.c.local_uid_key == row["local_uid_key"],
                                   table.c.status.in_([literal_column("'registered'"), literal_column("'pending'")])))
_ACCEPT_PAYLOAD = PreparedInsert(t.payloads)
#: the registered or pending documents with any of some localUids, newest first (a group commit's batch)
_ACTIVE_OF = PreparedIn(
    lambda keys: select(*_ACTIVE_BY_KEY.selected_columns, t.documents.c.local_uid_key)
    .where(t.documents.c.local_uid_key.in_(keys))
    .where(t.documents.c.status.in_([literal_column("'registered'"), literal_column("'pending'")]))
    .order_by(t.documents.c.id.desc()),
    [], type_=t.documents.c.local_uid_key.type)
_CONTENT_IN_PLACE = SqliteBlob(t.payloads, "content", "document_id")
_JOB_FIELDS = ("id", "local_uid", "message_id", "system", "organization", "kind", "creation_date_time", "behaviour")
_CLAIM_JOBS = Claim(t.documents, state="job_state", free="queued", taken="claimed", due_at="job_due_at",
                    lease_until="job_lease_until", values=("job_state", "job_owner", "job_lease_until"),
                    returning=_JOB_FIELDS)
# built once: the processor holds its jobs at every write of outcomes (a few times a second), and reads
# the payloads of the jobs it claims (run on the DBAPI cursor, one statement per batch size)
_HOLD = PreparedIn(
    lambda ids: select(t.documents.c.id)
    .where(t.documents.c.id.in_(ids), t.documents.c.job_owner == bindparam("owner"),
           t.documents.c.job_state == "claimed")
    .with_for_update(),
    ["owner"], type_=t.documents.c.id.type)
_PAYLOADS_OF = PreparedIn(
    lambda ids: select(t.payloads.c.document_id, t.payloads.c.request, t.payloads.c.content)
    .where(t.payloads.c.document_id.in_(ids)),
    [], type_=t.payloads.c.document_id.type)
# the outcome of a processed document, one statement per shape (registered, or not), built once
_OUTCOME_FIELDS = ("status", "errors", "layers")
_REGISTERED_FIELDS = ("emdr_id", "registration_date_time", "store_till_date")


def _finish_statement(fields: tuple[str, ...]) -> Prepared:
    columns = (*fields, "job_state", "job_lease_until", "updated_at")
    return Prepared(update(t.documents).where(t.documents.c.id == bindparam("doc_id"))
                    .values({k: bindparam(f"set_{k}", type_=t.documents.c[k].type) for k in columns}),
                    ["doc_id", *(f"set_{k}" for k in columns)])


_FINISH = {False: _finish_statement(_OUTCOME_FIELDS), True: _finish_statement(_OUTCOME_FIELDS + _REGISTERED_FIELDS)}
_DONE_FIELDS = ("job_state", "job_lease_until", "updated_at")
#: registered or not -> the fields an outcome of that shape sets (one written by ``_FINISH``)
_SHAPES = {registered: frozenset(_OUTCOME_FIELDS + (_REGISTERED_FIELDS if registered else ()) + _DONE_FIELDS)
           for registered in (False, True)}
#: field -> its bind parameter in ``_FINISH`` (names made once: an outcome is bound per document)
_SET_NAMES = {k: f"set_{k}" for k in _SHAPES[True]}

#: a registered document that a newer version replaced (searches return current versions only)
_SUPERSEDED = (
    select(t.links.c.id)
    .where(t.links.c.target_document_id == t.documents.c.id)
    .where(t.links.c.is_version.is_(True))
    .exists()
)


@dataclass
class ActiveDocument(Record):
    """The few facts of a registered or pending document the duplicate check needs."""

    id: int
    status: str
    emdr_id: str | None
    local_uid: str
    system: str
    organization: str


@dataclass
class Document(Record):
    """One document (one attempt of a localUid): its state, outcome and processing job."""

    id: int
    local_uid: str
    status: str  # pending | registered | rejected | failed
    received_at: dt.datetime
    updated_at: dt.datetime
    local_uid_key: str = ""
    message_id: str = ""
    system: str = ""
    organization: str = ""
    kind: str = ""
    emdr_id: str | None = None
    registration_date_time: str | None = None
    store_till_date: str | None = None
    creation_date_time: str = ""
    patient_snils: str = ""
    document_number: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)
    layers: list[dict[str, Any]] = field(default_factory=list)
    seeded: bool = False
    job_state: str = "done"
    job_due_at: dt.datetime | None = None
    job_lease_until: dt.datetime | None = None
    job_owner: str | None = None
    behaviour: dict[str, Any] | None = None
    #: the payload (request metadata and CDA bytes) where the read asked for it
    request: dict[str, Any] | None = None
    content: bytes | None = None


@dataclass(kw_only=True)
class DocumentFacts:
    """What the request said of a document that processing reads, and its payload."""

    local_uid: str
    message_id: str = ""
    system: str = ""
    organization: str = ""
    kind: str = ""
    creation_date_time: str = ""
    #: what the scenarios decided for the callback leg
    behaviour: dict[str, Any] | None = None
    #: the request as plain values (signatures included), and the CDA bytes (None: not read, or pulled later)
    request: dict[str, Any] | None = None
    content: bytes | None = None


@dataclass(kw_only=True)
class Job(DocumentFacts):
    """A claimed processing job: its row id and what processing reads of its document."""

    id: int


@dataclass(kw_only=True)
class NewDocument(DocumentFacts):
    """An accepted registerDocument: the document to process, its request metadata and file."""

    patient_snils: str = ""
    document_number: str = ""


@dataclass
class DocumentOutcome:
    """What processing decided: ``registered`` (with its emdrId and dates), ``rejected`` or ``failed``."""

    status: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    layers: list[dict[str, Any]] = field(default_factory=list)
    emdr_id: str | None = None
    registration_date_time: str | None = None
    store_till_date: str | None = None


@dataclass
class BoundOutcome:
    """A document's outcome with its statement's parameters made before the write transaction
    (:meth:`Documents.bind_outcome`): the JSON of its errors and layers, its dates."""

    doc_id: int
    #: the bound parameters of the outcome's statement (None: a shape without one, written by ``values``)
    row: BoundRow | None
    values: dict[str, Any]
    #: the CDA bytes pulled from the system, stored with the outcome (None: none pulled)
    content: bytes | None = None

    def set_emdr_id(self, emdr_id: str) -> None:
        """The emdrId of a registered outcome (its number is drawn inside the write)."""
        self.values["emdr_id"] = emdr_id
        if self.row is not None:
            self.row.set("set_emdr_id", emdr_id)


@dataclass
class SeededDocument:
    """A document that already exists in the registry (admin seeding)."""

    local_uid: str
    kind: str
    organization: str
    registration_date_time: str
    store_till_date: str
    emdr_id: str
    patient_snils: str = ""
    system: str = ""
    creation_date_time: str = ""


class _Accept:
    """The write of one accepted registration (:meth:`Documents.accept_unless_duplicate`): on its own
    (called with the connection), or with the others of a group commit's batch (:meth:`apply_many`)."""

    __slots__ = ("row", "payload", "entry", "journal", "sqlite")

    def __init__(self, row: dict[str, Any], payload: dict[str, Any], entry: NewJournalEntry, journal: Journal,
                 sqlite: bool) -> None:
        self.row = row
        self.payload = payload
        self.entry = entry
        self.journal = journal
        self.sqlite = sqlite

    def __call__(self, c: Connection) -> ActiveDocument | None:
        row, payload = self.row, self.payload
        if self.sqlite:  # one statement: inserted unless a registered or pending document has the localUid
            doc_id = _ACCEPT_DOCUMENT.insert_unless(c, row)
            if doc_id is None:
                return ActiveDocument(**_ACCEPT_DUPLICATE.first(c, {"key": row["local_uid_key"]}))
        else:
            existing = _ACCEPT_DUPLICATE.first(c, {"key": row["local_uid_key"]})
            if existing is not None:
                return ActiveDocument(**existing)
            doc_id = _ACCEPT_DOCUMENT.insert(c, row)
        payload_row, in_place = _payload_row(doc_id, payload, self.sqlite)
        _ACCEPT_PAYLOAD.insert(c, payload_row)
        if in_place is not None:
            _CONTENT_IN_PLACE.write(c, doc_id, in_place)
        self.journal.insert(c, self.entry)
        return None

    @staticmethod
    def apply_many(c: Connection, writes: list[_Accept]) -> list[ActiveDocument | None]:
        """Several registrations' writes as each alone would do them, one after the other, in a few
        statements for them all: one multi-row insert each into documents (with the read of the active
        documents with their localUids), payloads and the journal, where each write alone ran three
        statements (Python 3.11's sqlite3 lets the GIL go five times per statement: under load, thread
        hand-offs of the group commit's leader). A localUid written twice waits for the next round,
        which sees the first one's document (and is its duplicate, as it would be alone)."""
        results: list[ActiveDocument | None] = [None] * len(writes)
        left = list(range(len(writes)))
        while left:
            keys: set[str] = set()
            now: list[int] = []
            later: list[int] = []
            for i in left:
                key = writes[i].row["local_uid_key"]
                (later if key in keys else now).append(i)
                keys.add(key)
            for i, found in zip(now, _accept_distinct(c, [writes[i] for i in now]), strict=True):
                results[i] = found
            left = later
        return results


def _payload_row(doc_id: int, payload: dict[str, Any], sqlite: bool) -> tuple[dict[str, Any], bytes | None]:
    """The payloads row of an accepted document, and the content to write in place after it (a large
    file on SQLite, written by its blob handle rather than bound: None otherwise)."""
    content = payload["content"]
    if content is not None and len(content) > LARGE_BLOB_BYTES and sqlite:
        return {"document_id": doc_id, "request": payload["request"], "content": None}, content
    return {"document_id": doc_id, **payload}, None


def _accept_distinct(c: Connection, writes: list[_Accept]) -> list[ActiveDocument | None]:
    """:meth:`_Accept.apply_many` of writes with distinct localUids. SQLite: the documents inserted
    unless refused, in one statement (the active documents read only when one was); elsewhere the
    active documents read, then the others inserted."""
    if writes[0].sqlite:
        got = _ACCEPT_DOCUMENT.insert_many_unless(c, [w.row for w in writes], match="local_uid_key")
        refused = [w.row["local_uid_key"] for w, doc_id in zip(writes, got, strict=True) if doc_id is None]
    else:
        got, refused = [None] * len(writes), [w.row["local_uid_key"] for w in writes]
    active: dict[str, dict[str, Any]] = {}
    for r in _ACTIVE_OF.all(c, refused, {}):  # newest first
        active.setdefault(r.pop("local_uid_key"), r)
    results = [None if (a := active.get(w.row["local_uid_key"])) is None else ActiveDocument(**a) for w in writes]
    fresh = [w for w, found in zip(writes, results, strict=True) if found is None]
    if not fresh:
        return results
    if writes[0].sqlite:
        ids = [doc_id for doc_id in got if doc_id is not None]
    else:
        ids = _ACCEPT_DOCUMENT.insert_many(c, [w.row for w in fresh], match="local_uid_key")
    payloads = []
    in_place = []
    for w, doc_id in zip(fresh, ids, strict=True):
        payload_row, content = _payload_row(doc_id, w.payload, w.sqlite)
        payloads.append(payload_row)
        if content is not None:
            in_place.append((doc_id, content))
    _ACCEPT_PAYLOAD.insert_many(c, payloads)
    for doc_id, content in in_place:
        _CONTENT_IN_PLACE.write(c, doc_id, content)
    journals: dict[int, tuple[Journal, list[NewJournalEntry]]] = {}
    for w in fresh:
        journals.setdefault(id(w.journal), (w.journal, []))[1].append(w.entry)
    for journal, entries in journals.values():
        journal.insert_many(c, entries)
    return results


class Documents:
    """Reads and writes of ``documents`` and ``payloads``."""

    def __init__(self, session: Session, *, group: GroupCommitter | None = None) -> None:
        self.s = session
        self.group = group

    # ---- the synchronous path ------------------------------------------------------------------
    def find_active(self, local_uid: str) -> ActiveDocument | None:
        """The registered or still pending document with this localUid, if any (duplicate check)."""
        rows = self.s.rows(_ACTIVE_BY_KEY, {"key": local_uid.lower()})
        return ActiveDocument.of(rows[0]) if rows else None

    @property
    def accepts_later(self) -> bool:
        """Whether :meth:`accept_unless_duplicate` takes ``then`` (writes are group-committed here)."""
        return self.group is not None

    def accept_unless_duplicate(self, doc: NewDocument, journal_entry: NewJournalEntry, journal: Journal, *,
                                then: Then | None = None,
                                lead: Callable[[Callable[[], None]], None] | None = None,
                                elsewhere: Callable[[Callable[[], None]], None] | None = None) -> ActiveDocument | None:
        """In one transaction: if a registered or pending document has this localUid, return it and
        change nothing; else accept the document (job queued) and journal the request. The document is
        received when its request is (``journal_entry.received_at``): one reading of the clock, and one
        text of it bound to both rows.

        With ``then`` (only where :attr:`accepts_later`) nothing is returned and the call does not
        wait for the commit: ``then(existing, None)`` (None: accepted) or ``then(None, error)`` is called
        after it by the thread that commits (see :meth:`GroupCommitter.submit_then`, also for ``lead`` and ``elsewhere``)."""
        now = journal_entry.received_at
        row = {"status": "pending", "received_at": now, "updated_at": now, "job_state": "queued", "job_due_at": now,
               **vars(doc), "local_uid_key": doc.local_uid.lower()}
        payload = {k: row.pop(k) for k in _PAYLOAD_FIELDS}
        write = _Accept(row, payload, journal_entry, journal, self.s.db.is_sqlite)
        if self.group is None:
            with self.s.write() as c:
                return write(c)
        if then is not None:
            self.group.submit_then(write, then, lead, elsewhere)
            return None
        return self.group.submit(write)

    # ---- reads ---------------------------------------------------------------------------------
    def payload(self, doc_id: int) -> tuple[dict[str, Any] | None, bytes | None]:
        """The stored request metadata and CDA bytes of a document."""
        with self.s.read() as c:
            r = c.execute(select(t.payloads.c.request, t.payloads.c.content)
                          .where(t.payloads.c.document_id == doc_id)).first()
        return (r.request, r.content) if r is not None else (None, None)

    def _with_payload(self, doc: Document | None) -> Document | None:
        if doc is not None:
            doc.request, doc.content = self.payload(doc.id)
        return doc

    def get(self, local_uid: str) -> Document | None:
        """The newest attempt for ``local_uid`` (case-insensitive), with its request and content."""
        with self.s.read() as c:
            doc = Document.of(c.execute(select(t.documents).where(t.documents.c.local_uid_key == local_uid.lower())
                                        .order_by(t.documents.c.id.desc()).limit(1)).first())
        return self._with_payload(doc)

    def by_id(self, doc_id: int, *, payload: bool = True) -> Document | None:
        """One attempt by its id (with its request and content unless ``payload`` is False)."""
        with self.s.read() as c:
            doc = Document.of(c.execute(select(t.documents).where(t.documents.c.id == doc_id)).first())
        return self._with_payload(doc) if payload else doc

    def history(self, local_uid: str) -> list[Document]:
        """Every attempt for ``local_uid``, newest first (without payload)."""
        with self.s.read() as c:
            return Document.all(c.execute(select(t.documents).where(t.documents.c.local_uid_key == local_uid.lower())
                                          .order_by(t.documents.c.id.desc())))

    def list(self, *, status: str = "", system: str = "", kind: str = "", limit: int = 100,
             offset: int = 0) -> tuple[list[Document], int]:
        """Documents matching the filters, newest first, and how many match."""
        conds = []
        if status:
            conds.append(t.documents.c.status == status)
        if system:
            conds.append(t.documents.c.system == system)
        if kind:
            conds.append(t.documents.c.kind == kind)
        with self.s.read() as c:
            q = select(t.documents)
            cq = select(func.count()).select_from(t.documents)
            if conds:
                q, cq = q.where(and_(*conds)), cq.where(and_(*conds))
            rows = c.execute(q.order_by(t.documents.c.id.desc()).limit(limit).offset(offset)).all()
            total = c.execute(cq).scalar_one()
        return Document.all(rows), int(total)

    def kinds(self) -> list[str]:
        """The kinds of every stored document, sorted."""
        with self.s.read() as c:
            return [r[0] for r in c.execute(select(t.documents.c.kind).distinct().order_by(t.documents.c.kind)) if r[0]]

    def registered_by_emdr_id(self, emdr_id: str) -> Document | None:
        """The registered document with this emdrId."""
        with self.s.read() as c:
            return Document.of(c.execute(select(t.documents).where(t.documents.c.emdr_id == emdr_id)
                                         .where(t.documents.c.status == "registered")).first())

    def registered_by_target(self, target: str) -> Document | None:
        """The registered document an association ``target`` names: by emdrId, else by localUid."""
        target = target.strip()
        if not target:
            return None
        d = t.documents.c
        with self.s.read() as c:
            row = c.execute(select(t.documents).where(d.emdr_id == target).where(d.status == "registered")).first()
            if row is None:
                row = c.execute(select(t.documents).where(d.local_uid_key == target.lower())
                                .where(d.status == "registered").order_by(d.id.desc()).limit(1)).first()
        return Document.of(row)

    def search_registered(self, *, organizations: list[str], organization: str = "", kind: str = "",
                          begin: dt.datetime | None = None, end: dt.datetime | None = None,
                          patient_snils: str = "", limit: int = 1000) -> list[Document]:
        """Current registered versions of the given organisations matching the filters (oldest first)."""
        q = (select(t.documents).where(t.documents.c.status == "registered")
             .where(t.documents.c.organization.in_(organizations)).where(~_SUPERSEDED))
        if organization:
            q = q.where(t.documents.c.organization == organization)
        if kind:
            q = q.where(t.documents.c.kind == kind)
        if patient_snils:
            q = q.where(t.documents.c.patient_snils == patient_snils)
        with self.s.read() as c:
            docs = Document.all(c.execute(q.order_by(t.documents.c.id).limit(limit)))
        if begin or end:  # registration_date_time is kept as the registry writes it (text with offset)

            def inside(d: Document) -> bool:
                try:
                    value = dt.datetime.fromisoformat(d.registration_date_time or "")
                except ValueError:
                    return False
                return (begin is None or value >= begin) and (end is None or value <= end)

            docs = [d for d in docs if inside(d)]
        return docs

    # ---- the processing job --------------------------------------------------------------------
    def claim_jobs(self, owner: str, *, limit: int = 4, lease_seconds: float = LEASE_SECONDS,
                   probe: bool = True) -> list[Job]:
        """Atomically take due processing jobs (queued, or claimed with an expired lease), with payloads,
        in the order they were accepted. ``probe``: look with a cheap read first and take no write lock
        when nothing is due (False when the caller knows there is a backlog)."""
        now = utcnow()
        if probe and not _CLAIM_JOBS.due(self.s, now):
            return []
        values = {"job_state": "claimed", "job_owner": owner,
                  "job_lease_until": now + dt.timedelta(seconds=lease_seconds)}
        with self.s.write() as c:
            jobs = [Job(**r) for r in _CLAIM_JOBS.take(c, locking=not self.s.db.is_sqlite, now=now, limit=limit,
                                                       values=values)]
        if not jobs:
            return []
        # the jobs need their payloads: read after the claim's commit, so that the write lock every
        # registration waits for is not held while ~40 KB a job are read and decoded (a payload
        # changes only with the outcome its job's holder writes: the claim holds it now)
        with self.s.read() as c:
            payloads = {p["document_id"]: p for p in _PAYLOADS_OF.all(c, [j.id for j in jobs], {})}
        for job in jobs:
            p = payloads.get(job.id)
            if p is not None:
                job.request, job.content = p["request"], p["content"]
        jobs.sort(key=lambda j: j.id)
        return jobs

    def hold(self, doc_ids: list[int], owner: str) -> set[int]:
        """Of ``doc_ids``, the jobs ``owner`` still holds, their rows held until the unit of work ends
        (``FOR UPDATE`` on PostgreSQL; a SQLite write transaction is exclusive): a job whose lease
        lapsed and that another process took over is left to it (one outcome, one callback). A read:
        the outcome written in the same unit of work ends the lease anyway."""
        if not doc_ids:
            return set()
        with self.s.write() as c:
            return {r["id"] for r in _HOLD.all(c, list(doc_ids), {"owner": owner})}

    def finish(self, doc_id: int, outcome: DocumentOutcome, *, content: bytes | None = None) -> None:
        """Record a document's outcome; its job is done. ``content`` replaces the stored file (a
        document pulled from the system)."""
        self.finish_all([(doc_id, outcome, content)])

    def finish_all(self, finished: list[tuple[int, DocumentOutcome, bytes | None]]) -> None:
        """Record the outcomes of several documents (id, outcome, pulled file or None) as :meth:`finish`
        does each: one ``executemany`` per shape of outcome (registered or not)."""
        self.finish_bound([self.bind_outcome(doc_id, outcome, content=content) for doc_id, outcome, content in finished])

    def bind_outcome(self, doc_id: int, outcome: DocumentOutcome, *, content: bytes | None = None,
                     now: dt.datetime | None = None) -> BoundOutcome:
        """The outcome's statement parameters, made ready (JSON, dates) before the write that
        :meth:`finish_bound` runs; reads nothing, takes no lock."""
        values = {k: v for k, v in vars(outcome).items() if v is not None}
        values.update(job_state="done", job_lease_until=None, updated_at=now or utcnow())
        registered = all(k in values for k in _REGISTERED_FIELDS)
        row = None
        if values.keys() == _SHAPES[registered]:
            params = {_SET_NAMES[k]: v for k, v in values.items()}
            params["doc_id"] = doc_id
            row = _FINISH[registered].bind(self.s.db.engine.dialect, params)
        return BoundOutcome(doc_id, row, values, content)

    def finish_bound(self, outcomes: list[BoundOutcome]) -> None:
        """Record outcomes made ready by :meth:`bind_outcome`: one ``executemany`` per shape of outcome."""
        if not outcomes:
            return
        shaped: dict[Any, list[BoundRow]] = {}
        with self.s.write() as c:
            for o in outcomes:
                if o.content is not None:
                    c.execute(update(t.payloads).where(t.payloads.c.document_id == o.doc_id).values(content=o.content))
                if o.row is None:
                    c.execute(update(t.documents).where(t.documents.c.id == o.doc_id).values(**o.values))
                else:
                    shaped.setdefault(o.row.compiled, []).append(o.row)
            for rows in shaped.values():
                run_many(c, rows)  # one per shape, of the statements built once (this runs per batch)

    def renew_leases(self, owner: str) -> int:
        """Extend the leases of the jobs ``owner`` holds: its work still runs."""
        d = t.documents.c
        until = utcnow() + dt.timedelta(seconds=LEASE_SECONDS)
        with self.s.write() as c:
            return int(c.execute(update(t.documents).where(d.job_state == "claimed", d.job_owner == owner)
                                 .values(job_lease_until=until)).rowcount)

    def make_due(self) -> int:
        """Make every queued job due now (the virtual clock); returns how many."""
        with self.s.write() as c:
            return int(c.execute(update(t.documents).where(t.documents.c.job_state == "queued")
                                 .values(job_due_at=utcnow())).rowcount)

    def count_jobs(self) -> int:
        """Jobs queued or in hand."""
        with self.s.read() as c:
            return int(c.execute(select(func.count()).select_from(t.documents)
                                 .where(t.documents.c.job_state.in_(("queued", "claimed")))).scalar_one())

    def lock(self, doc_ids: Iterable[int]) -> None:
        """Hold the rows of ``doc_ids`` until the unit of work ends (PostgreSQL ``FOR UPDATE``, in id
        order; SQLite write transactions are exclusive already)."""
        ids = sorted(set(doc_ids))
        if ids and not self.s.db.is_sqlite:
            with self.s.write() as c:
                c.execute(select(t.documents.c.id).where(t.documents.c.id.in_(ids))
                          .order_by(t.documents.c.id).with_for_update())

    # ---- seeding -------------------------------------------------------------------------------
    def seed(self, doc: SeededDocument) -> Document:
        """Insert a document that is registered already (admin seeding)."""
        now = utcnow()
        row = {"status": "registered", "received_at": now, "updated_at": now, "job_state": "done", "seeded": True,
               **fit_columns(t.documents, vars(doc)), "local_uid_key": doc.local_uid.lower()}
        with self.s.write() as c:
            doc_id = int(c.execute(_INSERT_DOCUMENT, row).scalar_one())
        return Document(id=doc_id, **row)
