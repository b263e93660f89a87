"""Numbers unique in the store (the sequence of emdrIds)."""

from __future__ import annotations

from sqlalchemy import Integer, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mock_remd.store import schema as t
from mock_remd.store.prepared import Prepared
from mock_remd.store.session import Session


def _next_statement(dialect_insert) -> Prepared:  # noqa: ANN001 - sqlite's or PostgreSQL's insert()
    """``INSERT … ON CONFLICT (name) DO UPDATE SET value = value + :count RETURNING value``, built once:
    numbers are drawn for every batch of registered documents."""
    c = t.counters.c
    count = bindparam("count", type_=Integer())
    stmt = (dialect_insert(t.counters).values(name=bindparam("name"), value=count)
            .on_conflict_do_update(index_elements=[c.name], set_={"value": c.value + count}).returning(c.value))
    return Prepared(stmt, ["name", "count"])


_NEXT = {True: _next_statement(sqlite_insert), False: _next_statement(pg_insert)}


class Sequences:
    """Named counters in ``counters``."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def next(self, name: str) -> int:
        """The next number of the sequence ``name`` (1 first), atomically."""
        return self.take(name, 1)[0]

    def take(self, name: str, count: int) -> list[int]:
        """The next ``count`` numbers of the sequence ``name``, in order, atomically (one statement)."""
        if count <= 0:
            return []
        with self.s.write() as c:
            last = int(_NEXT[self.s.db.is_sqlite].scalar(c, {"name": name, "count": count}))
        return list(range(last - count + 1, last + 1))
