"""The background processes of ``mock-remd serve``: document processing and callback delivery.

saxonche holds the GIL while it validates, so validation in the HTTP workers would stall their
request threads; ``serve`` therefore runs the asynchronous leg in processes of its own. They share
the work through the store (atomic claims), poll it often (no cross-process wake-up needed), and
stop on SIGTERM after the batch in hand.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
from typing import Any

from mock_remd.config import Settings

log = logging.getLogger(__name__)

#: how often an idle background process looks for new work (a cheap read)
POLL_SECONDS = 0.02


def run(settings: Settings) -> None:
    """Process entry point: run processor and sender until SIGTERM/SIGINT."""
    from mock_remd.server.runtime import Runtime

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    runtime = Runtime(settings, poll_interval=POLL_SECONDS, seed_systems=False, role="background")
    runtime.validator.warm_up()  # compile packs before taking work
    runtime.start_background()
    stop.wait()
    runtime.stop()


class BackgroundProcesses:
    """Starts, watches (restarts a crashed one) and stops the background processes."""

    def __init__(self, settings: Settings, count: int) -> None:
        self.settings = settings
        self.count = max(1, count)
        self._ctx = multiprocessing.get_context("spawn")
        self._procs: list[Any] = []
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        self._procs = [self._spawn(i) for i in range(self.count)]
        self._watcher = threading.Thread(target=self._watch, name="mock-remd-background-watch", daemon=True)
        self._watcher.start()

    def _spawn(self, index: int) -> Any:
        proc = self._ctx.Process(target=run, args=(self.settings,), name=f"mock-remd-background-{index}", daemon=False)
        proc.start()
        return proc

    def _watch(self) -> None:
        while not self._stopping.wait(1.0):
            for i, proc in enumerate(self._procs):
                if not proc.is_alive() and not self._stopping.is_set():
                    log.warning("mock-remd: background process %s exited (%s); starting another", proc.name, proc.exitcode)
                    self._procs[i] = self._spawn(i)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM every process, wait for them, kill what is left."""
        self._stopping.set()
        for proc in self._procs:
            if proc.is_alive():
                proc.terminate()
        for proc in self._procs:
            proc.join(timeout)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
