"""Two versions of one document processed at the same moment by two background processes (issue 15):
the check of the version chain and the write of the new version are one atomic step, so exactly one
registers. Real processes, a SQLite file and a real PostgreSQL; a barrier makes both processes finish
their checks before either writes (the interleaving that registered both before)."""

from __future__ import annotations

import multiprocessing

import pytest
from pg_database import database_url
from remd_requests import DEMO_CLIENT, DEMO_ORG
from test_document_life import _gen, _next

from mock_remd.config import Settings
from mock_remd.runtime import Runtime


def _settings(url: str) -> Settings:
    systems = [{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": "http://127.0.0.1:9/cb",
                "organizations": [DEMO_ORG]}]
    return Settings.load({"db_url": url, "port": 0, "validation": "none", "signatures": "off", "systems": systems},
                         environ={})


def _register(rt: Runtime, req) -> None:
    """Accept ``req`` through the registry's synchronous path."""
    assert rt.service.register(req).status == "success"


def _process(rt: Runtime, doc_id: int, owner: str) -> None:
    doc = rt.store.documents.by_id(doc_id)
    rt.processor._commit([rt.processor.prepare(doc)], owner=owner)


def _write_after_barrier(url: str, doc_id: int, owner: str, barrier, checked) -> None:
    """One background process: check the document, wait until the rival checked too, then write."""
    rt = Runtime(_settings(url), role="background", seed_systems=False)
    outcome = rt.processor.prepare(rt.store.documents.by_id(doc_id))
    checked.put(outcome.registers)
    barrier.wait(60)
    rt.processor._commit([outcome], owner=owner)
    rt.store.close()


def _race(url: str, rivals) -> list:
    rt = Runtime(_settings(url), role="background")
    v1, rivals = rivals[0], rivals[1:]
    _register(rt, v1.request)
    _process(rt, *_claim_one(rt, "first"))
    for r in rivals:
        _register(rt, r.request)
    ids, owners = zip(*(_claim_one(rt, f"racer-{i}") for i in range(len(rivals))), strict=True)
    ctx = multiprocessing.get_context("spawn")
    barrier, checked = ctx.Barrier(len(ids)), ctx.Queue()
    procs = [ctx.Process(target=_write_after_barrier, args=(url, i, o, barrier, checked)) for i, o in zip(ids, owners,
                                                                                                         strict=True)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * len(procs)
    assert [checked.get(timeout=5) for _ in procs] == [True] * len(procs)  # each passed the rules on its own
    docs = [rt.store.documents.by_id(i, payload=False) for i in ids]
    chain = rt.store.versions.chain(docs[0].id if docs[0].status == "registered" else docs[1].id)
    rt.store.close()
    return docs, chain


def _claim_one(rt: Runtime, owner: str) -> tuple[int, str]:
    """Take the next job for ``owner`` (as a background process would); its document id and the owner."""
    [job] = rt.store.documents.claim_jobs(owner, limit=1)
    return job.id, owner


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.mark.parametrize("second_type", ["RPLC", "APND"])
def test_two_processes_write_rival_versions_exactly_one_registers(db_url, second_type):
    v1 = _gen("119", 811)
    rivals = [_next(v1.content), _next(v1.content, association_type=second_type)]
    assert rivals[0].version_number == rivals[1].version_number == 2
    docs, chain = _race(db_url, [v1, *rivals])
    assert sorted(d.status for d in docs) == ["registered", "rejected"], [(d.status, d.errors) for d in docs]
    winner = next(d for d in docs if d.status == "registered")
    loser = next(d for d in docs if d.status == "rejected")
    assert [v.document.local_uid for v in chain] == [v1.local_uid, winner.local_uid]
    assert [v.version_number for v in chain] == [1, 2]
    [error] = loser.errors
    # the refusal the rules give a rival that comes after the winner: the same link (version set ->
    # v1, the same type) twice is NOT_UNIQUE_ASSOCIATION; another version of v1 is CANT_REG_VERSION
    if second_type == "RPLC":
        assert error["code"] == "NOT_UNIQUE_ASSOCIATION" and v1.local_uid in error["message"]
    else:
        assert error["code"] == "CANT_REG_VERSION", error
        assert winner.emdr_id in error["message"] and "не является актуальной версией" in error["message"]
