"""Message ids of answers and callbacks (mock_remd/domain/ids.py)."""

from __future__ import annotations

import multiprocessing
import random
import uuid

from mock_remd.domain.ids import message_uuid


def _ids_in_child(queue) -> None:  # noqa: ANN001 - a multiprocessing queue
    queue.put([message_uuid() for _ in range(50)])


def test_message_ids_are_valid_unique_v4_uuids():
    ids = [message_uuid() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert all(str(u := uuid.UUID(i)) == i and u.version == 4 and u.variant == uuid.RFC_4122 for i in ids)


def test_forked_processes_do_not_repeat_their_parents_ids():
    """gunicorn forks its workers from one master: each must draw ids of its own."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    children = [ctx.Process(target=_ids_in_child, args=(queue,)) for _ in range(2)]
    for child in children:
        child.start()
    got = [queue.get(timeout=30) for _ in children]
    for child in children:
        child.join(timeout=30)
    after = [message_uuid() for _ in range(50)]
    assert len({*got[0], *got[1], *after}) == 150


def test_message_ids_do_not_follow_the_random_modules_seed():
    """A test suite that seeds the random module (the pytest plugin serves in its process) does not make
    answers or callbacks repeat a MessageID."""
    seen = set()
    for _ in range(4):
        random.seed(1)
        seen.add(message_uuid())
    assert len(seen) == 4
