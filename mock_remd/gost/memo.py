"""Bounded, exact memories for what real loads repeat (a signer's certificate, the attributes it adds).

:class:`BoundedSet` remembers up to ``size`` keys, forgetting the oldest first; safe to share between
the validation threads (a membership test takes no lock, an addition does).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable


class BoundedSet(dict):
    """A set of at most ``size`` keys; adding to a full one forgets the oldest addition.

    A dict underneath (keys -> None) so that ``key in memory`` is the dict's own C lookup, no Python
    call; change it only through :meth:`add` and :meth:`clear`."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a bounded set holds at least one key")
        super().__init__()
        self.size = size
        self._lock = threading.Lock()

    def add(self, key: Hashable) -> None:
        """Remember ``key`` (first in line to be forgotten once ``size`` later keys came)."""
        with self._lock:
            if key in self:
                return
            while len(self) >= self.size:
                del self[next(iter(self))]
            self[key] = None

    def clear(self) -> None:
        """Forget every key."""
        with self._lock:
            super().clear()
