"""Group commit: many request threads' small writes made in one transaction.

Each accepted request needs one short write transaction; under load the writers of all processes
queue for the database's single write lock, and the lock, BEGIN and COMMIT cost more than the
statements. Here a request thread queues its write; the thread that finds no transaction under way
applies everything queued in one transaction while the others wait. The caller returns only after
the commit, so nothing answered as accepted can be lost.

:meth:`GroupCommitter.submit_then` is the same write without the wait: its thread queues the write
and goes on (leading the batch itself when no transaction is under way); the thread that commits the
batch calls the write's continuation with its result or error, after the commit.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Connection

from mock_remd.catalog.incidents import record_incident
from mock_remd.store.engine import Database, WriteLockBusy

#: a continuation of :meth:`GroupCommitter.submit_then`: called with (result, None) or (None, error)
Then = Callable[[Any, BaseException | None], None]

#: most writes applied in one transaction
MAX_BATCH = 64
#: longest a waiting thread sleeps before it looks at its write again (a guard only)
_GUARD_SECONDS = 0.5


class _Slot:
    __slots__ = ("apply", "finished", "gate", "error", "result")

    def __init__(self, apply: Callable[[Connection], Any]) -> None:
        self.apply = apply
        self.finished = False
        #: held until the write is finished; its thread waits to take it. One lock released by the
        #: leader is the one wake-up: a threading.Event's Condition took a lock of its own for each
        #: wait and each set (in Python, with the GIL held), and the woken thread then waited for the
        #: Condition's lock the leader still held
        self.gate = threading.Lock()
        self.gate.acquire()
        self.result: Any = None
        self.error: BaseException | None = None

    def finish(self) -> None:
        """The write is applied (or failed): its thread may go on."""
        self.finished = True
        self.gate.release()


class _Continued(_Slot):
    """A write whose thread did not wait: the committing thread calls ``then`` after the commit."""

    __slots__ = ("then",)

    def __init__(self, apply: Callable[[Connection], Any], then: Then) -> None:  # noqa: D107
        self.apply = apply
        self.finished = False
        self.result = None
        self.error = None
        self.then = then

    def finish(self) -> None:
        """The write is applied (or failed): its continuation runs here, in the committing thread."""
        self.finished = True
        try:
            self.then(self.result, self.error)
        except BaseException:  # the continuation answers its own errors: this only keeps the batch going
            record_incident("continuation of a group-committed write")


def _apply(c: Connection, batch: list[_Slot]) -> None:
    """The writes of ``batch`` on ``c``. Writes that offer ``apply_many`` (a function taking the
    connection and several such writes, giving their results in order: the statements of many in one
    go) are applied together with the others that offer the same function, the rest one by one."""
    together: dict[Callable[..., list[Any]], list[_Slot]] = {}
    for slot in batch:
        many = getattr(slot.apply, "apply_many", None)
        if many is None:
            slot.result = slot.apply(c)
        else:
            together.setdefault(many, []).append(slot)
    for many, slots in together.items():
        if len(slots) == 1:
            slots[0].result = slots[0].apply(c)
            continue
        for slot, result in zip(slots, many(c, [s.apply for s in slots]), strict=True):
            slot.result = result


class GroupCommitter:
    """Applies submitted write functions in shared transactions.

    No writer thread: the first submitting thread that finds no transaction under way becomes the
    leader and applies everything queued, its own write included; the others wait for their slot.
    Handing every write to a dedicated thread cost two thread switches per request.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue: queue.SimpleQueue[_Slot] = queue.SimpleQueue()
        self._leader = threading.Lock()
        #: SQLite file: the leaders' connection, kept between transactions (made in this process)
        self._keeps = db.is_sqlite and not db.is_memory
        self._conn: Connection | None = None
        self._conn_pid = 0
        #: connections a forked child inherited: never used, never closed (they are the parent's)
        self._inherited: list[Connection] = []
        #: where a batch led without waiting goes when the writers' lock is busy (see submit_then)
        self._elsewhere: Callable[[Callable[[], None]], None] | None = None

    def submit(self, apply: Callable[[Connection], Any]) -> Any:
        """Run ``apply(connection)`` in a transaction shared with other threads' writes; returns its
        result (or raises its exception) after the commit. ``apply`` may offer ``apply_many`` to be
        applied with the batch's other writes of its kind (:func:`_apply`); when the batch fails, each
        write is redone alone by ``apply(connection)``."""
        slot = _Slot(apply)
        self._queue.put(slot)
        while not slot.finished:
            if self._leader.acquire(blocking=False):
                self._lead_and_release()
                continue
            # another thread leads: it applies this slot, or sees it queued after its release
            # (_lead_and_release); the timeout is only a guard, never the way a slot is picked up
            # (a 5 ms poll woke every waiting thread 200 times a second: GIL hand-offs for nothing)
            slot.gate.acquire(timeout=_GUARD_SECONDS)
        if slot.error is not None:
            raise slot.error
        return slot.result

    def submit_then(self, apply: Callable[[Connection], Any], then: Then,
                    lead: Callable[[Callable[[], None]], None] | None = None,
                    elsewhere: Callable[[Callable[[], None]], None] | None = None) -> None:
        """Queue ``apply(connection)`` for a shared transaction and return at once (after leading the
        batch when no transaction is under way): ``then(result, None)`` or ``then(None, error)`` is
        called after the commit (or the failure) by the thread that committed it. ``then`` must not
        submit writes itself (it runs while its thread leads).

        ``lead``: the batch is not led now but by the call handed to ``lead`` (an event loop queues the
        writes of all the requests it read at once, then commits them together). That call does not
        wait for the writers' lock held by another process (or thread): the batch is then led by a call
        handed to ``elsewhere`` (a thread that may wait)."""
        self._queue.put(_Continued(apply, then))
        if lead is not None:
            self._elsewhere = elsewhere
            lead(self._lead_unless_busy)
        elif self._leader.acquire(blocking=False):
            self._lead_and_release()
        # else another thread leads: it applies this write, or sees it queued after its release

    def lead_queued(self) -> None:
        """Apply the writes queued unless another thread leads (which then applies them)."""
        if self._leader.acquire(blocking=False):
            self._lead_and_release()

    def _lead_unless_busy(self) -> None:
        """:meth:`lead_queued` without waiting for the writers' lock (see :meth:`submit_then`)."""
        elsewhere = self._elsewhere
        if self._leader.acquire(blocking=False) and not self._lead_and_release(wait=elsewhere is None):
            assert elsewhere is not None
            elsewhere(self.lead_queued)

    def _lead_and_release(self, wait: bool = True) -> bool:
        """Apply what is queued, release the leadership; again while writes are left queued.

        A thread that queued its write after the leader's last look, and found the leadership
        taken, waits: the leader looks at the queue once more after releasing, and either leads
        again or another thread has taken the leadership after the write was queued (and applies it).
        ``wait`` False: False when the writers' lock was held elsewhere (the writes left queued).
        """
        while True:
            try:
                self._lead(wait)
            except WriteLockBusy:
                return False
            finally:
                self._leader.release()
            if self._queue.empty() or not self._leader.acquire(blocking=False):
                return True

    def _lead(self, wait: bool = True) -> None:
        q = self._queue
        while not q.empty():  # only a leader takes from the queue: it is not empty below either
            batch: list[_Slot] = []
            try:
                with self._transaction(wait) as c:
                    # the writes are taken once the write lock is held: those queued while the leader
                    # waited for it (behind the other processes' writers) join this transaction instead
                    # of waiting for the lock once more in the next one. Writes queued while the batch
                    # is applied wait for the next: the lock is not held longer than the batch needs.
                    for _ in range(min(q.qsize(), MAX_BATCH)):
                        batch.append(q.get_nowait())
                    _apply(c, batch)
            except WriteLockBusy:  # (raised before any write was taken)
                raise
            except BaseException as exc:  # one write failed: the batch rolled back; redo each on its own
                self._redo(batch, exc)
                continue
            for slot in batch:
                slot.finish()

    def _redo(self, batch: list[_Slot], exc: BaseException) -> None:
        """After a failed batch: each write on its own, so that only a failing one fails (none taken
        yet, the transaction itself failed: the first queued write gets the error)."""
        if not batch:
            try:
                batch = [self._queue.get_nowait()]
            except queue.Empty:
                return
        if len(batch) == 1:
            batch[0].error = exc
            batch[0].finish()
            return
        for slot in batch:
            try:
                with self._transaction() as c:
                    slot.result = slot.apply(c)
            except BaseException as alone:  # noqa: BLE001 - handed to the slot's thread, raised there
                slot.error = alone
            slot.finish()

    def close(self) -> None:
        """Close the kept connection (the store closes)."""
        with self._leader:
            conn, self._conn = self._conn, None
        if conn is not None and self._conn_pid == os.getpid():
            conn.close()

    @contextmanager
    def _transaction(self, wait: bool = True) -> Iterator[Connection]:
        """A write transaction for a batch (only the leader calls it): on SQLite files on the kept
        connection, made anew after a failure and in a forked child (``wait`` False: :class:`WriteLockBusy`
        when the writers' lock is held elsewhere)."""
        if not self._keeps:
            with self.db.transaction() as c:
                yield c
            return
        conn = self._conn
        if conn is not None and self._conn_pid != os.getpid():
            self._inherited.append(conn)
            conn = self._conn = None
        if conn is None:
            conn = self._conn = self.db.engine.connect()
            self._conn_pid = os.getpid()
        try:
            with self.db.transaction_on(conn, wait) as c:
                yield c
        except WriteLockBusy:  # nothing was begun on the connection
            raise
        except BaseException:
            self._conn = None  # whatever state the failure left it in, the next batch starts afresh
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection; the write's error is what counts
                pass
            raise
