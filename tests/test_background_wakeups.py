"""Background loops are woken by the store, not by a tight poll: a callback queued by another store
(as another process would) is sent at once although the fallback poll is far away; an idle loop does
not ask the database on every tick; a callback delayed into the future goes out when it falls due.

SQLite file (the ``stat`` of the database and its WAL) and a real PostgreSQL (LISTEN/NOTIFY).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid

import pytest
from pg_database import database_url

from mock_remd.background import BackgroundLoop
from mock_remd.delivery.callback_xml import result_envelope
from mock_remd.delivery.sender import CallbackSender
from mock_remd.store.clock import utcnow
from mock_remd.store.outbox import NewDelivery
from mock_remd.store.repository import Store


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    with database_url(request.param, tmp_path) as url:
        yield url


def _delivery(url: str, *, delay_s: float = 0.0) -> NewDelivery:
    relates = str(uuid.uuid4())
    body = result_envelope({"status": "success", "local_uid": relates, "emdr_id": "1.50.26.11.000000001"},
                           relates_to=relates, to=url)
    return NewDelivery(relates_to=relates, local_uid=relates, url=url, body=body,
                       due_at=utcnow() + dt.timedelta(seconds=delay_s))


def _wait(pred, timeout: float) -> float:
    start = time.monotonic()
    while not pred():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(0.01)  # watching a sink filled by another thread
    return time.monotonic() - start


def test_callback_queued_elsewhere_is_sent_without_waiting_for_the_fallback_poll(db_url, sink):
    sending, other = Store(db_url), Store(db_url)  # two engines: as two processes of one server
    sender = CallbackSender(sending, poll_interval=0.02)
    sender.loop.idle_poll = 30.0  # only a wake-up can explain a prompt delivery
    sender.start()
    try:
        time.sleep(0.3)  # the sender is idle now
        other.outbox.add(_delivery(sink.url))
        assert _wait(lambda: sink.requests_seen == 1, 10) < 3
        # a callback due in a second is sent when it falls due, not at the fallback poll
        other.outbox.add(_delivery(sink.url, delay_s=1.0))
        took = _wait(lambda: sink.requests_seen == 2, 10)
        assert 0.5 < took < 3
    finally:
        sender.stop()
        sending.close()
        other.close()


def test_an_idle_loop_looks_only_when_the_store_changed(db_url):
    store, other = Store(db_url), Store(db_url)
    looks = []

    def step() -> int:
        looks.append(time.monotonic())
        return 0

    loop = BackgroundLoop("test-idle", step, poll_interval=0.01, token=lambda: store.changes.token("outbox"),
                          idle_poll=30.0)
    store.changes.subscribe("outbox", loop.wake)
    loop.start()
    try:
        _wait(lambda: store.changes.token("outbox") is not None, 10)
        time.sleep(0.5)
        settled = len(looks)
        time.sleep(0.5)
        assert len(looks) - settled <= 2, "an idle loop with a quiet store kept asking it"
        other.outbox.add(_delivery("http://127.0.0.1:9/"))
        _wait(lambda: len(looks) > settled + 0, 5)
    finally:
        loop.stop()
        store.close()
        other.close()


def test_without_a_token_the_loop_polls_every_tick():
    looks = []
    loop = BackgroundLoop("test-poll", lambda: looks.append(1) or 0, poll_interval=0.01)
    loop.start()
    time.sleep(0.3)
    loop.stop()
    assert len(looks) >= 5


def test_a_missed_sign_costs_latency_not_work():
    """A token that never moves: the loop still looks every ``idle_poll``."""
    looks = []
    event = threading.Event()

    def step() -> int:
        looks.append(1)
        if len(looks) >= 3:
            event.set()
        return 0

    loop = BackgroundLoop("test-fallback", step, poll_interval=0.01, token=lambda: "never moves", idle_poll=0.1)
    loop.start()
    assert event.wait(5)
    loop.stop()


def _status(store: Store, delivery_id: int) -> tuple[str, str | None]:
    row = store.outbox.get(delivery_id)
    assert row is not None
    return row.status, row.owner


def test_callbacks_handed_to_the_sender_are_sent_once_without_a_claim(db_url, sink):
    store = Store(db_url)
    sender = CallbackSender(store, poll_interval=0.02)
    sender.loop.idle_poll = 30.0
    sender.start()
    try:
        handed = store.outbox.add_all([_delivery(sink.url) for _ in range(5)], hand_to=sender.owner)
        assert len(handed) == 5 and {_status(store, d.id) for d in handed} == {("sending", sender.owner)}
        # due later: queued as usual, not handed over
        assert store.outbox.add_all([_delivery(sink.url, delay_s=3600)], hand_to=sender.owner) == []
        sender.take(handed)
        _wait(lambda: sink.requests_seen == 5, 10)
        _wait(lambda: {_status(store, d.id)[0] for d in handed} == {"delivered"}, 10)
        time.sleep(0.3)
        assert sink.requests_seen == 5
    finally:
        sender.stop()
        store.close()


def test_handed_callbacks_survive_a_sender_that_stops_or_dies(db_url, sink):
    store = Store(db_url)
    stopped = CallbackSender(store)  # never started: gives back what it is handed
    given_back = store.outbox.add_all([_delivery(sink.url)], hand_to=stopped.owner)
    stopped.take(given_back)
    assert _status(store, given_back[0].id) == ("pending", None)
    # handed to a process that died before sending: taken over when its lease lapses
    orphan = store.outbox.add_all([_delivery(sink.url)], hand_to="sender:gone:1:x", lease_seconds=0.3)
    assert _status(store, orphan[0].id) == ("sending", "sender:gone:1:x")
    other = CallbackSender(store, poll_interval=0.02)
    other.start()
    try:
        _wait(lambda: sink.requests_seen == 2, 10)
        _wait(lambda: {_status(store, d.id)[0] for d in given_back + orphan} == {"delivered"}, 10)
        time.sleep(0.3)
        assert sink.requests_seen == 2
    finally:
        other.stop()
        store.close()
