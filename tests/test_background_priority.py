"""The validation threads of ``serve``'s background processes run at the niceness ``background_nice``
says (real threads and a real child process, read from /proc), and the setting is checked."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from mock_remd.background import BatchWorker
from mock_remd.config import ConfigError, Settings
from mock_remd.server.background_process import BackgroundProcesses


def _thread_nice(tid: int) -> int:
    return _nice_of(Path(f"/proc/self/task/{tid}/stat"))


def _nice_of(stat_file: Path) -> int:
    stat = stat_file.read_text()
    return int(stat[stat.rindex(")") + 2:].split()[16])


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc (Linux)")
def test_validation_threads_run_lower_the_rest_of_the_process_does_not():
    """The pool threads (validation) run ``pool_nice`` below the process; the thread that claims and
    writes (holding the store's write lock, which the HTTP workers wait for) keeps the process's priority."""
    base = os.nice(0)

    class Idle(BatchWorker):
        def step(self) -> int:
            return 0

        def renew(self) -> None:
            pass

    worker = Idle("prio-test", threads=2, poll_interval=1.0, pool_nice=7)
    worker.start()
    try:
        seen = worker.map(lambda _: (threading.get_native_id(), _thread_nice(threading.get_native_id())), [1, 2, 3, 4])
    finally:
        worker.stop()
    assert {nice for _tid, nice in seen} == {min(19, base + 7)}
    assert _thread_nice(threading.get_native_id()) == base


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_background_process_itself_keeps_its_priority(tmp_path):
    """A real background process of ``serve``: its main thread is not lowered (only validation is)."""
    settings = Settings.load({"db_url": f"sqlite:///{tmp_path / 'remd.db'}", "validation": "none",
                              "signatures": "off", "background_nice": 7}, environ={})
    procs = BackgroundProcesses(settings, 1)
    procs.start()
    try:
        pid = procs._procs[0].pid  # noqa: SLF001 - the child this test started
        assert _nice_of(Path(f"/proc/{pid}/stat")) == os.nice(0)
    finally:
        procs.stop(timeout=20)


def test_background_nice_is_checked():
    assert Settings.load({}, environ={}).background_nice == 12
    assert Settings.load({}, environ={"MOCK_REMD_BACKGROUND_NICE": "0"}).background_nice == 0
    with pytest.raises(ConfigError) as err:
        Settings.load({}, environ={"MOCK_REMD_BACKGROUND_NICE": "20"}).check()
    assert "MOCK_REMD_BACKGROUND_NICE" in str(err.value)


@pytest.mark.parametrize("processors", [1, 2, 4])
def test_background_processes_together_validate_as_many_documents_at_once_as_there_are_cores(tmp_path, processors):
    """Each background process of ``serve`` validates cores // processes documents at once (at least one);
    its threads beyond that pull and prepare. A process that serves too keeps one per thread."""
    from mock_remd.runtime import Runtime

    settings = Settings.load({"db_url": f"sqlite:///{tmp_path / 'remd.db'}", "validation": "none",
                              "processors": processors}, environ={})
    cores = len(os.sched_getaffinity(0))
    at_once = max(1, cores // processors)
    background = Runtime(settings, role="background", seed_systems=False)
    serving = Runtime(settings, role="all")
    try:
        turn = background.processor.validating  # a lock for one at a time, else a semaphore
        threads = background.processor.threads
        assert (turn is None) == (at_once >= threads)
        if turn is not None:
            assert [turn.acquire(blocking=False) for _ in range(threads)].count(True) == at_once
        assert serving.processor.validating is None
    finally:
        background.store.close()
        serving.store.close()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="thread names are read from /proc (Linux)")
def test_background_threads_carry_their_names_in_the_system():
    """``ps -L``, ``top -H`` and bench-peer tell the loops and pool threads apart by their system names."""
    import time

    from mock_remd.background import BackgroundLoop

    seen: dict[str, str] = {}

    def step() -> int:
        seen["loop"] = Path(f"/proc/self/task/{threading.get_native_id()}/comm").read_text().strip()
        return 0

    loop = BackgroundLoop("mock-remd-naming-check", step, poll_interval=0.01)
    loop.start()
    for _ in range(200):  # bounded: 2 s
        if "loop" in seen:
            break
        time.sleep(0.01)  # the loop's first step runs in its own thread
    loop.stop()

    class Worker(BatchWorker):
        def step(self) -> int:
            return 0

        def renew(self) -> None:
            pass

    worker = Worker("mock-remd-naming", threads=1, poll_interval=0.01)
    worker.start()
    try:
        pool_name = worker.map(lambda _: Path(f"/proc/self/task/{threading.get_native_id()}/comm").read_text().strip(),
                               [1, 2])[0]
    finally:
        worker.stop()
    assert seen["loop"] == "naming-check"
    assert pool_name == "naming-pool"
