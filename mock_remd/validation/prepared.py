"""Prepare once, reuse: the one cache the validation layers keep their prepared material in.

A :class:`Prepared` makes a value from a key (a pack's XSD loaded, its Schematron compiled, a CA
bundle read) the first time it is asked for, and hands the same value out afterwards. With a
``version`` function (a file's modification time, say) a value is made again when its source changed.
It belongs to an object with a lifetime (a layer, a :class:`~mock_remd.validation.caches.ValidationCaches`,
hence a Validator and its Runtime), never to a module: two servers in one process keep their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_UNSET = object()


def file_version(path: Path) -> object:
    """A ``version`` for :class:`Prepared` keyed by a file: its modification time (None when missing)."""
    try:
        return Path(path).stat().st_mtime_ns
    except FileNotFoundError:
        return None


class Prepared(Generic[K, V]):
    """Values made once per key (and again when the key's ``version`` changes), safe across threads.

    ``prepare`` runs under the cache's lock, so one key is never prepared twice at once (loading a pack
    costs far more than waiting for it). When ``prepare`` raises, nothing is kept: the next call tries
    again (a pack fixed on disk is picked up without a restart).
    """

    def __init__(self, prepare: Callable[[K], V], *, version: Callable[[K], object] | None = None) -> None:
        self._prepare = prepare
        self._version = version
        self._held: dict[K, tuple[object, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V:
        """The value for ``key``, prepared now if it was not (or its version changed)."""
        version = self._version(key) if self._version is not None else None
        held = self._held.get(key)
        if held is not None and held[0] == version:
            return held[1]
        with self._lock:
            held = self._held.get(key)
            if held is not None and held[0] == version:
                return held[1]
            value = self._prepare(key)
            self._held[key] = (version, value)
            return value

    def peek(self, key: K, default: V | None = None) -> V | None:
        """The value held for ``key`` whatever its version, or ``default``; prepares nothing."""
        held = self._held.get(key, _UNSET)
        return default if held is _UNSET else held[1]  # type: ignore[index]

    def put(self, key: K, value: V) -> None:
        """Hold ``value`` for ``key`` (at the key's current version)."""
        version = self._version(key) if self._version is not None else None
        with self._lock:
            self._held[key] = (version, value)

    def forget(self, key: K | None = None) -> None:
        """Drop ``key`` (or everything): it is prepared again on the next :meth:`get`."""
        with self._lock:
            if key is None:
                self._held.clear()
            else:
                self._held.pop(key, None)

    def __len__(self) -> int:
        return len(self._held)
