"""The callback sender: takes due deliveries from the outbox, POSTs them, retries with backoff.

Any HTTP 2xx acknowledges; anything else, a timeout or a refused connection is an attempt that
failed. After the last delay of the delivery's backoff list the delivery is ``dead``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import deque
from typing import Any

import requests

from mock_remd.background import BatchWorker, owner_id
from mock_remd.catalog.findings import text as finding_text
from mock_remd.catalog.incidents import failure_sentence, network_failure, record_incident
from mock_remd.delivery.callback_xml import content_type
from mock_remd.delivery.failures import PostFailed
from mock_remd.store.clock import iso, utcnow
from mock_remd.store.outbox import AttemptResult, Delivery
from mock_remd.store.repository import Store

log = logging.getLogger(__name__)

#: how much of the MIS's answer is kept in the attempt log
RESPONSE_SNIPPET = 2000
#: while callbacks are handed over by the processor, the outbox is still claimed from this often, seconds
CLAIM_EVERY = 0.2


class CallbackSender(BatchWorker):
    """Delivers callbacks from the outbox; several senders (processes) never send one row twice."""

    def __init__(self, store: Store, *, timeout: float = 10.0, threads: int = 8, poll_interval: float = 0.2) -> None:
        self.store = store
        self.timeout = timeout
        self.owner = owner_id("sender")
        super().__init__("mock-remd-sender", threads=threads, poll_interval=poll_interval,
                         token=lambda: store.changes.token("outbox"), next_due=store.outbox.seconds_to_next_due,
                         scope=store.db.kept_connection)
        #: made at the first callback (libcurl is loaded only in the processes that send)
        self._poster: Any = None
        self._poster_made = threading.Lock()
        #: deliveries the processor of this process wrote already claimed for this sender (see :meth:`take`)
        self._handed: deque[Delivery] = deque()
        self._handing = threading.Lock()
        self._accepting = False
        self._claimed_at = 0.0
        #: when callbacks were last handed over (monotonic)
        self._handed_at = float("-inf")
        self.sent = 0

    def start(self) -> None:
        """Start the loop, woken by the store when another process queues a callback."""
        self.store.changes.subscribe("outbox", self.wake)
        super().start()
        self._accepting = True

    def stop(self) -> None:
        """Stop after the batch in hand; deliveries handed over but not sent go back to the queue."""
        with self._handing:
            self._accepting = False
        super().stop()
        self._release(list(self._handed))
        self._handed.clear()

    @property
    def accepting(self) -> bool:
        """True while :meth:`take` will send what it is given."""
        return self._accepting and self.loop.running

    def take(self, rows: list[Delivery]) -> None:
        """Send these deliveries, written already claimed by this sender (``Outbox.add_all(hand_to=)``)."""
        if not rows:
            return
        with self._handing:
            if self._accepting:
                self._handed.extend(rows)
                rows = []
        if rows:  # stopped meanwhile: back to the queue for whoever sends next
            self._release(rows)
        self.wake()

    def _release(self, rows: list[Delivery]) -> None:
        try:
            self.store.outbox.release([r.id for r in rows], self.owner)
        except Exception:  # the database is away: the leases lapse and another sender takes them
            record_incident("giving back callbacks at stop")

    def _renew(self) -> int:
        if self._busy.is_set() or self._handed:
            self.renew()
        return 0

    def step(self) -> int:
        """Send the deliveries handed over, or claim due ones and send them; returns how many were taken."""
        # four per thread: the batch's transaction and hand-overs weigh on each callback less (with libcurl
        # the POST itself is cheap); a slow MIS delays the batch's log, never the other POSTs
        limit = self.threads * 4
        rows = []
        while self._handed and len(rows) < limit:
            rows.append(self._handed.popleft())
        # due work of others (retries, other processes' callbacks) is claimed when nothing was handed
        # over, or at the latest every CLAIM_EVERY seconds while callbacks keep being handed over. While
        # they are (the last hand-over less than CLAIM_EVERY ago), a step with nothing handed does not
        # claim either before CLAIM_EVERY has passed: under load every commit of any process moves the
        # store's change token, and each move cost a look for due callbacks (a read transaction, ~50 a
        # second); due work waits at most CLAIM_EVERY longer, as it does beside handed callbacks
        now = time.monotonic()
        if rows:
            self._handed_at = now
        lately = now - self._handed_at < CLAIM_EVERY
        if len(rows) < limit and (not (rows or lately) or now - self._claimed_at >= CLAIM_EVERY):
            self._claimed_at = now
            rows += self.store.outbox.claim(self.owner, limit=limit - len(rows))
        if not rows:
            return 0
        results = self.attempt_all(rows) if len(rows) > 1 else [self.attempt(rows[0])]
        statuses = self.store.outbox.record_attempts(results, owner=self.owner)  # one transaction for the batch
        self.sent += statuses.count("delivered")
        return len(rows)

    def renew(self) -> None:
        """Keep the leases of the deliveries in hand (called while a batch is being sent)."""
        self.store.outbox.renew_leases(self.owner)

    def _post_with(self) -> Any:
        poster = self._poster
        if poster is None:
            with self._poster_made:
                if self._poster is None:
                    from mock_remd.delivery.http_post import CallbackPoster

                    self._poster = CallbackPoster(self.timeout)
                poster = self._poster
        return poster

    def attempt(self, row: Delivery) -> AttemptResult:
        """POST one claimed delivery; returns the attempt log entry, whether it was delivered, and when
        to try again (None: no more)."""
        at, started = iso(utcnow()), time.perf_counter()
        try:
            answer: Any = self._post_with().post(row.url, row.body, content_type=content_type(row.soap_version),
                                                 action=row.action)
        except Exception as exc:  # judged below, as post_all hands it back
            answer = exc
        return self._result(row, at, answer, (time.perf_counter() - started) * 1000)

    def attempt_all(self, rows: list[Delivery]) -> list[AttemptResult]:
        """:meth:`attempt` for each row, ``threads`` POSTs under way at a time, all driven by this thread
        (libcurl's multi interface: no hand-over to a thread per POST); results in order."""
        from mock_remd.delivery.http_post import Post

        at, started = iso(utcnow()), time.perf_counter()
        try:
            answers: list[Any] = self._post_with().post_all(
                [Post(r.url, r.body, content_type(r.soap_version), r.action) for r in rows], at_once=self.threads)
        except Exception as exc:  # a bug of ours below the POSTs: each delivery gets its incident
            answers = [exc] * len(rows)
        duration = (time.perf_counter() - started) * 1000
        return [self._result(row, at, answer, duration) for row, answer in zip(rows, answers, strict=True)]

    def _result(self, row: Delivery, at: str, answer: Any, duration_ms: float) -> AttemptResult:
        """The attempt log entry of ``row`` from the answer (or the exception) its POST gave."""
        attempt: dict[str, Any] = {"at": at, "http_status": None, "error": None}
        ok = False
        if isinstance(answer, PostFailed):  # one sentence naming the address, never the library's text
            attempt["error"] = failure_sentence(answer.kind, row.url, timeout=self.timeout)
        elif isinstance(answer, requests.RequestException):  # an address requests refuses to prepare
            attempt["error"] = network_failure(row.url, answer, timeout=self.timeout)
        elif isinstance(answer, Exception):  # a bug of ours (or a URL no library can use): this delivery only
            incident = record_incident("callback attempt", exc_info=answer, delivery_id=row.id, url=row.url)
            attempt["error"] = finding_text("delivery.internal", incident=incident.id)
        else:
            attempt["http_status"] = answer.status
            attempt["response"] = answer.text[:RESPONSE_SNIPPET]
            ok = 200 <= answer.status < 300
            if not ok:
                attempt["error"] = f"HTTP {answer.status}"
        attempt["duration_ms"] = round(duration_ms, 1)
        next_due = None
        if not ok:
            backoff = list(row.backoff or [])
            done = int(row.attempt_count or 0) + 1
            if done <= len(backoff):
                next_due = utcnow() + dt.timedelta(seconds=float(backoff[done - 1]))
        return AttemptResult(row.id, attempt, ok, next_due, attempts_before=list(row.attempts or []),
                             count_before=int(row.attempt_count or 0))
