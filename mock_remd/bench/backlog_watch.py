"""The asynchronous leg of a running mock-remd seen from outside: work due and documents processed, read
from its store now and then while a load runs (what the backpressure reads: one cheap statement)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from mock_remd.store.repository import LegProgress, Store


@dataclass
class BacklogFigures:
    """What a :class:`BacklogWatch` saw: the largest backlog, the backlog when it stopped and the
    documents processed per second meanwhile."""

    peak: int = 0
    last: int = 0
    processed_per_s: float = 0.0
    samples: list[tuple[float, int]] = field(default_factory=list)


class BacklogWatch:
    """Reads ``leg_progress`` of the store at ``db_url`` every ``every`` seconds between start and stop."""

    def __init__(self, db_url: str, every: float = 0.5) -> None:
        self.db_url = db_url
        self.every = every
        self.figures = BacklogFigures()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._first: tuple[float, LegProgress] | None = None
        self._latest: tuple[float, LegProgress] | None = None

    def __enter__(self) -> BacklogWatch:
        self._thread = threading.Thread(target=self._run, name="bench-backlog-watch", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        if self._first and self._latest and self._latest[0] > self._first[0]:
            (t0, p0), (t1, p1) = self._first, self._latest
            self.figures.processed_per_s = (p1.jobs_finished - p0.jobs_finished) / (t1 - t0)

    def _run(self) -> None:
        store = Store(self.db_url)
        try:
            while True:
                at = time.monotonic()
                progress = store.leg_progress()
                self._first = self._first or (at, progress)
                self._latest = (at, progress)
                self.figures.samples.append((at, progress.due))
                self.figures.peak = max(self.figures.peak, progress.due)
                self.figures.last = progress.due
                if self._stop.wait(self.every):
                    break
        finally:
            store.close()


def wait_caught_up(db_url: str, timeout: float) -> bool:
    """Wait (at most ``timeout`` s) until the store at ``db_url`` has no work due; whether it came to that."""
    store = Store(db_url)
    try:
        deadline = time.monotonic() + timeout
        while store.leg_progress().due:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)  # polling another process's store: nothing to block on
        return True
    finally:
        store.close()
