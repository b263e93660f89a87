"""The active scenarios and conformance runs a registration reads are cached per process until the
store's settings stamp changes: a change made through one process is seen by the very next request
of every other process (two gunicorn workers here, and two stores on one SQLite file)."""

from __future__ import annotations

import datetime as dt
import os

import requests
from instances import start_serve, stop, wait_ready, write_config
from remd_requests import post, register_request, sync_codes

from mock_remd.client.sink import CallbackSink
from mock_remd.soap.builders import register_envelope
from mock_remd.store.repository import Store
from mock_remd.store.runs import Run


def test_activation_reaches_every_worker_at_once(tmp_path):
    sink = CallbackSink().start()
    log = tmp_path / "serve.log"
    proc, url = start_serve(f"sqlite:///{tmp_path / 'remd.db'}", write_config(tmp_path, sink.url), log, workers=2,
                            processors=1)
    try:
        wait_ready(proc, url, log)
        for _ in range(4):  # new connections: the requests land on either worker
            requests.put(url + "/_admin/scenarios/active", json={"names": ["errors-duplicates"]},
                         timeout=10).raise_for_status()
            for _ in range(3):
                resp = post(url + "/port/emdr", register_envelope(register_request(), version="1.2"))
                assert sync_codes(resp) == ["NOT_UNIQUE_PROVIDED_ID"]
            requests.delete(url + "/_admin/scenarios/active", timeout=10).raise_for_status()
            for _ in range(3):
                assert sync_codes(post(url + "/port/emdr", register_envelope(register_request(), version="1.2"))) == []
    finally:
        stop(proc)
        sink.stop()


def test_two_stores_on_one_file_see_each_others_changes(tmp_path):
    url = f"sqlite:///{tmp_path / 'remd.db'}"
    a, b = Store(url), Store(url)
    assert a.scenarios.active() == {} and b.scenarios.active() == {}
    b.scenarios.set_active("", ["chaos"])
    assert a.scenarios.active() == {"": ["chaos"]}
    assert a.runs.active_id("demo") is None
    run = b.runs.create(Run(id="run-1", system="demo", plan="p", plan_def={}, params={}, state="running", steps=[],
                            created_at=dt.datetime(2026, 12, 6)))
    assert a.runs.active_id("demo") == "run-1"
    with b.transaction() as tx:  # a unit of work: the change counts once it is committed
        tx.runs.lock("run-1")
        tx.runs.save(run.changed(state="cancelled", active_system=None))
        assert tx.runs.active_id("demo") is None
    assert a.runs.active_id("demo") is None
    with b.transaction() as tx:
        tx.scenarios.set_active("demo", ["chaos"])
    assert a.scenarios.active() == {"": ["chaos"], "demo": ["chaos"]}
    b.reset(everything=True)
    assert a.scenarios.active() == {}


def test_one_request_reads_the_stamp_once_and_sees_its_own_changes(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'remd.db'}"
    a, b = Store(url), Store(url)
    stats = []
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda path, *args, **kw: (stats.append(str(path)), real_stat(path, *args, **kw))[1])
    with a.db.one_settings_stamp():
        first = a.db.settings_stamp()
        assert a.scenarios.active() == {} and a.runs.active_id("demo") is None
        assert len([p for p in stats if p.endswith(".settings-stamp")]) == 1  # one stat for both reads
        b.scenarios.set_active("", ["chaos"])  # another process's change meanwhile: this request's moment stands
        assert a.db.settings_stamp() == first
        a.scenarios.set_active("demo", ["chaos"])  # this thread's own change is read again at once
        assert a.db.settings_stamp() != first
        assert a.scenarios.active() == {"": ["chaos"], "demo": ["chaos"]}
    b.scenarios.set_active("", [])
    assert a.scenarios.active() == {"demo": ["chaos"]}  # released: every read looks again
