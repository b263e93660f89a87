"""The store: one object per aggregate, and units of work spanning them.

``store.systems``, ``store.journal``, ``store.documents``, ``store.versions``, ``store.outbox``,
``store.scenarios``, ``store.heartbeats``, ``store.sequences``, ``store.runs`` and ``store.timeline``
each run their calls as short transactions of their own. ``with store.transaction() as tx:`` gives the
same aggregates on one transaction, so that several writes (a registration number, the document's
outcome, its links and its callbacks) are made together or not at all. The SOAP layer never reaches
the store; nothing outside this package speaks SQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import DateTime, bindparam, delete, func, select, text

from mock_remd.store import schema as t
from mock_remd.store.bulk import Bulk
from mock_remd.store.changes import ChangeWatch
from mock_remd.store.checkpoints import Checkpointer
from mock_remd.store.clock import utcnow
from mock_remd.store.documents import Documents
from mock_remd.store.engine import Database, sqlite_file
from mock_remd.store.group_commit import GroupCommitter
from mock_remd.store.heartbeats import Heartbeats
from mock_remd.store.journal import Journal
from mock_remd.store.outbox import Outbox
from mock_remd.store.runs import Runs
from mock_remd.store.scenarios import Scenarios
from mock_remd.store.sequences import Sequences
from mock_remd.store.session import Autonomous, Bound, Session
from mock_remd.store.systems import Systems
from mock_remd.store.timeline import Timeline
from mock_remd.store.versions import Versions

_DUE_JOBS = select(func.count()).select_from(t.documents).where(
    t.documents.c.job_state.in_(("queued", "claimed")), t.documents.c.job_due_at <= bindparam("now", type_=DateTime()))
_DUE_DELIVERIES = select(func.count()).select_from(t.outbox).where(
    t.outbox.c.status.in_(("pending", "sending")), t.outbox.c.due_at <= bindparam("now", type_=DateTime()))
#: one statement, index reads only: work due, jobs open (due or not) and the newest document's id
_PROGRESS = select(
    _DUE_JOBS.scalar_subquery(), _DUE_DELIVERIES.scalar_subquery(),
    select(func.count()).select_from(t.documents).where(t.documents.c.job_state.in_(("queued", "claimed")))
    .scalar_subquery(),
    select(func.coalesce(func.max(t.documents.c.id), 0)).scalar_subquery())


@dataclass(frozen=True)
class PendingWork:
    """Asynchronous work waiting: processing jobs and callback deliveries."""

    jobs: int
    deliveries: int


@dataclass(frozen=True)
class LegProgress:
    """The asynchronous leg at one moment, as the backpressure reads it (:meth:`Store.leg_progress`)."""

    #: work due now: queued or claimed jobs plus callbacks due
    due: int
    #: jobs queued or claimed, due or not
    jobs_open: int
    #: the newest document's id: documents accepted so far (ids only grow; a reset may lower it)
    jobs_made: int

    @property
    def jobs_finished(self) -> int:
        """Documents accepted whose processing is over (or that never had any to do)."""
        return self.jobs_made - self.jobs_open


class Aggregates:
    """The aggregates of the store on one :class:`~mock_remd.store.session.Session`."""

    def __init__(self, session: Session, *, journal_size: int, group: GroupCommitter | None = None) -> None:
        self.session = session
        self.systems = Systems(session)
        self.journal = Journal(session, size=journal_size, group=group)
        self.documents = Documents(session, group=group)
        self.versions = Versions(session)
        self.outbox = Outbox(session)
        self.scenarios = Scenarios(session)
        self.heartbeats = Heartbeats(session)
        self.sequences = Sequences(session)
        self.runs = Runs(session)
        self.timeline = Timeline(session)
        self.bulk = Bulk(session)


class Store(Aggregates):
    """Persistence of one mock-remd instance (SQLite file, SQLite memory or PostgreSQL)."""

    def __init__(self, url: str, *, journal_size: int = 10000) -> None:
        self.db = Database(url)
        self.journal_size = journal_size
        self.group = GroupCommitter(self.db)
        super().__init__(Autonomous(self.db), journal_size=journal_size, group=self.group)
        self._changes: ChangeWatch | None = None
        self._checkpointer: Checkpointer | None = None

    @property
    def changes(self) -> ChangeWatch:
        """Signs that work may have appeared, for the background loops (made on first use, after fork)."""
        if self._changes is None:
            self._changes = self.db.change_watch()
        return self._changes

    @property
    def url(self) -> str:
        return self.db.url

    @property
    def is_sqlite(self) -> bool:
        return self.db.is_sqlite

    @contextmanager
    def transaction(self) -> Iterator[Aggregates]:
        """A unit of work: ``with store.transaction() as tx: tx.documents.finish(…); tx.outbox.add(…)``
        commits everything done through ``tx`` at the end, or nothing when the block raises. On
        SQLite the transaction is exclusive between processes (``BEGIN IMMEDIATE`` under the writers'
        lock); on PostgreSQL, rows a unit of work must hold are locked with ``FOR UPDATE``."""
        with self.db.transaction() as conn:
            session = Bound(self.db, conn)
            tx = Aggregates(session, journal_size=self.journal_size)
            tx.journal._inserts = self.journal._inserts  # noqa: SLF001 - the pruning cadence is per store
            yield tx
        if session.changed_settings:  # committed: other processes' cached reads are stale now
            self.db.note_settings_change()

    def after_fork(self) -> None:
        """Drop connections inherited from the parent process."""
        self.db.dispose()
        self._changes = None  # a watch's thread does not survive a fork

    def start_checkpoints(self) -> None:
        """Copy a SQLite file's write-ahead log back into it from a thread of this process, so that no
        writer does it while holding the write lock (:mod:`.checkpoints`); nothing for other stores."""
        if self._checkpointer is None and self.db.is_sqlite and sqlite_file(self.db.url) is not None:
            self._checkpointer = Checkpointer(self.db)
            self._checkpointer.start()

    def stop_checkpoints(self) -> None:
        """Stop the thread of :meth:`start_checkpoints`."""
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None

    def stop_watching(self) -> None:
        """Stop the change watch (its LISTEN connection on PostgreSQL); made again on next use."""
        if self._changes is not None:
            self._changes.close()
            self._changes = None

    def close(self) -> None:
        """Close every pooled connection."""
        self.stop_watching()
        self.stop_checkpoints()
        self.group.close()
        self.db.engine.dispose()

    def ping(self) -> bool:
        """True when the database answers."""
        with self.db.transaction(write=False) as c:
            return c.execute(text("SELECT 1")).scalar() == 1

    def count_due_work(self) -> int:
        """Queued or claimed jobs due now plus callbacks due now (what the asynchronous leg is behind by;
        asked a few times a second by each HTTP worker: two index range counts)."""
        now = utcnow()
        with self.db.transaction(write=False) as c:
            return int(c.execute(_DUE_JOBS, {"now": now}).scalar_one()) + int(
                c.execute(_DUE_DELIVERIES, {"now": now}).scalar_one())

    def leg_progress(self) -> LegProgress:
        """Work due, open jobs and documents accepted so far, in one read (asked a few times a second
        by each HTTP worker for the backpressure: index range counts and a max over the primary key)."""
        with self.db.transaction(write=False) as c:
            due_jobs, due_deliveries, jobs_open, made = c.execute(_PROGRESS, {"now": utcnow()}).one()
        return LegProgress(due=int(due_jobs) + int(due_deliveries), jobs_open=int(jobs_open), jobs_made=int(made))

    def count_pending_work(self) -> PendingWork:
        """How much asynchronous work is waiting (processing jobs and callbacks, queued or in hand)."""
        return PendingWork(jobs=self.documents.count_jobs(), deliveries=self.outbox.count_open())

    def make_all_due(self) -> int:
        """The virtual clock: every queued job and pending callback is due now; returns how many."""
        return self.outbox.make_due() + self.documents.make_due()

    def reset(self, *, everything: bool = False) -> None:
        """Empty journal, registry and deliveries; ``everything`` also systems and scenarios."""
        with self.db.transaction() as c:
            for table in (t.requests, t.payloads, t.documents, t.links, t.outbox, t.counters, t.scenario_state):
                c.execute(delete(table))
            if everything:
                for table in (t.systems, t.scenarios, t.active_scenarios):
                    c.execute(delete(table))
        if everything:
            self.db.note_settings_change()

    def drop_all(self) -> None:
        """Drop every table (tests against a shared PostgreSQL)."""
        self.db.drop_all()
