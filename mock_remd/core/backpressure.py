"""Backpressure: while the asynchronous leg is behind, registerDocument answers a little later.

On two cores a document's validation and callback cost several times its synchronous answer. Under
a load that sends as fast as it is answered, the answers would take the CPU and the callbacks fall
further behind for as long as the load lasts. Here a registration waits, before it is worked on,
in proportion to how far the work due (queued jobs, due callbacks) is above ``limit``: a client
that sends faster than documents are processed is slowed to the processing rate, and the backlog
stays near ``limit`` (seconds of work, not minutes) instead of growing without bound. Below the
limit nothing waits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: how often one request thread of a process counts the backlog again, seconds
REFRESH_SECONDS = 0.2
#: longest wait of one registration, seconds
MAX_WAIT_SECONDS = 1.0


class Backpressure:
    """Decides how long a registration waits; ``count`` gives the work due now (a store read)."""

    def __init__(self, count: Callable[[], int], *, limit: int) -> None:
        self.count = count
        self.limit = limit
        self._backlog = 0
        self._counted = float("-inf")
        self._refreshing = threading.Lock()

    def backlog(self) -> int:
        """The work due, as last counted (counted again by one thread when older than REFRESH_SECONDS)."""
        now = time.monotonic()
        if now - self._counted > REFRESH_SECONDS and self._refreshing.acquire(blocking=False):
            try:
                self._backlog = self.count()
                self._counted = time.monotonic()
            finally:
                self._refreshing.release()
        return self._backlog

    def delay(self) -> float:
        """Seconds to wait before this registration is worked on (0 when the leg keeps up or it is off).

        Proportional: 50 ms at the limit, growing by half a second per limit's worth above it, at
        most :data:`MAX_WAIT_SECONDS`. Sixteen clients then settle where the answers come about as
        fast as documents are processed, a little above the limit.
        """
        if self.limit <= 0:
            return 0.0
        over = self.backlog() / self.limit - 1.0
        if over < 0:
            return 0.0
        return min(MAX_WAIT_SECONDS, 0.05 + over * 0.5)

    def wait(self) -> None:
        """Wait as :meth:`delay` says (the thread sleeps: no CPU is taken from the background work)."""
        seconds = self.delay()
        if seconds > 0:
            time.sleep(seconds)
