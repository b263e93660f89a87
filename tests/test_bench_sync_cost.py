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
