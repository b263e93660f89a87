"""The store: every read and write of systems, journal, documents, deliveries and scenario state.

The registry core and the admin API use this class; the SOAP layer never does. Claims of work (the
processing jobs and the callback outbox) are single atomic ``UPDATE … RETURNING`` statements, with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several processes never take the same row.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, literal_column, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from mock_remd.store import schema as t
from mock_remd.store.clock import utcnow
from mock_remd.store.engine import SYSTEMS_LOCK_KEY, Database
from mock_remd.store.group_commit import GroupCommitter
from mock_remd.store.prepared import LARGE_BLOB_BYTES, Prepared, PreparedInsert, SqliteBlob

SYSTEM_FIELDS = (
    "mnemonic",
    "client_entity_id",
    "callback_url",
    "document_url",
    "organizations",
    "enabled",
    "send_to_fremd",
    "require_system",
    "callback_soap_version",
)


# Statements of the hot path, built once: executing a prepared construct with a parameter dict
# skips SQLAlchemy's per-call statement building (measured: half the cost of an accepted request).
_INSERT_DOCUMENT = insert(t.documents).returning(t.documents.c.id)
_PAYLOAD_FIELDS = ("request", "content")
_INSERT_DELIVERY = insert(t.outbox)
_ACTIVE_SCENARIOS = select(t.active_scenarios)
_ACTIVE_BY_KEY = (
    select(t.documents.c.id, t.documents.c.status, t.documents.c.emdr_id, t.documents.c.local_uid,
           t.documents.c.system, t.documents.c.organization)
    .where(t.documents.c.local_uid_key == bindparam("key"))
    .where(t.documents.c.status.in_([literal_column("'registered'"), literal_column("'pending'")]))
    .order_by(t.documents.c.id.desc())
    .limit(1)
)
# … and those of every accepted registration run on the DBAPI cursor (store/prepared.py): the
# duplicate read and the three inserts cost 0.1 ms of CPU less each than through execute()
_ACCEPT_DUPLICATE = Prepared(_ACTIVE_BY_KEY, ["key"])
_ACCEPT_DOCUMENT = PreparedInsert(t.documents, returning="id")
_ACCEPT_PAYLOAD = PreparedInsert(t.payloads)
_JOURNAL_REQUEST = PreparedInsert(t.requests, returning="id")
_CONTENT_IN_PLACE = SqliteBlob(t.payloads, "content", "document_id")
#: column lengths of the journal (values cut to fit)
_REQUEST_LENGTHS = {c.name: c.type.length for c in t.requests.c if getattr(c.type, "length", None)}


def _fit_columns(table: Any, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with strings cut to their column's length and integers that no column can hold dropped."""
    out = dict(values)
    for name, value in values.items():
        col = table.c.get(name)
        if col is None:
            continue
        length = getattr(col.type, "length", None)
        if isinstance(value, str) and length and len(value) > length:
            out[name] = value[: length - 1] + "…"
        elif isinstance(value, int) and not isinstance(value, bool) and not -(2**31) <= value < 2**31:
            out[name] = 0
    return out


#: a registered document that a newer version replaced (searches return current versions only)
_SUPERSEDED = (
    select(t.links.c.id)
    .where(t.links.c.target_document_id == t.documents.c.id)
    .where(t.links.c.is_version.is_(True))
    .exists()
)
#: the longest version chain walked (a guard against a cycle a hand-edited store could hold)
MAX_CHAIN = 1000


#: how long a claim of work (a processing job, a callback delivery) holds without renewal; its holder
#: renews it every :data:`LEASE_RENEW_SECONDS` while the work runs, so work of a killed process is
#: taken over by another within this time
LEASE_SECONDS = 10.0
LEASE_RENEW_SECONDS = 2.0


def _row(r: Any) -> dict[str, Any]:
    return dict(r._mapping) if r is not None else None  # type: ignore[return-value]


