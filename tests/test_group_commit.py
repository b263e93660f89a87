"""Group commit (store/group_commit.py) on a real SQLite file: every thread's write is committed and
answered, a failing write fails alone, and a write queued just as the leader finishes is not left
waiting for the guard timeout."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from mock_remd.store import group_commit
from mock_remd.store.engine import Database
from mock_remd.store.group_commit import GroupCommitter


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'gc.db'}")
    with database.transaction() as c:
        c.exec_driver_sql("CREATE TABLE t (n INTEGER PRIMARY KEY)")
    yield database
    database.engine.dispose()


def _insert(n: int):
    def apply(c):
        c.exec_driver_sql(f"INSERT INTO t (n) VALUES ({n})")
        return n
    return apply


def test_every_write_committed_and_answered_a_failing_one_alone(db):
    group = GroupCommitter(db)
    results: dict[int, object] = {}

    def worker(k: int) -> None:
        for n in range(k * 100, k * 100 + 25):
            try:
                results[n] = group.submit(_insert(n if n != 205 else 1))  # 1 is written by thread 0
            except Exception as exc:  # noqa: BLE001 - the test looks at which write failed
                results[n] = exc

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    failed = {n for n, r in results.items() if isinstance(r, Exception)}
    # thread 0's second write and thread 2's sixth both write 1: the later one fails (which one is
    # later is up to the scheduler)
    assert failed in ({205}, {1})
    with db.transaction(write=False) as c:
        stored = {r[0] for r in c.execute(text("SELECT n FROM t"))}
    assert stored == {n for n in results if n != 205}
    assert all(results[n] == (1 if n == 205 else n) for n in results if n not in failed)


def test_a_write_queued_as_the_leader_finishes_is_applied_without_the_guard(db, monkeypatch):
    """The leader has drained the queue; before it releases the leadership another thread queues its
    write and finds the leadership taken: the leader looks again after releasing and applies it."""
    monkeypatch.setattr(group_commit, "_GUARD_SECONDS", 60.0)  # a stranded write would wait a minute
    late_done = threading.Event()

    class Leader(GroupCommitter):
        armed = True

        def _lead(self, wait: bool = True) -> None:
            super()._lead(wait)
            if self.armed:  # the queue was empty at the last look: queue one more, the lock still held
                self.armed = False
                late = threading.Thread(target=lambda: (self.submit(_insert(2)), late_done.set()))
                late.start()
                while self._queue.empty():
                    late.join(0.001)  # until the late write is queued (then it finds the lock taken)

    group = Leader(db)
    assert group.submit(_insert(1)) == 1
    assert late_done.wait(20), "the write queued after the leader's last look was left waiting"
    with db.transaction(write=False) as c:
        assert sorted(r[0] for r in c.execute(text("SELECT n FROM t"))) == [1, 2]


def test_writes_queued_while_the_leader_waits_for_the_lock_join_its_transaction(db):
    """Another writer holds the write lock: the leader waits for it, the writes queued meanwhile are
    committed in the leader's transaction, not in one more after it."""
    transactions = []

    class Counting(GroupCommitter):
        def _transaction(self, wait: bool = True):
            transactions.append(1)
            return super()._transaction(wait)

    group = Counting(db)
    threads = [threading.Thread(target=group.submit, args=(_insert(n),)) for n in range(6)]
    with db.write_lock():  # another process's writer, as far as the group can tell
        threads[0].start()
        while not group._leader.locked():  # noqa: SLF001 - until the first thread leads (and waits)
            threads[0].join(0.001)
        for t in threads[1:]:
            t.start()
        while group._queue.qsize() < 5:  # noqa: SLF001 - until the others are queued behind it
            threads[0].join(0.001)
    for t in threads:
        t.join(20)
    assert not any(t.is_alive() for t in threads)
    assert len(transactions) == 1
    with db.transaction(write=False) as c:
        assert sorted(r[0] for r in c.execute(text("SELECT n FROM t"))) == list(range(6))


def test_a_continued_write_is_answered_after_its_commit_a_failing_one_alone(db):
    """submit_then: the threads do not wait; each continuation runs once, after its write's commit
    (another connection sees the row already), with the error of a failing write only."""
    group = GroupCommitter(db)
    outcomes: dict[int, tuple[object, object, bool]] = {}
    seen = Database(db.url)

    def then_of(n: int):
        def then(result, error) -> None:
            with seen.transaction(write=False) as c:
                written = 1 if n == 305 else n
                visible = c.execute(text("SELECT count(*) FROM t WHERE n = :n"), {"n": written}).scalar_one() == 1
            assert n not in outcomes
            outcomes[n] = (result, error, visible)
        return then

    def worker(k: int) -> None:
        for n in range(k * 100, k * 100 + 25):
            group.submit_then(_insert(n if n != 305 else 1), then_of(n))  # 1 is written by thread 0 too

    with db.write_lock():  # the first writes queue up behind another process's writer: batches of several
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        while group._queue.qsize() < 4:  # noqa: SLF001 - until writes are queued behind the lock
            threads[0].join(0.001)
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert len(outcomes) == 100
    failed = {n for n, (_, error, _) in outcomes.items() if error is not None}
    assert failed in ({305}, {1})
    assert all(result == (1 if n == 305 else n) and visible for n, (result, error, visible) in outcomes.items()
               if n not in failed)
    seen.engine.dispose()


def test_continued_and_waiting_writes_share_batches(db):
    group = GroupCommitter(db)
    done = threading.Event()
    answered: list[int] = []

    def continued() -> None:
        for n in range(50):
            group.submit_then(_insert(1000 + n), lambda result, error: answered.append(result))
        done.set()

    def waiting() -> None:
        for n in range(50):
            assert group.submit(_insert(2000 + n)) == 2000 + n

    threads = [threading.Thread(target=continued), threading.Thread(target=waiting)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert done.is_set() and sorted(answered) == [1000 + n for n in range(50)]
    with db.transaction(write=False) as c:
        assert c.execute(text("SELECT count(*) FROM t")).scalar_one() == 100
