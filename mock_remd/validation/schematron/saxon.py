"""The one saxonche processor of this process, and the lock every Saxon call goes through.

Facts this module is built on (measured by the team):

* saxonche holds the GIL during calls, so threads gain nothing from running Saxon concurrently:
  one process-wide lock costs no throughput and keeps stateful objects (an executable's global
  context item) safe;
* two processors racing to be created give "NodeInfo belongs to the wrong Configuration", so
  the processor is created once, under a lock;
* a processor created before ``fork()`` must not be used in the child (gunicorn workers): state
  is keyed by ``os.getpid()`` and reset in the child by an at-fork hook.
"""

from __future__ import annotations

import os
import threading
from typing import Any

_lock = threading.RLock()
_pid: int | None = None
_processor: Any = None
_xslt: Any = None


def _reset_after_fork() -> None:
    global _lock, _pid, _processor, _xslt
    _lock = threading.RLock()
    _pid = None
    _processor = None
    _xslt = None


os.register_at_fork(after_in_child=_reset_after_fork)


def saxon_lock() -> threading.RLock:
    """The lock to hold around any call into Saxon (parse, compile, transform)."""
    return _lock


def processor() -> Any:
    """This process's ``PySaxonProcessor`` (created on first use)."""
    _ensure()
    return _processor


def xslt_compiler() -> Any:
    """This process's ``PyXslt30Processor``."""
    _ensure()
    return _xslt


def _ensure() -> None:
    global _pid, _processor, _xslt
    if _pid == os.getpid() and _processor is not None:
        return
    with _lock:
        if _pid == os.getpid() and _processor is not None:
            return
        from saxonche import PySaxonProcessor  # imported lazily: costs ~100 ms and is not always needed

        proc = PySaxonProcessor(license=False)
        _xslt = proc.new_xslt30_processor()
        _processor = proc
        _pid = os.getpid()
