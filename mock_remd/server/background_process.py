"""The background processes of ``mock-remd serve``: document processing and callback delivery.

saxonche holds the GIL while it validates, so validation in the HTTP workers would stall their
request threads; ``serve`` therefore runs the asynchronous leg in processes of its own. They share
the work through the store (atomic claims), are woken by it when another process writes work
(:mod:`mock_remd.store.changes`, with a bounded fallback poll), and stop on SIGTERM after the batch
in hand.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import logging
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from mock_remd.config import Settings, background_environment

log = logging.getLogger(__name__)

#: how often an idle background process checks for a sign of new work (a ``stat`` of the SQLite files
#: or a counter of PostgreSQL notifications; the database is asked only when it moved)
POLL_SECONDS = 0.02


def run(settings: Settings) -> None:
    """Run processor and sender until SIGTERM/SIGINT.

    Its validation threads run at the lower priority ``settings.background_nice`` (the processor's
    pool, see :func:`mock_remd.background.lower_priority`): when the CPU is short, the synchronous
    answers come first and the asynchronous leg catches up when the load lets it (the backpressure
    bounds how far it falls behind). The threads that claim, write and send stay at the normal
    priority: they hold the store's write lock, which the answers wait for (the whole process at nice
    12 gave ~14 % fewer answers under bench-peer's load than the validation threads alone, three
    alternating pairs at load 5-6). Whole process, at load 11-15: 12 gave ~15 % more answers than 5;
    19 starved the leg; SCHED_BATCH made no difference beyond the noise.
    """
    from mock_remd.runtime import Runtime

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    runtime = Runtime(settings, poll_interval=POLL_SECONDS, seed_systems=False, role="background")
    later = warm_up(runtime)
    # The validator and its caches are built: their objects live as long as the process. Out of the
    # collector's sight, a full collection no longer walks them all (processing_cost, validation on:
    # one full collection in 1,000 documents took 56 ms, 0.056 ms per document; 1.9 ms frozen)
    gc.collect()
    gc.freeze()
    runtime.start_background()
    if later is not None:
        later.start()
    stop.wait()
    runtime.stop()


#: up to this many installed packs are compiled before the process takes work; with more (all 95
#: published ones take minutes to compile on a busy machine) work starts at once, the packs are
#: compiled by a thread meanwhile, and a document whose pack is not ready yet compiles it itself
WARM_BEFORE_START = 8


def warm_up(runtime: Any, before_start: int = WARM_BEFORE_START) -> threading.Thread | None:
    """Build the validation layers and compile the official packs, so the first document of each kind
    does not pay for it: before taking work when there are at most ``before_start`` packs, else by the
    thread returned (to be started once the process takes work)."""
    runtime.validator.warm_up()
    settings = runtime.validator.settings
    if not (settings.packs_dir and settings.layers & {"xsd", "schematron"}):
        return None
    caches = runtime.validator.caches
    if len(caches.pack_index(settings.packs_dir).packs) <= before_start:
        _precompile(settings, caches)
        return None
    return threading.Thread(target=_precompile, args=(settings, caches), name="mock-remd-warm-up", daemon=True)


def _precompile(settings: Any, caches: Any) -> None:
    from mock_remd.validation.precompile import precompile

    try:
        cache = settings.options.get("schematron_cache_dir")
        precompile(settings.packs_dir, Path(cache) if cache else None, caches=caches)
    except Exception:  # a broken pack is reported per document by its layer; never block start-up
        log.exception("mock-remd: precompiling the packs in %s failed", settings.packs_dir)


def settings_from_json(text: str) -> Settings:
    """The settings a parent process handed over (see :class:`BackgroundProcesses`)."""
    values = json.loads(text)
    values["callback_backoff"] = tuple(values.get("callback_backoff") or ())
    return Settings(**values)


class BackgroundProcesses:
    """Starts, watches (restarts a crashed one) and stops the background processes.

    They are plain child processes (``python -m mock_remd.server.background_process`` with the
    settings on stdin), not multiprocessing ones: gunicorn forks its workers after they start, and
    multiprocessing children would be inherited by every worker's exit handler.
    """

    def __init__(self, settings: Settings, count: int) -> None:
        self.settings = settings
        self.count = max(1, count)
        self._procs: list[subprocess.Popen] = []
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        self._procs = [self._spawn() for _ in range(self.count)]
        self._watcher = threading.Thread(target=self._watch, name="mock-remd-background-watch", daemon=True)
        self._watcher.start()

    def _spawn(self) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "mock_remd.server.background_process"], stdin=subprocess.PIPE,
                                env=background_environment())
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(dataclasses.asdict(self.settings)).encode())
        proc.stdin.close()
        return proc

    def _watch(self) -> None:
        while not self._stopping.wait(1.0):
            for i, proc in enumerate(self._procs):
                if proc.poll() is not None and not self._stopping.is_set():
                    log.warning("mock-remd: background process %s exited (%s); starting another", proc.pid, proc.returncode)
                    self._procs[i] = self._spawn()

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM every process, wait for them, kill what is left."""
        self._stopping.set()
        for proc in self._procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


if __name__ == "__main__":
    run(settings_from_json(sys.stdin.read()))
