"""A stamp every process of a store on one machine reads from shared memory: a small file mapped into
each of them, whose bytes a change overwrites.

The active scenarios and conformance runs are read on every registration and cached until the stamp
changes (:meth:`~mock_remd.store.engine.Database.settings_stamp`). Reading the stamp as a file's size
and time took a ``stat`` per request, and Python lets the GIL go around every system call: under load,
a thread hand-off per answer. Reading mapped memory is no system call; a write by any process is seen
by the next read of every other at once (the processes of a SQLite store share one machine: SQLite's
write-ahead log needs them to).
"""

from __future__ import annotations

import mmap
import os
import threading
import time

#: bytes of the stamp (a fresh random value per change)
STAMP_BYTES = 16
#: how often a reader makes sure the file it maps is still the one at the path, seconds (the file
#: is never replaced by mock-remd; this only catches one deleted or replaced by hand)
RECHECK_SECONDS = 1.0


class SharedStamp:
    """The stamp kept in the file ``path`` (created when missing; an older mock-remd's stamp file, a
    file of dots, is taken over as it is)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._map: mmap.mmap | None = None
        self._inode = 0
        self._checked = 0.0

    def read(self) -> tuple[int, bytes]:
        """The stamp now: a value equal to an earlier reading exactly when no change was noted since."""
        mapped = self._map
        if mapped is None or time.monotonic() - self._checked >= RECHECK_SECONDS:
            mapped = self._mapped()
        return self._inode, mapped[:STAMP_BYTES]

    def bump(self) -> None:
        """Note a change (after its commit): every process's next :meth:`read` gives a new value. A
        random value rather than a count: two processes noting at once cannot both write the same."""
        self._checked = 0.0  # a fresh look at the file first
        self._mapped()[:STAMP_BYTES] = os.urandom(STAMP_BYTES)

    def _mapped(self) -> mmap.mmap:
        """The mapping of the file now at the path (mapped again when the file was replaced)."""
        with self._lock:
            try:
                inode = os.stat(self.path).st_ino
            except FileNotFoundError:
                inode = -1
            if self._map is None or inode != self._inode:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    st = os.fstat(fd)
                    if st.st_size < STAMP_BYTES:
                        os.ftruncate(fd, STAMP_BYTES)  # grows only: a shorter file would fault a reader
                    self._map = mmap.mmap(fd, STAMP_BYTES)
                    self._inode = st.st_ino
                finally:
                    os.close(fd)
            self._checked = time.monotonic()
            return self._map
