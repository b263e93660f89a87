"""A plain registerDocument served by the HTTP worker's event loop itself (no request thread woken),
everything that could wait still by a request thread: through ``serve`` (real sockets, a SQLite file;
PostgreSQL, where the loop never serves, answers as ever), the core's choice (``may_wait=False``:
nothing done before :class:`WouldWait`), and the group commit led without waiting for another
process's writers' lock."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from instances import start_serve, stop, wait_ready, write_config
from pg_database import database_url
from raw_http import answer_status, connect, read_answers, soap_post
from remd_requests import register_request
from sqlalchemy import bindparam, create_engine, text

from mock_remd.client.sink import CallbackSink
from mock_remd.core.backpressure import Backpressure
from mock_remd.core.registry import RegistryOptions, RegistryService, WouldWait
from mock_remd.soap.builders import register_envelope
from mock_remd.store.engine import Database, WriteLockBusy
from mock_remd.store.group_commit import GroupCommitter
from mock_remd.store.repository import LegProgress, Store

BACKENDS = ["sqlite", "postgres"]


class Served:
    """A ``mock-remd serve`` with one HTTP worker of ``threads`` request threads."""

    def __init__(self, backend: str, db_url: str, url: str) -> None:
        self.backend = backend
        self.db_url = db_url
        self.url = url
        self.port = int(url.rsplit(":", 1)[1])
        self.engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1)
                                    if db_url.startswith("postgresql://") else db_url)

    def journaled(self, local_uid: str) -> list[str]:
        with self.engine.connect() as c:
            return sorted(r[0] for r in c.execute(text("SELECT sync_status FROM requests WHERE local_uid = :u"),
                                                   {"u": local_uid}))

    def journal_size(self) -> int:
        with self.engine.connect() as c:
            return c.execute(text("SELECT count(*) FROM requests")).scalar_one()

    def wait_for_a_waiting_writer(self) -> None:
        """Until a writer of the server waits for the SQLite writers' lock (a blocked flock in /proc/locks)."""
        for _ in range(3000):
            if any("->" in line and "FLOCK" in line for line in Path("/proc/locks").read_text().splitlines()):
                return
            time.sleep(0.01)  # another process's state: nothing to block on
        raise AssertionError("the server's writer never waited")

    def wait_delivered(self, *local_uids: str) -> None:
        """Until the callbacks of ``local_uids`` are delivered."""
        for _ in range(3000):
            with self.engine.connect() as c:
                done = c.execute(text("SELECT count(*) FROM outbox WHERE status = 'delivered' AND local_uid IN :u")
                                 .bindparams(bindparam("u", expanding=True)), {"u": list(local_uids)}).scalar_one()
            if done == len(local_uids):
                return
            time.sleep(0.01)  # another process's state: nothing to block on
        raise AssertionError("callbacks not delivered")

    def stored(self, local_uid: str) -> int:
        with self.engine.connect() as c:
            return c.execute(text("SELECT count(*) FROM documents WHERE local_uid = :u"), {"u": local_uid}).scalar_one()


@contextlib.contextmanager
def _serve(backend: str, tmp, threads: int):
    sink = CallbackSink().start()
    log = tmp / "serve.log"
    with database_url(backend, tmp) as db_url:
        proc, url = start_serve(db_url, write_config(tmp, sink.url), log, workers=1, processors=1,
                                env={"MOCK_REMD_THREADS": str(threads),
                                     # backpressure off: its reading, stale once the background leg is
                                     # idle, would send a request to a thread (tested in the core below)
                                     "MOCK_REMD_BACKLOG_LIMIT": "0"})
        try:
            wait_ready(proc, url, log)
            served = Served(backend, db_url, url)
            yield served
            served.engine.dispose()
        finally:
            stop(proc)
            sink.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def one_thread(request, tmp_path_factory):
    """serve with a single request thread (what the loop serves is answered while it is busy)."""
    with _serve(request.param, tmp_path_factory.mktemp(f"inline-{request.param}"), threads=1) as served:
        yield served


def _register(**overrides) -> tuple[bytes, str]:
    req = register_request(**overrides)
    return soap_post(register_envelope(req, version="1.2")), req.local_uid


def _connect(served: Served) -> socket.socket:
    return connect(served.port, timeout=60)


def _answers(s: socket.socket, count: int) -> list[tuple[bytes, bytes]]:
    return read_answers(s, count, nothing_after=True)


def _answer(s: socket.socket) -> tuple[bytes, bytes]:
    return _answers(s, 1)[0]


_status = answer_status


