"""Backpressure: while more asynchronous work is due than ``backlog_seconds`` of work at the rate the
background leg drained it lately (or than the ``backlog_limit`` cap in items), a registration waits
before it is worked on (in proportion to the excess); when the work is done, nothing waits. Checked
on the decisions (the limit, the delay) with the clock handed in, never on elapsed time."""

from __future__ import annotations

import threading
import time

import pytest
from remd_requests import register, sync_status

from mock_remd.config import ConfigError, Settings
from mock_remd.core.backpressure import MAX_WAIT_SECONDS, MIN_ITEMS, Backpressure, DrainRate, items_for
from mock_remd.server.threaded import ThreadedServer
from mock_remd.store.repository import LegProgress


def _settle(store) -> None:
    """Wait (bounded) until the sender has recorded its last attempts: nothing due is left."""
    for _ in range(200):
        if store.leg_progress().due == 0:
            return
        time.sleep(0.05)


def test_seconds_of_work_become_items_by_the_rate():
    assert items_for(10, 48.0) == 480
    assert items_for(8.5, 240.0) == 2040
    assert items_for(10, 0.0) == MIN_ITEMS  # no rate known yet: the floor
    assert items_for(10, 3.0, floor=0) == 30
    assert items_for(10, 240.0, cap=500) == 500  # an explicit cap in items bounds it
    assert items_for(10, 240.0, cap=-1) == 2400


def test_drain_rate_counts_busy_time_only():
    rate = DrainRate(window=5.0, min_span=1.0)

    def progress(made: int, open_: int) -> LegProgress:
        return LegProgress(due=open_, jobs_open=open_, jobs_made=made)

    assert rate.add(0.0, progress(100, 100)) == 0.0
    assert rate.add(0.5, progress(300, 250)) == 0.0  # half a second: too short to say
    assert rate.add(2.0, progress(700, 500)) == 100.0  # 200 finished in 2 s
    assert rate.add(8.0, progress(1900, 1100)) == pytest.approx(100.0)  # the window slides: (800-200)/6
    rate.add(9.0, progress(1900, 0))  # caught up: idle from here, the rate measured stands
    assert rate.add(20.0, progress(1900, 0)) == pytest.approx(100.0)
    rate.add(20.2, progress(2100, 150))  # a new busy span starts at its first busy reading
    assert rate.add(21.2, progress(2400, 150)) == pytest.approx(300.0)
    rate.add(22.0, progress(10, 10))  # the store was reset: start over, keep the last rate meanwhile
    assert rate.add(23.0, progress(60, 10)) == 50.0


def test_the_catch_up_after_a_load_counts_up_to_twice_the_loaded_rate():
    rate = DrainRate(window=5.0, min_span=1.0)

    def progress(made: int, open_: int) -> LegProgress:
        return LegProgress(due=open_, jobs_open=open_, jobs_made=made)

    for i in range(11):  # loaded: 100 documents arrive and 50 are finished every second
        rate.add(float(i), progress(1000 + 100 * i, 100 + 50 * i))
    assert rate.rate == pytest.approx(50.0) and rate.catch_up_rate == 0.0  # documents kept arriving
    assert rate.drain_rate == pytest.approx(50.0)
    rate.add(10.5, progress(2000, 550))  # the load stopped at 10 s: 600 open, 80 finished each second
    rate.add(11.0, progress(2000, 520))
    rate.add(12.0, progress(2000, 440))
    assert rate.catch_up_rate == pytest.approx(80.0)
    assert rate.drain_rate == pytest.approx(80.0)
    rate.add(17.6, progress(2000, 0))  # caught up between two readings: the idle part counts (slower)
    assert rate.catch_up_rate == pytest.approx(600 / 7.6)
    rate.add(30.0, progress(2010, 10))  # a new load, long after: its own rate is measured, idle time apart
    assert rate.add(31.0, progress(2110, 100)) == pytest.approx(10.0)  # the leg is slow under this load …
    assert rate.drain_rate == pytest.approx(20.0)  # … and the faster catch-up counts for twice that at most


