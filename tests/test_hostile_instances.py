"""Issue 14, finding 5: two ``mock-remd serve`` instances started together on an empty PostgreSQL
database both come up (schema creation under an advisory lock) and number documents without a race
(counters by ``INSERT … ON CONFLICT``). Ten trials, a fresh database each."""

from __future__ import annotations

import threading

import pytest
from instances import fresh_database, pg_admin_url, start_serve, stop, wait_ready, write_config
from remd_requests import post, register_request, sync_status

from mock_remd.soap.builders import register_envelope
from mock_remd.store.repository import Store

pytestmark = pytest.mark.postgres
#: the issue's ten trials run with the slow tests (``make soak``); the default run takes one
TRIALS, SAMPLE = 10, 1


def _register(url: str, out: list, i: int) -> None:
    req = register_request()
    resp = post(url + "/port/emdr", register_envelope(req, version="1.2"))
    out[i] = (sync_status(resp), req)


def test_two_instances_start_together_on_an_empty_database(tmp_path, sink):
    _trials(tmp_path, sink, SAMPLE)


@pytest.mark.slow
def test_two_instances_start_together_ten_times(tmp_path, sink):
    _trials(tmp_path, sink, TRIALS)


def _trials(tmp_path, sink, count: int) -> None:
    pg_admin_url()
    for trial in range(count):
        with fresh_database() as db_url:
            log = tmp_path / f"trial-{trial}.log"
            config = write_config(tmp_path, sink.url)
            servers = [start_serve(db_url, config, log) for _ in range(2)]
            try:
                for proc, url in servers:
                    wait_ready(proc, url, log)
                # both register at the same moment: the first emdr number is taken by both
                results: list = [None, None]
                threads = [threading.Thread(target=_register, args=(url, results, i))
                           for i, (_, url) in enumerate(servers)]
                for th in threads:
                    th.start()
                for th in threads:
                    th.join(30)
                assert [r[0] for r in results] == ["success", "success"], (trial, results)
                ids = {sink.wait_for(r[1].message_id, timeout=15).emdr_id for r in results}
                assert len(ids) == 2 and all(ids), (trial, ids)
            finally:
                for proc, _ in servers:
                    stop(proc)
            for proc, _ in servers:
                assert proc.returncode == 0, (trial, log.read_text(errors="replace")[-2000:])
            assert "Traceback" not in log.read_text(errors="replace"), (trial, log.read_text(errors="replace")[-3000:])


def test_counters_do_not_race_on_first_use(tmp_path):
    """Sixteen threads take the first numbers of a fresh counter: all distinct, no error."""
    pg_admin_url()
    with fresh_database() as db_url:
        stores = [Store(db_url) for _ in range(4)]
        got: list[int] = []
        errors: list[BaseException] = []

        def take(store: Store) -> None:
            try:
                for _ in range(5):
                    got.append(store.sequences.next("emdr"))
            except BaseException as exc:  # collected for the assertion
                errors.append(exc)

        threads = [threading.Thread(target=take, args=(stores[i % 4],)) for i in range(16)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        assert errors == []
        assert sorted(got) == list(range(1, 81))
        for s in stores:
            s.db.engine.dispose()
