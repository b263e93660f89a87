"""A polling background loop with a wake-up event: the shape of the processor and the sender.

Work lives in the store (durable); the loop only decides when to look. Within one process a
``wake()`` makes it look at once; other processes find the work on their next poll.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mock_remd.catalog.incidents import record_incident

log = logging.getLogger(__name__)


def owner_id(prefix: str) -> str:
    """An identifier for leases: host, pid and a random part."""
    return f"{prefix}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class BackgroundLoop:
    """Calls ``step()`` repeatedly; ``step`` returns how many items it handled (0 = idle)."""

    def __init__(self, name: str, step: Callable[[], int], *, poll_interval: float = 0.2) -> None:
        self.name = name
        self._step = step
        self.poll_interval = poll_interval
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
        while not self._stop.is_set():
            try:
                handled = self._step()
                self.last_error = ""
            except Exception:  # keep the loop alive; the work stays in the store
                incident = record_incident(f"{self.name} step")
                self.last_error = f"шаг завершился внутренней ошибкой (инцидент {incident.id})"
                handled = 0
            if handled:
                continue
            self._wake.wait(self.poll_interval)
            self._wake.clear()


class BatchWorker:
    """A background loop whose steps fan a claimed batch out to a small thread pool.

    Subclasses implement ``step()`` and call :meth:`map` on the claimed rows, and ``renew()``,
    which extends the leases of the rows they hold: while a step runs, a renewer thread calls it
    every ``renew_interval`` seconds, so a lease stays short (a killed process's work is taken over
    quickly) yet never lapses under work that is merely slow.
    """

    def __init__(self, name: str, *, threads: int, poll_interval: float, renew_interval: float = 2.0) -> None:
        self.threads = threads
        self._name = name
        self._pool: ThreadPoolExecutor | None = None
        self.loop = BackgroundLoop(name, self._step, poll_interval=poll_interval)
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
        """``fn`` over ``items`` on the pool (inline when not started), results in order."""
        if self._pool is None:
            return [fn(i) for i in items]
        return [f.result() for f in [self._pool.submit(fn, i) for i in items]]

    def start(self) -> None:
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix=self._name)
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
