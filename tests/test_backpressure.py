"""Backpressure: while more asynchronous work is due than ``backlog_limit``, a registration waits
before it is worked on (in proportion to the excess); when the work is done, nothing waits. Checked
on the decision (the delay), never on elapsed time."""

from __future__ import annotations

import time

from remd_requests import register, sync_status

from mock_remd.core.backpressure import MAX_WAIT_SECONDS
from mock_remd.server.threaded import ThreadedServer


def test_registrations_wait_while_the_backlog_is_above_the_limit(make_server, sink):
    srv: ThreadedServer = make_server(backlog_limit=4)
    srv.runtime.stop()  # the asynchronous leg stands still: the accepted work piles up
    sent = [register(srv) for _ in range(10)]
    assert all(sync_status(resp) == "success" for resp, _req in sent)  # slowed, never refused
    bp = srv.runtime.service.backpressure
    bp._counted = float("-inf")  # noqa: SLF001 - count now, not at the next refresh
    assert srv.runtime.store.count_due_work() == 10
    assert 0.05 < bp.delay() <= MAX_WAIT_SECONDS
    srv.runtime.start_background()
    for _resp, req in sent:
        assert sink.wait_for(req.message_id, timeout=30).status == "success"
    for _ in range(100):  # the sender records the last attempts just after the sink has them
        if srv.runtime.store.count_due_work() == 0:
            break
        time.sleep(0.05)
    bp._counted = float("-inf")  # noqa: SLF001
    assert srv.runtime.store.count_due_work() == 0 and bp.delay() == 0.0


def test_off_with_limit_zero(make_server):
    srv = make_server(backlog_limit=0)
    assert srv.runtime.service.backpressure.delay() == 0.0
