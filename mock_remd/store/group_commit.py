"""Group commit: many request threads' small writes made in one transaction.

Each accepted request needs one short write transaction; under load the writers of all processes
queue for the database's single write lock, and the lock, BEGIN and COMMIT cost more than the
statements. Here a request thread hands its write to the process's writer thread and waits; the
writer takes everything queued and applies it in one transaction. The caller returns only after
the commit, so nothing answered as accepted can be lost.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection

from mock_remd.store.engine import Database

#: most writes applied in one transaction
MAX_BATCH = 64


class _Slot:
    __slots__ = ("apply", "done", "error", "result")

    def __init__(self, apply: Callable[[Connection], Any]) -> None:
        self.apply = apply
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


class GroupCommitter:
    """Applies submitted write functions in shared transactions (one writer thread per process)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue: queue.SimpleQueue[_Slot] = queue.SimpleQueue()
        self._pid = 0
        self._lock = threading.Lock()

    def submit(self, apply: Callable[[Connection], Any]) -> Any:
        """Run ``apply(connection)`` in a transaction shared with other threads' writes; returns its
        result (or raises its exception) after the commit."""
        self._ensure_writer()
        slot = _Slot(apply)
        self._queue.put(slot)
        slot.done.wait()
        if slot.error is not None:
            raise slot.error
        return slot.result

    def _ensure_writer(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():  # first use, or a forked child: its own writer thread
                self._queue = queue.SimpleQueue()
                threading.Thread(target=self._run, name="mock-remd-group-commit", daemon=True).start()
                self._pid = os.getpid()

    def _run(self) -> None:
        q = self._queue
        while True:
            batch = [q.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(q.get_nowait())
                except queue.Empty:
                    break
            self._apply(batch)

    def _apply(self, batch: list[_Slot]) -> None:
        try:
            with self.db.transaction() as c:
                for slot in batch:
                    slot.result = slot.apply(c)
        except BaseException as exc:  # one write failed: the batch rolled back; redo each on its own
            if len(batch) == 1:
                batch[0].error = exc
            else:
                for slot in batch:
                    self._apply([slot])
                return
        for slot in batch:
            slot.done.set()
