"""registerDocument answered by the thread that commits it (``serve``'s buffering worker, a real
socket, SQLite file and PostgreSQL): the answer leaves only after the commit; a write failing in a
batch fails alone with the internal-error Fault; duplicates, keep-alive and pipelined requests are
answered as ever; a client gone before its answer leaves its document accepted and the server serving;
a request whose answer (or its timing) a behaviour decides (magic values, scenarios) is answered by
its own thread."""

from __future__ import annotations

import contextlib
import re
import socket
import struct
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
from sqlalchemy import create_engine, text

from mock_remd.client.sink import CallbackSink
from mock_remd.core.registry import RegistryOptions, RegistryService
from mock_remd.domain.model import normalize_message_id
from mock_remd.soap.builders import register_envelope
from mock_remd.store.engine import Database
from mock_remd.store.repository import Store

BACKENDS = ["sqlite", "postgres"]


class Served:
    """A ``mock-remd serve`` (one HTTP worker) on ``url``, and a way to hold its store's writers."""

    def __init__(self, backend: str, db_url: str, port: int, log, sink: CallbackSink) -> None:
        self.backend = backend
        self.sink = sink
        self.db_url = db_url
        self.port = port
        self.log = log
        self.engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1)
                                    if db_url.startswith("postgresql://") else db_url)

    @contextlib.contextmanager
    def writers_held(self):
        """The server's writes wait meanwhile (SQLite: its writers' lock; PostgreSQL: the documents table locked)."""
        if self.backend == "sqlite":
            db = Database(self.db_url)
            try:
                with db.write_lock():
                    yield
            finally:
                db.engine.dispose()
            return
        with self.engine.connect() as c, c.begin():
            c.execute(text("LOCK TABLE documents IN EXCLUSIVE MODE"))
            yield

    def wait_for_a_waiting_writer(self) -> None:
        """Until the server's writer waits for what :meth:`writers_held` holds (it has read its request)."""
        for _ in range(3000):
            if self.backend == "sqlite":  # a blocked flock is shown with "->" in /proc/locks
                if any("->" in line and "FLOCK" in line for line in Path("/proc/locks").read_text().splitlines()):
                    return
            else:
                with self.engine.connect() as c:
                    if c.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar_one():
                        return
            time.sleep(0.01)  # another process's state: nothing to block on
        raise AssertionError("the server's writer never waited")

    def stored(self, local_uid: str) -> list[str]:
        """The statuses of the documents stored with ``local_uid``."""
        with self.engine.connect() as c:
            return [r[0] for r in c.execute(text("SELECT status FROM documents WHERE local_uid = :u"), {"u": local_uid})]

    def journaled(self, local_uid: str) -> list[str]:
        """The sync statuses journaled for ``local_uid``."""
        with self.engine.connect() as c:
            return sorted(r[0] for r in c.execute(text("SELECT sync_status FROM requests WHERE local_uid = :u"),
                                                   {"u": local_uid}))

    def refuse(self, local_uid: str) -> None:
        """Make the database refuse to store a document with ``local_uid`` (a trigger of its own)."""
        with self.engine.begin() as c:
            if self.backend == "sqlite":
                c.execute(text(f"CREATE TRIGGER refuse_{uuid.uuid4().hex[:8]} BEFORE INSERT ON documents "
                               f"WHEN NEW.local_uid = '{local_uid}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"))
            else:
                name = f"refuse_{uuid.uuid4().hex[:8]}"
                c.execute(text(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                               f"IF NEW.local_uid = '{local_uid}' THEN RAISE EXCEPTION 'refused by the test'; END IF; "
                               f"RETURN NEW; END $$"))
                c.execute(text(f"CREATE TRIGGER {name} BEFORE INSERT ON documents FOR EACH ROW EXECUTE FUNCTION {name}()"))


@pytest.fixture(scope="module", params=BACKENDS)
def served(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"later-{request.param}")
    sink = CallbackSink().start()
    log = tmp / "serve.log"
    with database_url(request.param, tmp) as db_url:
        proc, url = start_serve(db_url, write_config(tmp, sink.url), log, workers=1, processors=1)
        try:
            wait_ready(proc, url, log)
            s = Served(request.param, db_url, int(url.rsplit(":", 1)[1]), log, sink)
            yield s
            s.engine.dispose()
        finally:
            stop(proc)
            sink.stop()


