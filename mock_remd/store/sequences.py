"""Numbers unique in the store (the sequence of emdrIds)."""

from __future__ import annotations

from mock_remd.store import schema as t
from mock_remd.store.session import Session, increment


class Sequences:
    """Named counters in ``counters``."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def next(self, name: str) -> int:
        """The next number of the sequence ``name`` (1 first), atomically."""
        with self.s.write() as c:
            return increment(self.s.db, c, t.counters, t.counters.c.name, name, t.counters.c.value)