def _nothing_yet(s: socket.socket) -> bool:
    s.setblocking(False)
    try:
        return s.recv(1, socket.MSG_PEEK) == b"x"  # (closed: b"" is not "nothing yet" either)
    except BlockingIOError:
        return True
    finally:
        s.setblocking(True)


def test_a_plain_registration_is_answered_while_the_only_request_thread_is_busy(one_thread):
    """The request thread sleeps through a MOCK:DELAY answer: a plain registration is answered by the
    loop meanwhile (SQLite); on PostgreSQL the loop leaves it to the thread, after the delayed one."""
    warm, warm_uid = _register()
    delayed, delayed_uid = _register(document_number="MOCK:DELAY:6000")
    plain, plain_uid = _register()
    with _connect(one_thread) as busy, _connect(one_thread) as other:
        other.sendall(warm)  # (the caller's system is cached from here on: the loop needs no store read)
        assert _status(_answer(other)[1]) == "success"
        busy.sendall(delayed)
        # the background process done with both documents (their callbacks delivered): it holds the
        # writers' lock no more, which would hand the loop's batch to the (sleeping) thread
        one_thread.wait_delivered(warm_uid, delayed_uid)
        other.sendall(plain)
        head, body = _answer(other)
        if one_thread.backend == "sqlite":
            assert _nothing_yet(busy)
        assert head.startswith(b"HTTP/1.1 200") and _status(body) == "success"
        head, body = _answer(busy)
        assert head.startswith(b"HTTP/1.1 200") and _status(body) == "success"
    assert one_thread.journaled(plain_uid) == ["success"] and one_thread.stored(plain_uid) == 1
    assert one_thread.journaled(delayed_uid) == ["success"] and one_thread.stored(delayed_uid) == 1


@pytest.mark.parametrize(("overrides", "status", "answer"), [
    ({"organization": "1.2.643.5.1.13.13.12.2.50.1"}, "error", "VALIDATION_ERROR"),  # an early error
    ({"document_number": "MOCK:SYNC:VALIDATION_ERROR"}, "error", "VALIDATION_ERROR"),
    ({"document_number": "MOCK:FAULT"}, "", "Fault"),
    ({"document_number": "MOCK:HTTP:503"}, "", "HTTP 503"),
    ({"document_number": "MOCK:DELAY:0"}, "success", "success"),
    ({"document_number": "MOCK:CALLBACK:NEVER"}, "success", "success"),
])
def test_what_the_loop_leaves_to_a_thread_is_answered_and_journaled_once(one_thread, overrides, status, answer):
    raw, uid = _register(**overrides)
    with _connect(one_thread) as s:
        s.sendall(raw)
        head, body = _answer(s)
    assert answer.encode() in head + body
    assert _status(body) == status
    assert len(one_thread.journaled(uid)) == 1


def test_a_duplicate_a_fault_and_other_operations_on_a_kept_alive_connection(one_thread):
    raw, uid = _register()
    before = one_thread.journal_size()
    with _connect(one_thread) as s:
        s.sendall(raw)
        assert _status(_answer(s)[1]) == "success"
        s.sendall(raw)  # the same localUid again
        head, body = _answer(s)
        assert _status(body) == "error" and b"NOT_UNIQUE_PROVIDED_ID" in body
        s.sendall(soap_post(b"<broken"))
        head, body = _answer(s)
        assert head.startswith(b"HTTP/1.1 400") and b"Fault" in body
    r = requests.get(one_thread.url + "/health", timeout=30)
    assert r.status_code == 200
    assert one_thread.journaled(uid) == ["error", "success"] and one_thread.stored(uid) == 1
    assert one_thread.journal_size() == before + 3  # the fault once