def _raw(local_uid: str | None = None, **overrides) -> tuple[bytes, str]:
    """A registerDocument POST (fast path) and its MessageID."""
    req = register_request(**({"local_uid": local_uid} if local_uid else {}), **overrides)
    return soap_post(register_envelope(req, version="1.2")), req.message_id


def _connect(served: Served) -> socket.socket:
    return connect(served.port)


_read_answers = read_answers
_status = answer_status


def _relates_to(body: bytes) -> str:
    m = re.search(rb"RelatesTo[^>]*>([^<]+)<", body)
    return m.group(1).decode() if m else ""


def test_the_answer_leaves_only_after_the_commit(served):
    raw, _ = _raw(uid := str(uuid.uuid4()))
    with _connect(served) as s:
        with served.writers_held():
            s.sendall(raw)
            s.settimeout(1.0)
            with pytest.raises(TimeoutError):  # the write waits for the writers' lock: so does the answer
                s.recv(1)
            assert served.stored(uid) == []
        s.settimeout(30)
        [(head, body)] = _read_answers(s, 1)
        assert head.startswith(b"HTTP/1.1 200") and _status(body) == "success"
        assert served.stored(uid) != []  # committed before it was answered
        assert served.journaled(uid) == ["success"]


def test_a_failing_write_fails_alone_in_its_batch(served):
    refused = str(uuid.uuid4())
    served.refuse(refused)
    uids = [str(uuid.uuid4()) for _ in range(5)] + [refused]
    answers: dict[str, tuple[bytes, bytes]] = {}
    socks = [_connect(served) for _ in uids]
    try:
        with served.writers_held():  # all six are queued while the writers wait: one batch
            for s, uid in zip(socks, uids, strict=True):
                s.sendall(_raw(uid)[0])
        for s, uid in zip(socks, uids, strict=True):
            [answers[uid]] = _read_answers(s, 1)
    finally:
        for s in socks:
            s.close()
    for uid in uids[:-1]:
        head, body = answers[uid]
        assert head.startswith(b"HTTP/1.1 200") and _status(body) == "success"
        assert served.stored(uid) != []
    head, body = answers[refused]
    assert head.startswith(b"HTTP/1.1 500")
    text_ = body.decode()
    assert "Внутренняя ошибка (инцидент " in text_
    for leak in ("refused by the test", "Traceback", "sqlalchemy", "IntegrityError", "RaiseException", "sqlite"):
        assert leak.lower() not in text_.lower()
    assert served.stored(refused) == []
    incident = re.search(r"инцидент ([0-9a-f]{8})", text_).group(1)
    assert f"incident {incident}" in served.log.read_text(errors="replace")


def test_duplicates_in_one_batch_and_after_it(served):
    uid = str(uuid.uuid4())
    socks = [_connect(served) for _ in range(2)]
    try:
        with served.writers_held():
            for s in socks:
                s.sendall(_raw(uid)[0])
        bodies = [_read_answers(s, 1)[0][1] for s in socks]
        with _connect(served) as s:
            s.sendall(_raw(uid)[0])
            [(_, later)] = _read_answers(s, 1)
    finally:
        for s in socks:
            s.close()
    assert sorted(_status(b) for b in bodies) == ["error", "success"]
    for b in [*[b for b in bodies if _status(b) == "error"], later]:
        assert _status(b) == "error" and b"NOT_UNIQUE_PROVIDED_ID" in b
    assert len(served.stored(uid)) == 1
    assert served.journaled(uid) == ["error", "error", "success"]


def test_kept_alive_and_pipelined_requests_are_answered_in_order(served):
    with _connect(served) as s:
        sent = [_raw() for _ in range(5)]
        s.sendall(b"".join(raw for raw, _ in sent))  # pipelined: five requests in one send
        answers = _read_answers(s, 5)
        assert [_relates_to(body) for _, body in answers] == [mid for _, mid in sent]
        for _ in range(3):  # then one at a time on the same connection
            raw, mid = _raw()
            s.sendall(raw)
            [(head, body)] = _read_answers(s, 1)
            assert b"connection: keep-alive" in head.lower()
            assert _relates_to(body) == mid
    assert all(_status(body) == "success" for _, body in answers)


def test_a_client_gone_before_its_answer(served):
    uid = str(uuid.uuid4())
    s = _connect(served)
    with served.writers_held():
        s.sendall(_raw(uid)[0])
        served.wait_for_a_waiting_writer()  # the request was read: its write waits
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # a reset: the answer finds no one
    with _connect(served) as other:  # the server goes on; the gone client's document was accepted
        raw, _ = _raw()
        other.sendall(raw)
        [(head, body)] = _read_answers(other, 1)
        assert head.startswith(b"HTTP/1.1 200") and _status(body) == "success"
    assert served.stored(uid) != []
    assert served.journaled(uid) == ["success"]


