"""The synchronous-answer cost bench (``python -m mock_remd.bench.sync_cost``): serve's HTTP worker in a process
of its own, answering the bench's request over real loopback sockets from this process."""

from __future__ import annotations

from mock_remd.bench import sync_cost


def test_a_few_answers_are_counted_from_the_servers_process():
    figures = sync_cost.run(6, connections=2, warm=2)
    # every answer was checked to be success by the client; the CPU is the server process's, counted by
    # the kernel in clock ticks (10 ms: six answers may well fall within one)
    assert figures["cpu_ms"] >= 0
    assert figures["rate"] > 0
    assert figures["switches"] >= 0


def test_the_server_is_the_worker_serve_runs(tmp_path):
    settings = sync_cost._settings(tmp_path)
    assert settings.db_url.startswith("sqlite:///") and settings.journal_size > 0  # a SQLite file, journal on
    assert settings.backlog_limit == 0  # nothing drains the documents here: backpressure off (see the docstring)
    assert sync_cost._settings(tmp_path, threads=3).threads == 3


def test_gil_releases_are_counted_from_a_callgrind_dump(tmp_path):
    """The GIL releases --callgrind reports are the calls of PyEval_SaveThread in valgrind's own dump:
    seven more time.sleep(0) (each lets the GIL go once) give seven more."""
    import shutil
    import subprocess
    import sys

    import pytest

    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed")
    counts = []
    for n in (0, 7):
        out = tmp_path / f"callgrind.{n}"
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-c",
                        f"import time\nfor _ in range({n}): time.sleep(0)"], check=True, capture_output=True, timeout=300)
        counts.append(sync_cost._calls(out, sync_cost.GIL_RELEASE))
    assert counts[0] > 0 and counts[1] - counts[0] == 7