def test_pipelined_registrations_and_a_slow_client(one_thread):
    sent = [_register() for _ in range(4)]
    slow_raw, slow_uid = _register()
    with _connect(one_thread) as slow, _connect(one_thread) as s:
        slow.sendall(slow_raw[:len(slow_raw) // 2])  # the rest comes after the others are answered
        s.sendall(b"".join(raw for raw, _ in sent))
        bodies = [body for _, body in _answers(s, len(sent))]
        assert [_status(b) for b in bodies] == ["success"] * 4
        for _, uid in sent:
            assert one_thread.stored(uid) == 1
        assert _nothing_yet(slow)
        slow.sendall(slow_raw[len(slow_raw) // 2:])
        assert _status(_answer(slow)[1]) == "success"
    assert one_thread.journaled(slow_uid) == ["success"]


def test_health_is_answered_while_the_loop_serves_registrations(tmp_path):
    """Eight connections registering without pause, the loop serving them: /health on a ninth still answered."""
    with _serve("sqlite", tmp_path, threads=2) as served:
        stop_sending = threading.Event()
        failures: list[str] = []
        counts: list[int] = []

        def client() -> None:
            n = 0
            with _connect(served) as s:
                while not stop_sending.is_set():
                    s.sendall(_register()[0])
                    head, body = _answer(s)
                    if _status(body) != "success":
                        failures.append(head[:40].decode(errors="replace"))
                    n += 1
            counts.append(n)

        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()
        try:
            for _ in range(20):
                assert requests.get(served.url + "/health", timeout=30).status_code == 200
        finally:
            stop_sending.set()
            for t in threads:
                t.join(60)
        assert not failures and len(counts) == 8


def test_the_loop_does_not_wait_for_another_process_writing(tmp_path):
    """Another process holds the SQLite writers' lock: registrations wait for it (in a request thread),
    the loop goes on (another connection's request that needs no write is answered), and once the
    lock is free every registration is answered after its commit."""
    with _serve("sqlite", tmp_path, threads=2) as served:
        holder = Database(served.db_url)
        socks = [_connect(served) for _ in range(3)]
        uids = []
        try:
            with holder.write_lock():
                for s in socks:
                    raw, uid = _register()
                    uids.append(uid)
                    s.sendall(raw)
                served.wait_for_a_waiting_writer()  # the batch waits for the lock, in a request thread
                r = requests.get(served.url + "/health", timeout=30)  # the other thread answers it
                assert r.status_code == 200
                with _connect(served) as other:  # and the loop still reads and serves requests
                    other.sendall(_register()[0])
                    assert _nothing_yet(other)
                assert all(_nothing_yet(s) for s in socks)
                assert [served.stored(u) for u in uids] == [0, 0, 0]
            for s, uid in zip(socks, uids, strict=True):
                assert _status(_answer(s)[1]) == "success"
                assert served.stored(uid) == 1
        finally:
            for s in socks:
                s.close()
            holder.engine.dispose()


# ---- the core: may_wait=False does nothing before WouldWait -------------------------------------------
@pytest.fixture(params=BACKENDS)
def service(request, tmp_path):
    from mock_remd.config import Settings

    with database_url(request.param, tmp_path) as db_url:
        settings = Settings.load({"db_url": db_url, "cache_dir": str(tmp_path / "cache")}, environ={})
        store = Store(settings.db_url)
        svc = RegistryService(store, settings.validation_settings().kinds, RegistryOptions())
        svc.seed_systems([])
        yield svc
        store.close()


def _inline(svc: RegistryService, req):
    """register_then as the event loop calls it: the results, once the calls it was handed ran (the
    loop's, then the request threads')."""
    results: list = []
    calls: list = []
    done = svc.register_then(req, lambda result, error: results.append((result, error)), elsewhere=calls.append,
                             may_wait=False, lead=calls.append)
    while calls:
        calls.pop(0)()
    return done, results


def _journal_size(svc: RegistryService) -> int:
    with svc.store.db.engine.connect() as c:
        return c.execute(text("SELECT count(*) FROM requests")).scalar_one()


def test_a_plain_registration_goes_inline_once_its_system_is_known(service):
    req = register_request()
    if not service.store.db.is_sqlite:  # the loop would lead a batch over the network: never inline
        with pytest.raises(WouldWait):
            _inline(service, req)
        assert _journal_size(service) == 0
        return
    with pytest.raises(WouldWait):  # the caller's system is not cached: a store read
        _inline(service, req)
    assert service.identify(req.client_entity_id) is not None
    done, results = _inline(service, req)
    assert done is None
    [(result, error)] = results
    assert error is None and result.status == "success"
    assert service.store.documents.find_active(req.local_uid) is not None
    done, results = _inline(service, register_request(local_uid=req.local_uid))  # a duplicate: answered elsewhere
    [(result, error)] = results
    assert result.status == "error" and result.errors[0].code == "NOT_UNIQUE_PROVIDED_ID"


@pytest.mark.parametrize("overrides", [
    {"document_number": "MOCK:DELAY:1"}, {"document_number": "MOCK:SYNC:VALIDATION_ERROR"},
    {"document_number": "MOCK:FAULT"}, {"document_number": "MOCK:HTTP:503"}, {"document_number": "MOCK:DROP:reset"},
    {"organization": "1.2.3"}, {"client_entity_id": str(uuid.uuid4())},
])
def test_whatever_would_wait_or_journal_now_is_refused_before_anything(service, overrides):
    service.identify(register_request().client_entity_id)
    req = register_request(**overrides)
    if "client_entity_id" in overrides:
        service.identify(req.client_entity_id)  # cached as unknown: refused with NO_RMIS, journaled
    with pytest.raises(WouldWait):
        _inline(service, req)
    assert _journal_size(service) == 0
    assert service.store.documents.find_active(req.local_uid) is None


def test_backpressure_due_or_not_read_lately_is_refused(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'remd.db'}")
    progress = [LegProgress(due=0, jobs_open=0, jobs_made=0)]
    clock = [100.0]
    try:
        svc = RegistryService(store, _kinds(tmp_path), RegistryOptions())
        svc.backpressure = Backpressure(lambda: progress[0], limit=10, clock=lambda: clock[0], follow=False)
        svc.seed_systems([])
        req = register_request()
        svc.identify(req.client_entity_id)
        with pytest.raises(WouldWait):  # never read: a store read is due
            _inline(svc, req)
        svc.backpressure.refresh()
        assert _inline(svc, req)[0] is None  # read just now, below the limit
        progress[0] = LegProgress(due=50, jobs_open=50, jobs_made=60)
        clock[0] += 1.0
        svc.backpressure.refresh()
        req = register_request()
        with pytest.raises(WouldWait):  # over the limit: a wait is due
            _inline(svc, req)
        assert svc.store.documents.find_active(req.local_uid) is None
        clock[0] += 1.0
        with pytest.raises(WouldWait):  # not read lately
            _inline(svc, req)
    finally:
        store.close()


def _kinds(tmp_path):
    from mock_remd.config import Settings

    return Settings.load({"db_url": f"sqlite:///{tmp_path / 'remd.db'}", "cache_dir": str(tmp_path / "cache")},
                         environ={}).validation_settings().kinds


# ---- the group commit led without waiting ------------------------------------------------------------
def _insert(n: int):
    def apply(c):
        c.exec_driver_sql(f"INSERT INTO t (n) VALUES ({n})")
        return n
    return apply


def test_a_batch_led_without_waiting_goes_elsewhere_while_another_process_writes(tmp_path):
    url = f"sqlite:///{tmp_path / 'gc.db'}"
    db, other = Database(url), Database(url)
    try:
        with db.transaction() as c:
            c.exec_driver_sql("CREATE TABLE t (n INTEGER PRIMARY KEY)")
        group = GroupCommitter(db)
        answered: list[tuple[object, object]] = []
        soon: list = []
        handed: list = []
        with other.write_lock():
            with pytest.raises(WriteLockBusy), db.write_lock(wait=False):
                pass
            for n in range(3):
                group.submit_then(_insert(n), lambda r, e: answered.append((r, e)), lead=soon.append,
                                  elsewhere=handed.append)
            assert len(set(soon)) == 1 and answered == []
            soon[0]()  # the loop's call: the lock is busy, handed to a thread
            assert answered == [] and handed == [group.lead_queued]
        handed[0]()  # the thread, once the lock is free
        assert sorted(answered) == [(0, None), (1, None), (2, None)]
        group.submit_then(_insert(3), lambda r, e: answered.append((r, e)), lead=soon.append, elsewhere=handed.append)
        soon[-1]()  # the lock is free: led by the loop's call itself
        assert answered[-1] == (3, None) and len(handed) == 1
        group.close()
    finally:
        db.engine.dispose()
        other.engine.dispose()


def test_an_active_scenario_counts_each_request_once(tmp_path):
    """A rule for the 2nd registration: deciding counts requests (a write), so the loop leaves them
    all to a request thread while the scenario is active, and each is counted once."""
    with _serve("sqlite", tmp_path, threads=2) as served:
        text_ = "name: second\nrules:\n  - match: {operation: registerDocument, nth: 2}\n    sync: {errors: [{code: NO_SIGNATURE}]}\n"
        r = requests.post(served.url + "/_admin/scenarios", data=text_.encode(), timeout=30,
                          headers={"Content-Type": "application/yaml"})
        assert r.status_code == 201
        assert requests.put(served.url + "/_admin/scenarios/active", json={"names": ["second"]},
                            timeout=30).status_code == 200
        statuses = []
        with _connect(served) as s:
            for _ in range(3):
                s.sendall(_register()[0])
                statuses.append(_status(_answer(s)[1]))
        assert statuses == ["success", "error", "success"]
        assert requests.put(served.url + "/_admin/scenarios/active", json={"names": []}, timeout=30).status_code == 200
        with _connect(served) as s:
            s.sendall(_register()[0])
            assert _status(_answer(s)[1]) == "success"
