"""Bounded, exact memories for what real loads repeat (a signer's certificate, the attributes it adds).

:class:`BoundedSet` remembers up to ``size`` keys, forgetting the oldest first; safe to share between
the validation threads (a membership test takes no lock, an addition does).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable


class BoundedSet:
    """A set of at most ``size`` keys; adding to a full one forgets the oldest addition."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a bounded set holds at least one key")
        self.size = size
        self._keys: dict[Hashable, None] = {}
        self._lock = threading.Lock()

    def __contains__(self, key: Hashable) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: Hashable) -> None:
        """Remember ``key`` (first in line to be forgotten once ``size`` later keys came)."""
        with self._lock:
            if key in self._keys:
                return
            while len(self._keys) >= self.size:
                del self._keys[next(iter(self._keys))]
            self._keys[key] = None

    def clear(self) -> None:
        """Forget every key."""
        with self._lock:
            self._keys.clear()
