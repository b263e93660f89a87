"""The request journal: every SOAP request as it was answered, newest first, bounded in size."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, delete, func, select
from sqlalchemy.engine import Connection

from mock_remd.store import schema as t
from mock_remd.store.clock import utcnow
from mock_remd.store.group_commit import GroupCommitter
from mock_remd.store.prepared import PreparedInsert
from mock_remd.store.record import Record
from mock_remd.store.session import Session

# the journal insert of every request runs on the DBAPI cursor (store/prepared.py)
#: ``requests.http_status`` (NOT NULL) of a request that got no HTTP answer (the connection was dropped)
NO_ANSWER = 0
_JOURNAL_REQUEST = PreparedInsert(t.requests, returning="id")
#: column lengths of the journal (values cut to fit)
_REQUEST_LENGTHS = {str(c.name): c.type.length for c in t.requests.c if getattr(c.type, "length", None)}


def _fits(row: dict[str, Any]) -> bool:
    """True when :func:`fit_columns` would change nothing in the journal row ``row`` (one pass, every request)."""
    lengths = _REQUEST_LENGTHS
    for k, v in row.items():
        if isinstance(v, str):
            limit = lengths.get(k)
            if limit and len(v) > limit:
                return False
        elif isinstance(v, int) and not isinstance(v, bool) and not -(2**31) <= v < 2**31:
            return False
    return True


def fit_columns(table: Any, values: dict[str, Any]) -> dict[str, Any]:
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


@dataclass
class NewJournalEntry:
    """A request to journal (``received_at`` defaults to now)."""

    operation: str
    message_id: str = ""
    system: str = ""
    client_entity_id: str = ""
    local_uid: str = ""
    kind: str = ""
    sync_status: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: None: no HTTP answer was sent (a scenario dropped the connection)
    http_status: int | None = 200
    soap_version: str = ""
    scenario: Any = None
    duration_ms: float = 0.0
    detail: dict[str, Any] | None = None
    received_at: dt.datetime = field(default_factory=utcnow)


@dataclass
class JournalEntry(Record):
    """One journaled request."""

    id: int
    message_id: str
    operation: str
    received_at: dt.datetime
    system: str = ""
    client_entity_id: str = ""
    local_uid: str = ""
    kind: str = ""
    sync_status: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: None: no HTTP answer was sent (stored as NO_ANSWER)
    http_status: int | None = 200
    soap_version: str = ""
    scenario: Any = None
    duration_ms: float = 0.0
    detail: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.http_status == NO_ANSWER:
            self.http_status = None


def _row(entry: NewJournalEntry) -> dict[str, Any]:
    """The journal row of ``entry`` (its fields; not a copy unless something changes)."""
    row = vars(entry)  # not changed: the insert completes a copy
    if entry.http_status is None:
        row = {**row, "http_status": NO_ANSWER}
    # the journal keeps what a client sent, however long (cut to the columns)
    if not _fits(row):
        row = fit_columns(t.requests, row)
    return row


class _Append:
    """The group commit's write of one journal entry: alone, or with the batch's others (:meth:`apply_many`)."""

    __slots__ = ("journal", "entry")

    def __init__(self, journal: Journal, entry: NewJournalEntry) -> None:
        self.journal = journal
        self.entry = entry

    def __call__(self, c: Connection) -> int:
        return self.journal.insert(c, self.entry)

    @staticmethod
    def apply_many(c: Connection, writes: list[_Append]) -> list[int]:
        """The entries of ``writes`` in one multi-row insert per journal; their ids."""
        ids: dict[int, int] = {}
        journals: dict[int, tuple[Journal, list[_Append]]] = {}
        for w in writes:
            journals.setdefault(id(w.journal), (w.journal, []))[1].append(w)
        for journal, mine in journals.values():
            for w, rid in zip(mine, journal.insert_many(c, [w.entry for w in mine]), strict=True):
                ids[id(w)] = rid
        return [ids[id(w)] for w in writes]


class Journal:
    """Appends to and reads of ``requests``."""

    def __init__(self, session: Session, *, size: int = 10000, group: GroupCommitter | None = None) -> None:
        self.s = session
        self.size = size
        self.group = group
        self._inserts = 0

    def add(self, entry: NewJournalEntry) -> int:
        """Append a journal entry (in a group commit with other request threads' writes)."""
        if self.group is None:
            with self.s.write() as c:
                return self.insert(c, entry)
        return self.group.submit(_Append(self, entry))

    def insert(self, c: Connection, entry: NewJournalEntry) -> int:
        """Append ``entry`` on ``c``; prunes the oldest beyond ``size`` now and then. Returns its id."""
        rid = int(_JOURNAL_REQUEST.insert(c, _row(entry)))
        self._inserts += 1
        if self._inserts % 100 == 0 or rid % 100 == 0:
            self._prune(c, rid)
        return rid

    def insert_many(self, c: Connection, entries: list[NewJournalEntry]) -> list[int]:
        """Append ``entries`` on ``c`` in one multi-row insert (a group commit's batch); prunes as
        :meth:`insert` of each would. Their ids (in their order on SQLite; on PostgreSQL in the order
        the database gives them)."""
        if not entries:
            return []
        rids = _JOURNAL_REQUEST.insert_many(c, [_row(e) for e in entries])
        before = self._inserts
        self._inserts += len(entries)
        if self._inserts // 100 != before // 100 or any(rid % 100 == 0 for rid in rids):
            self._prune(c, max(rids))
        return rids

    def _prune(self, c: Connection, rid: int) -> None:
        cutoff = rid - self.size
        if cutoff > 0:
            c.execute(delete(t.requests).where(t.requests.c.id <= cutoff))

    def list(self, *, message_id: str = "", local_uid: str = "", system: str = "", limit: int = 100,
             offset: int = 0) -> tuple[list[JournalEntry], int]:
        """Entries matching the filters, newest first, and how many match."""
        conds = []
        if message_id:
            conds.append(t.requests.c.message_id == message_id)
        if local_uid:
            conds.append(func.lower(t.requests.c.local_uid) == local_uid.lower())
        if system:
            conds.append(t.requests.c.system == system)
        where = and_(*conds) if conds else None
        with self.s.read() as c:
            q = select(t.requests)
            cq = select(func.count()).select_from(t.requests)
            if where is not None:
                q, cq = q.where(where), cq.where(where)
            rows = c.execute(q.order_by(t.requests.c.id.desc()).limit(limit).offset(offset)).all()
            total = c.execute(cq).scalar_one()
        return JournalEntry.all(rows), int(total)

    def polls_since(self, system: str, since: dt.datetime) -> list[JournalEntry]:
        """The system's searchRegistryItem and getRegistryItem requests received since ``since``, oldest first."""
        r = t.requests.c
        q = (select(t.requests).where(r.system == system)
             .where(r.operation.in_(("searchRegistryItem", "getRegistryItem")))
             .where(r.received_at >= since).order_by(r.id).limit(50))
        with self.s.read() as c:
            return JournalEntry.all(c.execute(q))

    def sync_answers(self, message_ids: list[str]) -> dict[str, JournalEntry]:
        """Entries of registerDocument requests by message id (the synchronous answers given)."""
        if not message_ids:
            return {}
        r = t.requests.c
        q = select(t.requests).where(r.message_id.in_(message_ids)).where(r.operation == "registerDocument")
        with self.s.read() as c:
            return {e.message_id: e for e in JournalEntry.all(c.execute(q))}
