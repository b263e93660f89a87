"""A background loop with wake-ups: the shape of the processor and the sender.

Work lives in the store (durable); the loop only decides when to look. Within one process a
``wake()`` makes it look at once. Work written by other processes is seen through a *token*
(:mod:`mock_remd.store.changes`: a ``stat`` of the SQLite files, a ``LISTEN`` counter on PostgreSQL)
checked every ``poll_interval``: the store is asked again only when the token moved, when
time-based work falls due (``next_due``) or after ``idle_poll`` seconds at the latest, so an idle
loop costs a system call per tick instead of a query, and a missed sign costs latency, never work.
"""

from __future__ import annotations

import ctypes
import logging
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from mock_remd.catalog.incidents import record_incident

log = logging.getLogger(__name__)

#: with a token, an idle loop asks the store at least this often (leases of killed processes lapse,
#: a sign may be missed): the bound on how long work written elsewhere can wait unseen, seconds
IDLE_POLL_SECONDS = 1.0
#: an idle loop asks when time-based work falls due after this much quiet, seconds (later than that
#: by at most this much)
DUE_CHECK_AFTER = 0.05


def owner_id(prefix: str) -> str:
    """An identifier for leases: host, pid and a random part."""
    return f"{prefix}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class BackgroundLoop:
    """Calls ``step()`` repeatedly; ``step`` returns how many items it handled (0 = idle)."""

    def __init__(self, name: str, step: Callable[[], int], *, poll_interval: float = 0.2,
                 token: Callable[[], Any] | None = None, next_due: Callable[[], float | None] | None = None,
                 idle_poll: float = IDLE_POLL_SECONDS,
                 scope: Callable[[], AbstractContextManager[Any]] | None = None) -> None:
        self.name = name
        #: entered by the loop's thread around all its steps (e.g. the store connection it keeps)
        self._scope = scope or nullcontext
        self._step = step
        self.poll_interval = poll_interval
        #: a value that changes when work may have appeared (None: unknown, look on every tick)
        self._token = token
        #: seconds until work that is waiting for its time falls due (None: none known)
        self._next_due = next_due
        self.idle_poll = idle_poll
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.alive = False
        self.last_error: str = ""

    def start(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        self.alive = True

    def wake(self) -> None:
        """Look for work now."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current step (accepted work stays in the store)."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
        self.alive = False

    @property
    def running(self) -> bool:
        return bool(self._thread and self._thread.is_alive())

    def _run(self) -> None:
        name_thread(self.name)
        with self._scope():
            self._loop()

    def _loop(self) -> None:
        while not self._stop.is_set():
            before = self._read_token()  # taken before the look: a change during it is seen after
            try:
                handled = self._step()
                self.last_error = ""
            except Exception:  # keep the loop alive; the work stays in the store
                incident = record_incident(f"{self.name} step")
                self.last_error = f"шаг завершился внутренней ошибкой (инцидент {incident.id})"
                handled = 0
                before = None
            if handled:
                continue
            self._idle(before)

    def read_token(self) -> Any:
        """The change token now (None: no sign to be had)."""
        return self._read_token()

    def take_wake(self) -> bool:
        """True (once) when this process woke the loop since the last look; a step that looks for
        work itself takes it, so the loop does not look once more for the same wake-up."""
        if self._wake.is_set():
            self._wake.clear()
            return True
        return False

    def _read_token(self) -> Any:
        if self._token is None:
            return None
        try:
            return self._token()
        except Exception:  # no sign to be had: look on every tick
            log.debug("%s: reading the change token failed", self.name, exc_info=True)
            return None

    def _idle(self, before: Any) -> None:
        """Wait until woken, the token moves, time-based work falls due or ``idle_poll`` passes
        (without a token: one tick). The due time is asked only after ``DUE_CHECK_AFTER`` of quiet:
        a busy loop is woken again sooner, and would ask for nothing."""
        if before is None:
            self._wake.wait(self.poll_interval)
            self._wake.clear()
            return
        start = time.monotonic()
        deadline = start + self.idle_poll
        due_checked = self._next_due is None
        while not self._stop.is_set():
            now = time.monotonic()
            if not due_checked and now - start >= DUE_CHECK_AFTER:
                due_checked = True
                deadline = min(deadline, now + self._seconds_to_due())
            remaining = deadline - now
            if remaining <= 0:
                return
            wait = min(self.poll_interval, remaining)
            if not due_checked:
                wait = min(wait, max(0.0, start + DUE_CHECK_AFTER - now))
            if self._wake.wait(wait):
                self._wake.clear()
                return
            if self._read_token() != before:
                return

    def _seconds_to_due(self) -> float:
        assert self._next_due is not None
        try:
            due = self._next_due()
        except Exception:  # the store is away: look again soon
            log.debug("%s: reading the next due time failed", self.name, exc_info=True)
            return self.poll_interval
        return self.idle_poll if due is None else max(0.0, due)


def name_thread(name: str) -> None:
    """Give the calling thread ``name`` (``mock-remd-`` left off, at most 15 bytes) as its name in the
    operating system, so ``top -H``, ``ps -L`` and ``/proc/<pid>/task/*/comm`` tell the threads apart
    (bench-peer splits the background processes' CPU by it). Elsewhere, or when refused, nothing changes."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_NAME, name.removeprefix("mock-remd-").encode()[:15], 0, 0, 0)
    except (OSError, AttributeError):
        pass


#: prctl(2): set the calling thread's name
_PR_SET_NAME = 15


def _pool_thread(name: str, nice: int) -> None:
    """The start of a pool thread: its name (``<worker>-pool``) and its priority."""
    name_thread(f"{name}-pool")
    lower_priority(nice)


def lower_priority(nice: int) -> None:
    """Run the calling thread ``nice`` steps below its process (Linux schedules threads one by one;
    raising a thread's niceness needs no privilege). Elsewhere, or when refused, nothing changes."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except OSError:
        pass


class BatchWorker:
    """A background loop whose steps fan a claimed batch out to a small thread pool.

    Subclasses implement ``step()`` and call :meth:`map` on the claimed rows, and ``renew()``,
    which extends the leases of the rows they hold: while a step runs, a renewer thread calls it
    every ``renew_interval`` seconds, so a lease stays short (a killed process's work is taken over
    quickly) yet never lapses under work that is merely slow.
    """

    def __init__(self, name: str, *, threads: int, poll_interval: float, renew_interval: float = 2.0,
                 token: Callable[[], Any] | None = None, next_due: Callable[[], float | None] | None = None,
                 pool_nice: int = 0, scope: Callable[[], AbstractContextManager[Any]] | None = None) -> None:
        self.threads = threads
        self.pool_nice = pool_nice
        self._name = name
        self._pool: ThreadPoolExecutor | None = None
        self.loop = BackgroundLoop(name, self._step, poll_interval=poll_interval, token=token, next_due=next_due,
                                   scope=scope)
        self.renew_interval = renew_interval
        self._busy = threading.Event()
        self._renewer: BackgroundLoop | None = None

    def step(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    def renew(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _step(self) -> int:
        self._busy.set()
        try:
            return self.step()
        finally:
            self._busy.clear()

    def _renew(self) -> int:
        if self._busy.is_set():
            self.renew()
        return 0

    def map(self, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        """``fn`` over ``items`` on the pool (inline when not started, or for one item: the caller
        waits for it either way, and a hand-over to a pool thread costs two thread switches), results
        in order."""
        if self._pool is None or len(items) == 1:
            return [fn(i) for i in items]
        return [f.result() for f in [self._pool.submit(fn, i) for i in items]]

    def start(self) -> None:
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix=self._name, initializer=_pool_thread,
                                        initargs=(self._name, self.pool_nice))
        self._renewer = BackgroundLoop(self._name + "-leases", self._renew, poll_interval=self.renew_interval)
        self._renewer.start()
        self.loop.start()

    def stop(self) -> None:
        """Stop after the current batch; the pool finishes what it has."""
        self.loop.stop()
        if self._pool:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._renewer is not None:
            self._renewer.stop()
            self._renewer = None

    def wake(self) -> None:
        self.loop.wake()