class Store:
    """Persistence of one mock-remd instance (SQLite file, SQLite memory or PostgreSQL)."""

    def __init__(self, url: str, *, journal_size: int = 10000) -> None:
        self.db = Database(url)
        self.journal_size = journal_size
        self._journal_inserts = 0
        self._group = GroupCommitter(self.db)

    @property
    def url(self) -> str:
        return self.db.url

    def after_fork(self) -> None:
        """Drop connections inherited from the parent process."""
        self.db.dispose()

    def ping(self) -> bool:
        """True when the database answers."""
        with self.db.transaction(write=False) as c:
            return c.execute(text("SELECT 1")).scalar() == 1

    # ---- systems -------------------------------------------------------------------------------
    def upsert_system(self, system: dict[str, Any], source: str = "admin") -> dict[str, Any]:
        """Create or replace a system by mnemonic."""
        values = {k: system[k] for k in SYSTEM_FIELDS if k in system}
        values["source"] = source
        values["updated_at"] = utcnow()
        with self.db.transaction() as c:
            self.db.advisory_lock(c, SYSTEMS_LOCK_KEY)  # two instances seeding the same config at once
            c.execute(delete(t.systems).where(t.systems.c.mnemonic == values["mnemonic"]))
            c.execute(
                delete(t.systems).where(t.systems.c.client_entity_id == values["client_entity_id"])
            )
            c.execute(insert(t.systems).values(**values))
        return self.get_system(values["mnemonic"])  # type: ignore[return-value]

    def get_system(self, mnemonic: str) -> dict[str, Any] | None:
        with self.db.transaction(write=False) as c:
            return _row(c.execute(select(t.systems).where(t.systems.c.mnemonic == mnemonic)).first())

    def system_by_client_id(self, client_entity_id: str) -> dict[str, Any] | None:
        with self.db.transaction(write=False) as c:
            return _row(
                c.execute(
                    select(t.systems).where(func.lower(t.systems.c.client_entity_id) == client_entity_id.lower())
                ).first()
            )

    def list_systems(self) -> list[dict[str, Any]]:
        with self.db.transaction(write=False) as c:
            return [_row(r) for r in c.execute(select(t.systems).order_by(t.systems.c.mnemonic))]

    def delete_system(self, mnemonic: str) -> bool:
        with self.db.transaction() as c:
            return c.execute(delete(t.systems).where(t.systems.c.mnemonic == mnemonic)).rowcount > 0

    # ---- journal -------------------------------------------------------------------------------
    def add_request(self, entry: dict[str, Any]) -> int:
        """Append a journal entry; prunes the oldest beyond ``journal_size`` now and then."""
        return self._group.submit(lambda c: self._insert_journal(c, entry))

    def _insert_journal(self, c: Connection, entry: dict[str, Any]) -> int:
        # the journal keeps what a client sent, however long (cut to the columns)
        if any(isinstance(v, str) and len(v) > _REQUEST_LENGTHS.get(k, len(v)) for k, v in entry.items()) or any(
                isinstance(v, int) and not isinstance(v, bool) and not -(2**31) <= v < 2**31 for v in entry.values()):
            entry = _fit_columns(t.requests, entry)
        if "received_at" not in entry:
            entry = {**entry, "received_at": utcnow()}
        rid = int(_JOURNAL_REQUEST.insert(c, entry))
        self._journal_inserts += 1
        if self._journal_inserts % 100 == 0 or rid % 100 == 0:
            cutoff = rid - self.journal_size
            if cutoff > 0:
                c.execute(delete(t.requests).where(t.requests.c.id <= cutoff))
        return rid

    def list_requests(
        self, *, message_id: str = "", local_uid: str = "", system: str = "", limit: int = 100, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        conds = []
        if message_id:
            conds.append(t.requests.c.message_id == message_id)
        if local_uid:
            conds.append(func.lower(t.requests.c.local_uid) == local_uid.lower())
        if system:
            conds.append(t.requests.c.system == system)
        where = and_(*conds) if conds else None
        with self.db.transaction(write=False) as c:
            q = select(t.requests)
            cq = select(func.count()).select_from(t.requests)
            if where is not None:
                q, cq = q.where(where), cq.where(where)
            rows = c.execute(q.order_by(t.requests.c.id.desc()).limit(limit).offset(offset)).all()
            total = c.execute(cq).scalar_one()
        return [_row(r) for r in rows], int(total)

    # ---- documents -----------------------------------------------------------------------------
    def find_active_by_local_uid(self, local_uid: str) -> dict[str, Any] | None:
        """The registered or still pending document with this localUid, if any (duplicate check)."""
        with self.db.transaction(write=False) as c:
            return _row(c.execute(_ACTIVE_BY_KEY, {"key": local_uid.lower()}).first())

    def accept_unless_duplicate(self, values: dict[str, Any], journal: dict[str, Any]) -> dict[str, Any] | None:
        """In one transaction: if a registered or pending document has this localUid, return it and
        change nothing; else accept the document (job queued) and journal the request."""
        now = utcnow()
        row = {"status": "pending", "received_at": now, "updated_at": now, "job_state": "queued", "job_due_at": now,
               **values, "local_uid_key": values["local_uid"].lower()}
        payload = {k: row.pop(k, None) for k in _PAYLOAD_FIELDS}

        def write(c: Connection) -> dict[str, Any] | None:
            existing = _ACCEPT_DUPLICATE.first(c, {"key": row["local_uid_key"]})
            if existing is not None:
                return existing
            doc_id = _ACCEPT_DOCUMENT.insert(c, row)
            content = payload["content"]
            if content is not None and len(content) > LARGE_BLOB_BYTES and self.db.is_sqlite:
                _ACCEPT_PAYLOAD.insert(c, {"document_id": doc_id, "request": payload["request"], "content": None})
                _CONTENT_IN_PLACE.write(c, doc_id, content)
            else:
                _ACCEPT_PAYLOAD.insert(c, {"document_id": doc_id, **payload})
            self._insert_journal(c, journal)
            return None

        return self._group.submit(write)

    def get_payload(self, doc_id: int) -> tuple[dict[str, Any] | None, bytes | None]:
        """The stored request metadata and CDA bytes of a document."""
        with self.db.transaction(write=False) as c:
            r = c.execute(select(t.payloads.c.request, t.payloads.c.content).where(t.payloads.c.document_id == doc_id)).first()
        return (r.request, r.content) if r is not None else (None, None)

    def _with_payload(self, row: dict[str, Any] | None) -> dict[str, Any] | None:
        if row is None:
            return None
        row["request"], row["content"] = self.get_payload(row["id"])
        return row

    def _claim_statement(self, table: Any, *, state: Any, free: str, taken: str, due_at: Any, lease_until: Any,
                         claim_values: dict[str, Any], limit: int) -> Any:
        """The shared claim: rows in state ``free`` and due, or ``taken`` with an expired lease, moved to
        ``taken`` with ``claim_values`` by one ``UPDATE … RETURNING`` (``SKIP LOCKED`` on PostgreSQL).
        None when nothing is due (checked with a cheap read, so idle polls take no write lock)."""
        now = utcnow()
        due = or_(and_(state == free, due_at <= now), and_(state == taken, lease_until < now))
        with self.db.transaction(write=False) as c:
            if c.execute(select(table.c.id).where(due).limit(1)).first() is None:
                return None
        sub = select(table.c.id).where(due).order_by(due_at).limit(limit)
        if not self.db.is_sqlite:
            sub = sub.with_for_update(skip_locked=True)
        return update(table).where(table.c.id.in_(sub.scalar_subquery())).values(**claim_values).returning(*table.c)

    def claim_jobs(self, owner: str, *, limit: int = 4, lease_seconds: float = LEASE_SECONDS) -> list[dict[str, Any]]:
        """Atomically take due processing jobs (queued, or claimed with an expired lease), with payloads."""
        d = t.documents.c
        lease = utcnow() + dt.timedelta(seconds=lease_seconds)
        stmt = self._claim_statement(t.documents, state=d.job_state, free="queued", taken="claimed", due_at=d.job_due_at,
                                 lease_until=d.job_lease_until, limit=limit,
                                 claim_values={"job_state": "claimed", "job_owner": owner, "job_lease_until": lease})
        if stmt is None:
            return []
        with self.db.transaction() as c:
            rows = [_row(r) for r in c.execute(stmt)]
            if rows:  # the job needs its payload: read it in the same transaction
                payloads = {
                    p.document_id: p
                    for p in c.execute(select(t.payloads).where(t.payloads.c.document_id.in_([r["id"] for r in rows])))
                }
                for r in rows:
                    p = payloads.get(r["id"])
                    r["request"], r["content"] = (p.request, p.content) if p is not None else (None, None)
            return rows

    def finish_documents(self, items: list[tuple[int, dict[str, Any], Any, str | None]], *,
                         owner: str | None = None) -> list[int]:
        """Store the outcomes of several documents and queue their callbacks in one transaction.

        Each item is ``(doc_id, values, build, sequence)``. With ``build`` the values and the
        deliveries are made inside the transaction from the next number of ``sequence`` (so a
        registration number and its callback are written together, or not at all). With ``owner``
        only the jobs this owner still holds are written (a job whose lease lapsed and that another
        process took over is left to it: one outcome, one callback). Returns the ids written.
        """
        now = utcnow()
        written: list[int] = []
        with self.db.transaction() as c:
            held = None
            if owner is not None and items:
                d = t.documents.c
                held = {r[0] for r in c.execute(
                    update(t.documents)
                    .where(d.id.in_([i[0] for i in items]), d.job_owner == owner, d.job_state == "claimed")
                    .values(job_lease_until=now + dt.timedelta(seconds=LEASE_SECONDS))
                    .returning(d.id))}
            for doc_id, values, build, sequence in items:
                if held is not None and doc_id not in held:
                    continue
                written.append(doc_id)
                deliveries: list[dict[str, Any]] = []
                if build is not None:
                    seq = self._next_sequence(c, sequence) if sequence else None
                    values, deliveries = build(seq)
                values = dict(values)
                links = values.pop("links", None) or []
                if "content" in values:
                    c.execute(update(t.payloads).where(t.payloads.c.document_id == doc_id)
                              .values(content=values.pop("content")))
                c.execute(
                    update(t.documents)
                    .where(t.documents.c.id == doc_id)
                    .values(**values, job_state="done", job_lease_until=None, updated_at=now)
                )
                for d in deliveries:
                    c.execute(_INSERT_DELIVERY, self._delivery_row(d, now))
                for link in links:
                    c.execute(insert(t.links).values(**_fit_columns(t.links, link), document_id=doc_id,
                                                     created_at=now))
        return written

    def renew_leases(self, owner: str, kind: str) -> int:
        """Extend the leases ``owner`` holds on ``kind`` (``jobs`` or ``deliveries``): its work still runs."""
        until = utcnow() + dt.timedelta(seconds=LEASE_SECONDS)
        if kind == "jobs":
            d = t.documents.c
            stmt = update(t.documents).where(d.job_state == "claimed", d.job_owner == owner).values(job_lease_until=until)
        else:
            o = t.outbox.c
            stmt = update(t.outbox).where(o.status == "sending", o.owner == owner).values(lease_until=until)
        with self.db.transaction() as c:
            return int(c.execute(stmt).rowcount)

    def next_sequence(self, name: str) -> int:
        """A sequence number unique in the store (for emdrId)."""
        with self.db.transaction() as c:
            return self._next_sequence(c, name)

    def _next_sequence(self, c: Connection, name: str) -> int:
        return self._increment(c, t.counters, t.counters.c.name, name, t.counters.c.value)

    def _upsert(self, table: Any, key: Any, values: dict[str, Any], on_conflict: dict[str, Any]) -> Any:
        """``INSERT … ON CONFLICT (key) DO UPDATE``: one statement, no race between two first writers."""
        dialect_insert = sqlite_insert if self.db.is_sqlite else pg_insert
        return dialect_insert(table).values(**values).on_conflict_do_update(index_elements=[key], set_=on_conflict)

    def _increment(self, c: Connection, table: Any, key: Any, name: str, value: Any) -> int:
        """Add one to the counter ``name`` (created at 1) and return the new value, atomically."""
        stmt = self._upsert(table, key, {key.name: name, value.name: 1}, {value.name: value + 1}).returning(value)
        return int(c.execute(stmt).scalar_one())

    def get_document(self, local_uid: str) -> dict[str, Any] | None:
        """The newest attempt for ``local_uid`` (case-insensitive), with its request and content."""
        with self.db.transaction(write=False) as c:
            row = _row(
                c.execute(
                    select(t.documents)
                    .where(t.documents.c.local_uid_key == local_uid.lower())
                    .order_by(t.documents.c.id.desc())
                    .limit(1)
                ).first()
            )
        return self._with_payload(row)

    def document_history(self, local_uid: str) -> list[dict[str, Any]]:
        """Every attempt for ``local_uid``, newest first (without content)."""
        cols = list(t.documents.c)
        with self.db.transaction(write=False) as c:
            return [
                _row(r)
                for r in c.execute(
                    select(*cols)
                    .where(t.documents.c.local_uid_key == local_uid.lower())
                    .order_by(t.documents.c.id.desc())
                )
            ]

    def get_document_by_id(self, doc_id: int) -> dict[str, Any] | None:
        """One attempt by its id, with its request and content."""
        with self.db.transaction(write=False) as c:
            row = _row(c.execute(select(t.documents).where(t.documents.c.id == doc_id)).first())
        return self._with_payload(row)

    def list_documents(self, *, status: str = "", system: str = "", kind: str = "", limit: int = 100,
                       offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        cols = list(t.documents.c)
        conds = []
        if status:
            conds.append(t.documents.c.status == status)
        if system:
            conds.append(t.documents.c.system == system)
        if kind:
            conds.append(t.documents.c.kind == kind)
        with self.db.transaction(write=False) as c:
            q = select(*cols)
            cq = select(func.count()).select_from(t.documents)
            if conds:
                q, cq = q.where(and_(*conds)), cq.where(and_(*conds))
            rows = c.execute(q.order_by(t.documents.c.id.desc()).limit(limit).offset(offset)).all()
            total = c.execute(cq).scalar_one()
        return [_row(r) for r in rows], int(total)

    def registered_by_emdr_id(self, emdr_id: str) -> dict[str, Any] | None:
        with self.db.transaction(write=False) as c:
            return _row(
                c.execute(
                    select(t.documents).where(t.documents.c.emdr_id == emdr_id).where(t.documents.c.status == "registered")
                ).first()
            )

    def search_registered(
        self,
        *,
        organizations: list[str],
        organization: str = "",
        kind: str = "",
        begin: dt.datetime | None = None,
        end: dt.datetime | None = None,
        patient_snils: str = "",
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Registered documents of the given organisations matching the filters (oldest first)."""
        cols = list(t.documents.c)
        q = (select(*cols).where(t.documents.c.status == "registered")
             .where(t.documents.c.organization.in_(organizations)).where(~_SUPERSEDED))
        if organization:
            q = q.where(t.documents.c.organization == organization)
        if kind:
            q = q.where(t.documents.c.kind == kind)
        if patient_snils:
            q = q.where(t.documents.c.patient_snils == patient_snils)
        with self.db.transaction(write=False) as c:
            rows = [_row(r) for r in c.execute(q.order_by(t.documents.c.id).limit(limit))]
        # registration_date_time is stored as the registry writes it (text with offset): filter in Python
        if begin or end:

            def inside(r: dict[str, Any]) -> bool:
                try:  # written by the registry as an ISO 8601 date-time with an offset
                    value = dt.datetime.fromisoformat(r.get("registration_date_time") or "")
                except ValueError:
                    return False
                return (begin is None or value >= begin) and (end is None or value <= end)

            rows = [r for r in rows if inside(r)]
        return rows

    # ---- versions and links ----------------------------------------------------------------------
    def registered_by_target(self, target: str) -> dict[str, Any] | None:
        """The registered document an association ``target`` names: by emdrId, else by localUid."""
        target = target.strip()
        if not target:
            return None
        d = t.documents.c
        with self.db.transaction(write=False) as c:
            row = c.execute(select(t.documents).where(d.emdr_id == target).where(d.status == "registered")).first()
            if row is None:
                row = c.execute(select(t.documents).where(d.local_uid_key == target.lower())
                                .where(d.status == "registered").order_by(d.id.desc()).limit(1)).first()
        return _row(row)

    def links_from(self, doc_id: int) -> list[dict[str, Any]]:
        """The links a registered document carries, in request order."""
        with self.db.transaction(write=False) as c:
            return [_row(r) for r in c.execute(select(t.links).where(t.links.c.document_id == doc_id)
                                               .order_by(t.links.c.id))]

    def links_to(self, doc_id: int) -> list[dict[str, Any]]:
        """The links of other registered documents that point at this one, oldest first."""
        with self.db.transaction(write=False) as c:
            return [_row(r) for r in c.execute(select(t.links).where(t.links.c.target_document_id == doc_id)
                                               .order_by(t.links.c.id))]

    def links_of_set_to(self, set_id: str, target_doc_id: int, type_: str) -> list[dict[str, Any]]:
        """Links of type ``type_`` from documents of the version set ``set_id`` to ``target_doc_id``."""
        if not set_id:
            return []
        q = (select(t.links).where(t.links.c.set_id == set_id).where(t.links.c.target_document_id == target_doc_id)
             .where(t.links.c.type == type_))
        with self.db.transaction(write=False) as c:
            return [_row(r) for r in c.execute(q)]

    def current_version(self, doc_id: int) -> dict[str, Any] | None:
        """The newest registered version of the document ``doc_id`` belongs to (itself when not replaced)."""
        with self.db.transaction(write=False) as c:
            cur, seen = doc_id, {doc_id}
            while len(seen) < MAX_CHAIN:
                nxt = c.execute(select(t.links.c.document_id).where(t.links.c.target_document_id == cur)
                                .where(t.links.c.is_version.is_(True)).order_by(t.links.c.id).limit(1)).scalar()
                if nxt is None or nxt in seen:
                    break
                cur = nxt
                seen.add(cur)
            return _row(c.execute(select(t.documents).where(t.documents.c.id == cur)).first())

    def version_chain(self, doc_id: int) -> list[dict[str, Any]]:
        """The registered versions of the document ``doc_id`` belongs to, oldest first (itself alone
        when it has no versions). Each row is the document's row plus ``version_number`` where a
        link recorded it."""
        cols = [c for c in t.documents.c]
        with self.db.transaction(write=False) as c:
            def doc(i: int) -> dict[str, Any] | None:
                return _row(c.execute(select(*cols).where(t.documents.c.id == i)).first())

            def link(where: Any) -> dict[str, Any] | None:
                return _row(c.execute(select(t.links).where(where).where(t.links.c.is_version.is_(True))
                                      .order_by(t.links.c.id).limit(1)).first())

            start = doc(doc_id)
            if start is None:
                return []
            numbers: dict[int, int | None] = {}
            back: list[dict[str, Any]] = []
            cur, seen = doc_id, {doc_id}
            while len(seen) < MAX_CHAIN:
                up = link(t.links.c.document_id == cur)
                if up is None or up["target_document_id"] is None or up["target_document_id"] in seen:
                    break
                numbers.setdefault(cur, up["version_number"])
                numbers.setdefault(up["target_document_id"], up["target_version_number"])
                cur = up["target_document_id"]
                seen.add(cur)
                prev = doc(cur)
                if prev is None:
                    break
                back.append(prev)
            forward: list[dict[str, Any]] = []
            cur = doc_id
            while len(seen) < MAX_CHAIN:
                down = link(t.links.c.target_document_id == cur)
                if down is None or down["document_id"] in seen:
                    break
                numbers.setdefault(cur, down["target_version_number"])
                numbers.setdefault(down["document_id"], down["version_number"])
                cur = down["document_id"]
                seen.add(cur)
                nxt = doc(cur)
                if nxt is None:
                    break
                forward.append(nxt)
        chain = list(reversed(back)) + [start] + forward
        for row in chain:
            row["version_number"] = numbers.get(row["id"])
        return chain

    def seed_documents(self, docs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Insert already-registered documents (admin seeding); assigns emdrIds where missing."""
        out = []
        now = utcnow()
        with self.db.transaction() as c:
            for d in docs:
                row = {
                    "status": "registered",
                    "received_at": now,
                    "updated_at": now,
                    "job_state": "done",
                    "seeded": True,
                    **d,
                }
                if row.get("emdr_id") is None:
                    row["emdr_id"] = d["__emdr_id_factory"](self._next_sequence(c, "emdr"))
                row.pop("__emdr_id_factory", None)
                row["local_uid_key"] = row["local_uid"].lower()
                c.execute(insert(t.documents).values(**row))
                out.append(row)
        return out

    # ---- outbox --------------------------------------------------------------------------------
    @staticmethod
    def _delivery_row(d: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        return {
            "status": "pending",
            "attempts": [],
            "attempt_count": 0,
            "created_at": now,
            "due_at": now,
            **d,
        }

    def enqueue_delivery(self, delivery: dict[str, Any]) -> int:
        """Queue one callback delivery."""
        with self.db.transaction() as c:
            return int(c.execute(_INSERT_DELIVERY.returning(t.outbox.c.id), self._delivery_row(delivery, utcnow())).scalar_one())

    def claim_deliveries(self, owner: str, *, limit: int = 16, lease_seconds: float = LEASE_SECONDS) -> list[dict[str, Any]]:
        """Atomically take due deliveries (pending and due, or sending with an expired lease)."""
        o = t.outbox.c
        lease = utcnow() + dt.timedelta(seconds=lease_seconds)
        stmt = self._claim_statement(t.outbox, state=o.status, free="pending", taken="sending", due_at=o.due_at,
                                 lease_until=o.lease_until, limit=limit,
                                 claim_values={"status": "sending", "owner": owner, "lease_until": lease})
        if stmt is None:
            return []
        with self.db.transaction() as c:
            return [_row(r) for r in c.execute(stmt)]

    def record_attempts(self, results: list[tuple[int, dict[str, Any], bool, dt.datetime | None]], *,
                        owner: str | None = None) -> list[str]:
        """Log attempts ``(delivery_id, attempt, delivered, next_due)`` in one transaction; returns the
        new statuses (``delivered``, ``pending`` for a retry, ``dead``, or ``gone`` if reset meanwhile,
        or, with ``owner``, taken over by another sender after this one's lease lapsed)."""
        now = utcnow()
        statuses = []
        with self.db.transaction() as c:
            for delivery_id, attempt, delivered, next_due in results:
                row = c.execute(select(t.outbox.c.attempts, t.outbox.c.attempt_count, t.outbox.c.owner)
                                .where(t.outbox.c.id == delivery_id)).first()
                if row is None or (owner is not None and row.owner != owner):
                    statuses.append("gone")
                    continue
                status = "delivered" if delivered else ("dead" if next_due is None else "pending")
                c.execute(
                    update(t.outbox)
                    .where(t.outbox.c.id == delivery_id)
                    .values(
                        attempts=list(row.attempts or []) + [attempt],
                        attempt_count=row.attempt_count + 1,
                        status=status,
                        due_at=next_due or now,
                        lease_until=None,
                        owner=None,
                        delivered_at=now if delivered else None,
                    )
                )
                statuses.append(status)
        return statuses

    def list_deliveries(self, *, relates_to: str = "", status: str = "", local_uid: str = "", limit: int = 100,
                        offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        conds = []
        if relates_to:
            conds.append(t.outbox.c.relates_to == relates_to)
        if status:  # one status or several, comma-separated
            conds.append(t.outbox.c.status.in_(status.split(",")))
        if local_uid:
            conds.append(func.lower(t.outbox.c.local_uid) == local_uid.lower())
        with self.db.transaction(write=False) as c:
            q = select(t.outbox)
            cq = select(func.count()).select_from(t.outbox)
            if conds:
                q, cq = q.where(and_(*conds)), cq.where(and_(*conds))
            rows = c.execute(q.order_by(t.outbox.c.id.desc()).limit(limit).offset(offset)).all()
            total = c.execute(cq).scalar_one()
        return [_row(r) for r in rows], int(total)

    def get_delivery(self, delivery_id: int) -> dict[str, Any] | None:
        with self.db.transaction(write=False) as c:
            return _row(c.execute(select(t.outbox).where(t.outbox.c.id == delivery_id)).first())

    def flush_deliveries(self) -> int:
        """Make every pending delivery due now (the virtual clock); returns how many."""
        with self.db.transaction() as c:
            n1 = c.execute(update(t.outbox).where(t.outbox.c.status == "pending").values(due_at=utcnow())).rowcount
            n2 = c.execute(
                update(t.documents).where(t.documents.c.job_state == "queued").values(job_due_at=utcnow())
            ).rowcount
        return int(n1) + int(n2)

    def readdress_pending(self, system: str, old_url: str, new_url: str) -> int:
        """Callbacks of ``system`` not yet delivered to ``old_url`` go to ``new_url`` instead; returns how many.

        An attempt in flight finishes at the old address; its retries go to the new one.
        """
        with self.db.transaction() as c:
            n = c.execute(
                update(t.outbox)
                .where(t.outbox.c.system == system, t.outbox.c.url == old_url,
                       t.outbox.c.status.in_(("pending", "sending")))
                .values(url=new_url)
            ).rowcount
        return int(n)

    def redeliver(self, delivery_id: int) -> dict[str, Any] | None:
        """Queue a delivery again now (attempt log kept; a fresh retry budget)."""
        with self.db.transaction() as c:
            n = c.execute(
                update(t.outbox)
                .where(t.outbox.c.id == delivery_id)
                .values(status="pending", due_at=utcnow(), attempt_count=0, lease_until=None, owner=None)
            ).rowcount
        return self.get_delivery(delivery_id) if n else None

    def count_pending_work(self) -> dict[str, int]:
        """How much asynchronous work is waiting (for /ready details and clean shutdown)."""
        with self.db.transaction(write=False) as c:
            jobs = c.execute(
                select(func.count()).select_from(t.documents).where(t.documents.c.job_state.in_(("queued", "claimed")))
            ).scalar_one()
            deliveries = c.execute(
                select(func.count()).select_from(t.outbox).where(t.outbox.c.status.in_(("pending", "sending")))
            ).scalar_one()
        return {"jobs": int(jobs), "deliveries": int(deliveries)}

    # ---- scenarios -----------------------------------------------------------------------------
    def put_scenario(self, name: str, source: str, origin: str = "upload") -> None:
        with self.db.transaction() as c:
            c.execute(delete(t.scenarios).where(t.scenarios.c.name == name))
            c.execute(insert(t.scenarios).values(name=name, source=source, origin=origin, updated_at=utcnow()))

    def list_scenarios(self) -> list[dict[str, Any]]:
        with self.db.transaction(write=False) as c:
            return [_row(r) for r in c.execute(select(t.scenarios).order_by(t.scenarios.c.name))]

    def delete_scenario(self, name: str) -> bool:
        with self.db.transaction() as c:
            return c.execute(delete(t.scenarios).where(t.scenarios.c.name == name)).rowcount > 0

    def set_active(self, scope: str, names: list[str]) -> None:
        """Activate ``names`` for ``scope`` ("" = everyone, else a system); resets their counters."""
        with self.db.transaction() as c:
            c.execute(delete(t.active_scenarios).where(t.active_scenarios.c.scope == scope))
            if names:
                c.execute(insert(t.active_scenarios).values(scope=scope, names=names, activated_at=utcnow()))
            c.execute(delete(t.scenario_state).where(t.scenario_state.c.key.like(f"nth|{scope}|%")))

    def get_active(self) -> dict[str, list[str]]:
        """Active scenarios by scope (read on every request)."""
        return {r.scope: list(r.names) for r in self.db.read_rows(_ACTIVE_SCENARIOS)}

    def bump_counter(self, key: str) -> int:
        """Increment a scenario counter and return the new value."""
        with self.db.transaction() as c:
            return self._increment(c, t.scenario_state, t.scenario_state.c.key, key, t.scenario_state.c.value)

    # ---- heartbeats ----------------------------------------------------------------------------
    def beat(self, owner: str, role: str) -> None:
        """Record that ``owner`` (a background process) is alive now."""
        now = utcnow()
        with self.db.transaction() as c:
            c.execute(self._upsert(t.heartbeats, t.heartbeats.c.owner,
                                   {"owner": owner, "role": role, "pid": os.getpid(), "at": now}, {"at": now}))

    def forget_beat(self, owner: str) -> None:
        with self.db.transaction() as c:
            c.execute(delete(t.heartbeats).where(t.heartbeats.c.owner == owner))

    def live_beats(self, max_age_seconds: float) -> list[dict[str, Any]]:
        """Background processes that beat within ``max_age_seconds``."""
        since = utcnow() - dt.timedelta(seconds=max_age_seconds)
        with self.db.transaction(write=False) as c:
            return [_row(r) for r in c.execute(select(t.heartbeats).where(t.heartbeats.c.at >= since))]

    # ---- reset ---------------------------------------------------------------------------------
    def reset(self, *, everything: bool = False) -> None:
        """Empty journal, registry and deliveries; ``everything`` also systems and scenarios."""
        with self.db.transaction() as c:
            for table in (t.requests, t.payloads, t.documents, t.links, t.outbox, t.counters, t.scenario_state):
                c.execute(delete(table))
            if everything:
                for table in (t.systems, t.scenarios, t.active_scenarios):
                    c.execute(delete(table))