def test_a_requests_session_keeps_its_connection(served):
    with requests.Session() as session:
        for _ in range(4):
            req = register_request()
            r = session.post(f"http://127.0.0.1:{served.port}/port/emdr", data=register_envelope(req, version="1.2"),
                             headers={"Content-Type": "application/soap+xml; charset=utf-8"}, timeout=30)
            assert r.status_code == 200 and _status(r.content) == "success"
            assert r.headers["Connection"] == "keep-alive" and _relates_to(r.content) == req.message_id
            assert served.stored(req.local_uid) != []


def test_a_behaviour_for_the_callback_only_is_kept(served):
    """MOCK:CALLBACK:DUPLICATE changes only the callback leg: answered after the write, called back twice."""
    raw, mid = _raw(document_number="MOCK:CALLBACK:DUPLICATE")
    with _connect(served) as s:
        s.sendall(raw)
        [(head, body)] = _read_answers(s, 1)
    assert head.startswith(b"HTTP/1.1 200") and _status(body) == "success"
    want = normalize_message_id(mid)
    served.sink.wait_until(lambda _: sum(normalize_message_id(r.relates_to) == want for r in served.sink.results) >= 2,
                           timeout=60, what="two callbacks")


def test_many_connections_each_answered_once(served):
    """Sixteen connections, each sending in turn: every answer is its request's, nothing lost."""
    failures: list[str] = []

    def client() -> None:
        with _connect(served) as s:
            for _ in range(10):
                raw, mid = _raw()
                s.sendall(raw)
                [(head, body)] = _read_answers(s, 1)
                if not head.startswith(b"HTTP/1.1 200") or _status(body) != "success" or _relates_to(body) != mid:
                    failures.append(head[:60].decode(errors="replace"))

    threads = [threading.Thread(target=client) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures


# ---- the core's choice: answered later only when nothing but the store decides the answer ----------------
@pytest.fixture
def service(tmp_path):
    from mock_remd.config import Settings

    settings = Settings.load({"db_url": f"sqlite:///{tmp_path / 'remd.db'}", "cache_dir": str(tmp_path / "cache")},
                             environ={})
    store = Store(settings.db_url)
    svc = RegistryService(store, settings.validation_settings().kinds, RegistryOptions())
    svc.seed_systems([])
    yield svc
    store.close()


def _register_then(svc: RegistryService, req):
    results: list = []
    handed: list = []
    done = svc.register_then(req, lambda result, error: results.append((result, error)), elsewhere=handed.append)
    for call in handed:  # the duplicate's answer: made in "another thread" (here, after)
        call()
    return done, results


@pytest.mark.parametrize("number", ["MOCK:DELAY:1", "MOCK:SYNC:VALIDATION_ERROR", "MOCK:FAULT", "MOCK:HTTP:503"])
def test_a_behaviour_keeps_the_answer_synchronous(service, number):
    done, results = _register_then(service, register_request(document_number=number))
    assert done is not None and results == []


@pytest.mark.parametrize("number", ["MOCK:CALLBACK:NEVER", "MOCK:CALLBACK:DELAY:5000", "MOCK:DELAY:0"])
def test_a_behaviour_for_the_callback_only_is_answered_after_the_write(service, number):
    req = register_request(document_number=number)
    done, results = _register_then(service, req)
    assert done is None
    [(result, error)] = results
    assert error is None and result.status == "success" and result.behaviour is not None
    assert service.store.documents.get(req.local_uid).behaviour == result.behaviour.as_dict()


def test_plain_registration_is_answered_after_the_write(service):
    req = register_request()
    done, results = _register_then(service, req)
    assert done is None
    [(result, error)] = results
    assert error is None and result.status == "success"
    assert service.store.documents.find_active(req.local_uid) is not None
    done, results = _register_then(service, register_request(local_uid=req.local_uid))
    assert done is None
    [(result, error)] = results
    assert result.status == "error" and result.errors[0].code == "NOT_UNIQUE_PROVIDED_ID"


def test_checks_failing_before_the_write_answer_synchronously(service):
    done, results = _register_then(service, register_request(organization="1.2.3"))
    assert done is not None and done.status == "error" and results == []