def test_the_limit_follows_the_rate_of_a_real_store(make_server, sink, tmp_path):
    """A SQLite file and the server's own processor: the rate is read from what really got done."""
    srv: ThreadedServer = make_server(db_url=f"sqlite:///{tmp_path / 'remd.db'}")
    srv.runtime.stop()
    now = [0.0]
    bp = Backpressure(srv.runtime.store.leg_progress, seconds=2.0, floor=1, clock=lambda: now[0], follow=False)
    first = [register(srv) for _ in range(12)]
    bp.refresh()
    assert bp.backlog() == 12 and bp.limit_items() == 1  # no rate yet and the leg stands still: the floor
    assert 0.05 < bp.delay() <= MAX_WAIT_SECONDS
    srv.runtime.start_background()
    for _resp, req in first:
        assert sink.wait_for(req.message_id, timeout=30).status == "success"
    _settle(srv.runtime.store)
    srv.runtime.stop()
    [register(srv) for _ in range(6)]
    now[0] = 2.0  # 12 documents finished in 2 s (as the clock says): 6/s, and 2 s of work is 12 items
    bp.refresh()
    assert bp.drain.rate == 6.0 and bp.limit_items() == 12
    assert bp.backlog() == 6 and bp.delay() == 0.0
    [register(srv) for _ in range(10)]
    bp.refresh()
    assert bp.backlog() == 16 and bp.delay() == pytest.approx(0.05 + (16 / 12 - 1) * 0.5)


def test_registrations_wait_while_the_backlog_is_above_the_item_cap(make_server, sink):
    srv: ThreadedServer = make_server(backlog_limit=4)
    srv.runtime.stop()  # the asynchronous leg stands still: the accepted work piles up
    sent = [register(srv) for _ in range(10)]
    assert all(sync_status(resp) == "success" for resp, _req in sent)  # slowed, never refused
    bp = srv.runtime.service.backpressure
    bp.refresh()
    assert bp.backlog() == 10 and bp.limit_items() == 4
    assert 0.05 < bp.delay() <= MAX_WAIT_SECONDS
    srv.runtime.start_background()
    for _resp, req in sent:
        assert sink.wait_for(req.message_id, timeout=30).status == "success"
    _settle(srv.runtime.store)
    bp.refresh()
    assert bp.backlog() == 0 and bp.delay() == 0.0


def test_defaults_and_off(make_server):
    settings = Settings.load({}, environ={})
    assert settings.backlog_seconds == 10.0 and settings.backlog_limit == -1
    on = make_server().runtime.service.backpressure
    assert on.enabled and on.seconds == 10.0 and on.limit_items() == MIN_ITEMS  # nothing measured yet
    assert not make_server(backlog_limit=0).runtime.service.backpressure.enabled  # 0 turns it off, as before
    assert not make_server(backlog_seconds=0).runtime.service.backpressure.enabled  # no seconds and no cap
    capped = make_server(backlog_seconds=0, backlog_limit=300).runtime.service.backpressure
    assert capped.enabled and capped.limit_items() == 300
    assert make_server(backlog_limit=0).runtime.service.backpressure.delay() == 0.0


def test_backlog_seconds_from_the_environment_and_checked():
    assert Settings.load({}, environ={"MOCK_REMD_BACKLOG_SECONDS": "8.5"}).backlog_seconds == 8.5
    with pytest.raises(ConfigError) as err:
        Settings.load({}, environ={"MOCK_REMD_BACKLOG_SECONDS": "-1"}).check()
    assert "MOCK_REMD_BACKLOG_SECONDS" in str(err.value)


def test_while_a_thread_follows_the_progress_registrations_do_not_read_it(make_server, tmp_path):
    """Jobs open: the following thread reads the store's progress every REFRESH_SECONDS; a registration's
    thread finding the reading old leaves it to that thread (each read counts the open jobs)."""
    srv: ThreadedServer = make_server(db_url=f"sqlite:///{tmp_path / 'remd.db'}")
    srv.runtime.stop()  # the asynchronous leg stands still: the jobs stay open
    [register(srv) for _ in range(3)]
    reads: list[str] = []
    store = srv.runtime.store

    def read() -> LegProgress:
        reads.append(threading.current_thread().name)
        return store.leg_progress()

    now = [0.0]
    bp = Backpressure(read, seconds=2.0, limit=-1, clock=lambda: now[0])
    try:
        bp.refresh()  # jobs are open: a thread starts following
        assert bp.backlog() == 3 and bp._following
        now[0] = 10.0  # the reading is old, as this thread's clock says
        mine = threading.current_thread().name
        before = reads.count(mine)
        assert bp.backlog() == 3 and reads.count(mine) == before
    finally:
        bp._open = 0  # the following thread ends after its next read
