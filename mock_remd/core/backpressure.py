"""Backpressure: while the asynchronous leg is far behind, registerDocument answers a little later.

On two cores a document's validation and callback cost several times its synchronous answer. Under
a load that sends as fast as it is answered, the answers would take the CPU and the callbacks fall
further behind for as long as the load lasts. Here the synchronous leg may run ahead of the
background processes by a bounded amount of *work measured in seconds*: the work due (queued jobs,
due callbacks) is compared with ``seconds`` × the rate the background processes drain a backlog at
(:class:`DrainRate`, measured from the store: the rate they caught up at when documents stopped
arriving, at most twice the rate they keep while loaded, never less). Below that limit nothing
waits; above it a registration waits, before it is worked on, in proportion to the excess, so a
client that sends faster than documents are processed is slowed to the processing rate and the
backlog stays near the limit (seconds of work, not minutes) instead of growing without bound. When
the load stops, the callbacks are out in about ``seconds``. An optional cap in items
(``MOCK_REMD_BACKLOG_LIMIT``) bounds the backlog further.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from mock_remd.store.repository import LegProgress

log = logging.getLogger(__name__)

#: how often one request thread of a process reads the asynchronous leg's progress again, seconds
REFRESH_SECONDS = 0.2
#: longest wait of one registration, seconds
MAX_WAIT_SECONDS = 1.0
#: the drain rate is measured over at most this many seconds of busy background work …
RATE_WINDOW_SECONDS = 5.0
#: … and over at least this many (a shorter span keeps the rate measured before)
RATE_MIN_SPAN_SECONDS = 1.0
#: the catch-up rate counts for at most this many times the busy rate
CATCH_UP_CAP = 2.0
#: the limit in items never falls below this: before a rate is known (the first load after start) or
#: while the background leg stands still, a few hundred due items are let through
MIN_ITEMS = 200


def items_for(seconds: float, rate: float, *, floor: int = MIN_ITEMS, cap: int = -1) -> int:
    """The backlog limit in items: ``seconds`` of work at ``rate`` items per second, at least ``floor``,
    and at most ``cap`` when ``cap`` > 0."""
    items = max(floor, int(seconds * max(rate, 0.0)))
    return min(items, cap) if cap > 0 else items


@dataclass(frozen=True)
class _Sample:
    at: float
    finished: int
    made: int


class DrainRate:
    """Documents the background processes finish per second, from :class:`LegProgress` read now and then.

    Two rates. :attr:`rate`: over busy time only (a reading with no job open ends the window, the next
    busy reading starts one: time spent idle says nothing of how fast work is done), at most ``window`` seconds, once the busy
    span is ``min_span`` long; meanwhile (and while idle) the rate measured before stands. Under a load
    this is the rate the backlog drains at *while the answers share the CPU*. :attr:`catch_up_rate`:
    over spans in which no document arrived (a backlog draining after a load), the rate that decides
    how soon the callbacks are out once a load stops. A reset of the store (fewer documents than
    before) starts both windows over.
    """

    def __init__(self, *, window: float = RATE_WINDOW_SECONDS, min_span: float = RATE_MIN_SPAN_SECONDS) -> None:
        self.window = window
        self.min_span = min_span
        #: documents per second while busy; 0.0 until first measured
        self.rate = 0.0
        #: documents per second while catching up with no new arrivals; 0.0 until first measured
        self.catch_up_rate = 0.0
        self._samples: deque[_Sample] = deque()
        self._catch_up: _Sample | None = None

    @property
    def drain_rate(self) -> float:
        """The rate a backlog is expected to drain at: the catch-up rate when one was measured, but
        never more than :data:`CATCH_UP_CAP` × the busy rate (a catch-up measured on a quieter machine
        must not let the backlog grow past what the current rate can drain in time), never less."""
        return max(self.rate, min(self.catch_up_rate, CATCH_UP_CAP * self.rate))

    def add(self, at: float, progress: LegProgress) -> float:
        """Take the reading ``progress`` made at ``at`` (monotonic seconds); the busy rate now."""
        sample = _Sample(at, progress.jobs_finished, progress.jobs_made)
        if self._samples and sample.finished < self._samples[-1].finished:
            self._samples.clear()  # the store was reset
            self._catch_up = None
        self._add_catch_up(sample, progress.jobs_open)
        if progress.jobs_open == 0:
            self._samples.clear()  # idle: the next busy span starts at its first busy reading
            return self.rate
        self._samples.append(sample)
        while len(self._samples) > 2 and at - self._samples[1].at >= self.window:
            self._samples.popleft()
        first = self._samples[0]
        if at - first.at >= self.min_span:
            self.rate = (sample.finished - first.finished) / (at - first.at)
        return self.rate

    def _add_catch_up(self, sample: _Sample, jobs_open: int) -> None:
        start = self._catch_up
        if start is not None and sample.made != start.made:
            start = None  # documents arrived: not catching up
        if start is not None and sample.at - start.at >= self.min_span:
            self.catch_up_rate = (sample.finished - start.finished) / (sample.at - start.at)
        if start is None and jobs_open > 0:
            start = sample
        self._catch_up = start if jobs_open > 0 else None


class Backpressure:
    """Decides how long a registration waits; ``read`` gives the asynchronous leg's progress (a store read).

    ``seconds``: the backlog allowed, in seconds of work at the measured drain rate (0: no such limit);
    ``limit``: a cap in items (> 0), none (< 0), or backpressure off altogether (0); ``floor``: the
    limit in items never falls below it (see :data:`MIN_ITEMS`); ``clock``: monotonic seconds;
    ``follow``: while jobs are open, a thread of this process reads the progress every
    :data:`REFRESH_SECONDS` even when no registration comes (so the catch-up after a load is measured).
    """

    def __init__(self, read: Callable[[], LegProgress], *, seconds: float = 0.0, limit: int = -1,
                 floor: int = MIN_ITEMS, clock: Callable[[], float] = time.monotonic, follow: bool = True) -> None:
        self.read = read
        self.seconds = seconds
        self.limit = limit
        self.floor = floor
        self.follow = follow
        self.drain = DrainRate()
        self._clock = clock
        self._backlog = 0
        self._open = 0
        self._counted = float("-inf")
        self._refreshing = threading.Lock()
        self._following = False
        self._follow_lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.limit != 0 and (self.seconds > 0 or self.limit > 0)

    def refresh(self) -> None:
        """Read the progress now (whatever the time since the last reading)."""
        with self._refreshing:
            self._take()
        self._start_following()

    def _take(self) -> None:
        progress = self.read()
        self._counted = self._clock()
        self._backlog = progress.due
        self._open = progress.jobs_open
        self.drain.add(self._counted, progress)

    def backlog(self) -> int:
        """The work due, as last read (read again by one thread when older than REFRESH_SECONDS; while
        the following thread reads it every REFRESH_SECONDS, not also by a registration's thread: a
        read counts the open jobs, 0.7 ms of CPU with 3,000 of them)."""
        if (not self._following and self._clock() - self._counted > REFRESH_SECONDS
                and self._refreshing.acquire(blocking=False)):
            try:
                self._take()
            finally:
                self._refreshing.release()
            self._start_following()
        return self._backlog

    def _start_following(self) -> None:
        if not (self.follow and self._open > 0 and not self._following):
            return
        with self._follow_lock:
            if self._following:
                return
            self._following = True
        threading.Thread(target=self._follow, name="mock-remd-backpressure", daemon=True).start()

    def _follow(self) -> None:
        """Read the progress every REFRESH_SECONDS until no job is open (bounded by the backlog itself)."""
        try:
            while self._open > 0:
                time.sleep(REFRESH_SECONDS)
                with self._refreshing:
                    self._take()
        except Exception:  # the store is away: the next registration reads it (and raises) itself
            log.debug("backpressure: reading the progress failed", exc_info=True)
        finally:
            self._following = False

    def limit_items(self) -> int | None:
        """The backlog allowed now, in items (None: no limit)."""
        if not self.enabled:
            return None
        if self.seconds <= 0:
            return self.limit
        return items_for(self.seconds, self.drain.drain_rate, floor=self.floor, cap=self.limit)

    def delay(self) -> float:
        """Seconds to wait before this registration is worked on (0 when the leg keeps up or it is off).

        Proportional: 50 ms at the limit, growing by half a second per limit's worth above it, at
        most :data:`MAX_WAIT_SECONDS`. Sixteen clients then settle where the answers come about as
        fast as documents are processed, a little above the limit.
        """
        if not self.enabled:
            return 0.0
        backlog = self.backlog()
        limit = self.limit_items() or 1
        over = backlog / limit - 1.0
        if over < 0:
            return 0.0
        return min(MAX_WAIT_SECONDS, 0.05 + over * 0.5)

    def would_wait(self) -> bool:
        """Whether :meth:`wait` could wait or read the store now (without reading it)."""
        if not self.enabled:
            return False
        if not self._following and self._clock() - self._counted > REFRESH_SECONDS:
            return True
        return self._backlog >= (self.limit_items() or 1)

    def wait(self) -> None:
        """Wait as :meth:`delay` says (the thread sleeps: no CPU is taken from the background work)."""
        seconds = self.delay()
        if seconds > 0:
            time.sleep(seconds)
