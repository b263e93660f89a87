"""Version chains and links between registered documents (``associations/association``).

A link row belongs to the registered document carrying it; a **version link** (``is_version``) points
at the version it replaced. A document is replaced at most once (a partial unique index on PostgreSQL
and SQLite): the version chain is a list, and its head is the current version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select

from mock_remd.store import schema as t
from mock_remd.store.clock import utcnow
from mock_remd.store.documents import Document
from mock_remd.store.journal import fit_columns
from mock_remd.store.record import Record
from mock_remd.store.session import Session

#: the longest version chain walked (a guard against a cycle a hand-edited store could hold)
MAX_CHAIN = 1000


@dataclass
class NewLink:
    """A link to record when its document registers."""

    local_uid: str
    set_id: str
    version_number: int | None
    target: str
    type: str
    type_name: str
    target_document_id: int
    target_local_uid: str
    target_emdr_id: str
    target_version_number: int | None
    is_version: bool


@dataclass
class Link(Record):
    """A recorded link of the registered document ``document_id``."""

    id: int
    document_id: int
    created_at: dt.datetime
    local_uid: str = ""
    set_id: str = ""
    version_number: int | None = None
    target: str = ""
    type: str = ""
    type_name: str = ""
    target_document_id: int | None = None
    target_local_uid: str = ""
    target_emdr_id: str = ""
    target_version_number: int | None = None
    is_version: bool = False


@dataclass
class Version:
    """One registered version of a chain and its versionNumber where a link recorded it."""

    document: Document
    version_number: int | None


class Versions:
    """Reads and writes of ``links``."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, doc_id: int, links: list[NewLink]) -> None:
        """Record the links of the document ``doc_id`` (written with its registration)."""
        if not links:
            return
        now = utcnow()
        with self.s.write() as c:
            for link in links:
                c.execute(insert(t.links).values(**fit_columns(t.links, vars(link)), document_id=doc_id,
                                                 created_at=now))

    def links_from(self, doc_id: int) -> list[Link]:
        """The links a registered document carries, in request order."""
        with self.s.read() as c:
            return Link.all(c.execute(select(t.links).where(t.links.c.document_id == doc_id).order_by(t.links.c.id)))

    def links_to(self, doc_id: int) -> list[Link]:
        """The links of other registered documents that point at this one, oldest first."""
        with self.s.read() as c:
            return Link.all(c.execute(select(t.links).where(t.links.c.target_document_id == doc_id)
                                      .order_by(t.links.c.id)))

    def links_of_set_to(self, set_id: str, target_doc_id: int, type_: str) -> list[Link]:
        """Links of type ``type_`` from documents of the version set ``set_id`` to ``target_doc_id``."""
        if not set_id:
            return []
        q = (select(t.links).where(t.links.c.set_id == set_id).where(t.links.c.target_document_id == target_doc_id)
             .where(t.links.c.type == type_))
        with self.s.read() as c:
            return Link.all(c.execute(q))

    def current(self, doc_id: int) -> Document | None:
        """The newest registered version of the document ``doc_id`` belongs to (itself when not replaced)."""
        with self.s.read() as c:
            cur, seen = doc_id, {doc_id}
            while len(seen) < MAX_CHAIN:
                nxt = c.execute(select(t.links.c.document_id).where(t.links.c.target_document_id == cur)
                                .where(t.links.c.is_version.is_(True)).order_by(t.links.c.id).limit(1)).scalar()
                if nxt is None or nxt in seen:
                    break
                cur = nxt
                seen.add(cur)
            return Document.of(c.execute(select(t.documents).where(t.documents.c.id == cur)).first())

    def chain(self, doc_id: int) -> list[Version]:
        """The registered versions of the document ``doc_id`` belongs to, oldest first (itself alone
        when it has no versions)."""
        with self.s.read() as c:
            def doc(i: int) -> Document | None:
                return Document.of(c.execute(select(t.documents).where(t.documents.c.id == i)).first())

            def link(where: Any) -> Link | None:
                return Link.of(c.execute(select(t.links).where(where).where(t.links.c.is_version.is_(True))
                                         .order_by(t.links.c.id).limit(1)).first())

            start = doc(doc_id)
            if start is None:
                return []
            numbers: dict[int, int | None] = {}
            back: list[Document] = []
            cur, seen = doc_id, {doc_id}
            while len(seen) < MAX_CHAIN:
                up = link(t.links.c.document_id == cur)
                if up is None or up.target_document_id is None or up.target_document_id in seen:
                    break
                numbers.setdefault(cur, up.version_number)
                numbers.setdefault(up.target_document_id, up.target_version_number)
                cur = up.target_document_id
                seen.add(cur)
                prev = doc(cur)
                if prev is None:
                    break
                back.append(prev)
            forward: list[Document] = []
            cur = doc_id
            while len(seen) < MAX_CHAIN:
                down = link(t.links.c.target_document_id == cur)
                if down is None or down.document_id in seen:
                    break
                numbers.setdefault(cur, down.target_version_number)
                numbers.setdefault(down.document_id, down.version_number)
                cur = down.document_id
                seen.add(cur)
                nxt = doc(cur)
                if nxt is None:
                    break
                forward.append(nxt)
        return [Version(d, numbers.get(d.id)) for d in [*reversed(back), start, *forward]]
