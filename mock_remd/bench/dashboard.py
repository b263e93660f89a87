"""Benchmark: the dashboard timeline's first page over a journal of 10,000 documents.

``python -m mock_remd.bench.dashboard [--documents N] [--runs R] [--db URL]`` seeds the store
directly (bulk inserts: documents, their callbacks, some synchronously refused requests), starts a
real server and times ``GET /`` over HTTP. Budget: the median first page under 300 ms; exit status 1
when it is over.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from mock_remd.store.clock import utcnow
from mock_remd.store.repository import Store

BUDGET_MS = 300.0
KINDS = ("119", "174", "186", "204")


def seed_timeline(store: Store, documents: int, *, system: str = "demo", refused_every: int = 20) -> list[str]:
    """Bulk-insert ``documents`` processed documents (a third rejected, the rest registered) with one
    delivered callback each, plus a synchronously refused request every ``refused_every`` documents.

    Rows get increasing ``received_at`` (one second apart, the last one now). Returns the localUids
    in insertion order (oldest first).
    """
    now = utcnow()
    start = now - dt.timedelta(seconds=documents)
    docs: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    uids = []
    for i in range(documents):
        at = start + dt.timedelta(seconds=i + 1)
        uid = str(uuid.UUID(int=i + 1, version=4))
        uids.append(uid)
        rejected = i % 3 == 0
        docs.append({
            "local_uid": uid, "local_uid_key": uid, "message_id": str(uuid.uuid4()), "system": system,
            "organization": "1.2.643.5.1.13.13.12.2.50.99999", "kind": KINDS[i % len(KINDS)],
            "status": "rejected" if rejected else "registered",
            "emdr_id": None if rejected else f"1.50.26.11.{i + 1:09d}",
            "received_at": at, "updated_at": at, "creation_date_time": "2026-11-27T10:00:00+03:00",
            "registration_date_time": None if rejected else "2026-11-27T10:00:01.000+03:00",
            "patient_snils": f"{(i * 7919) % 10**11:011d}",
            "errors": [{"code": "VALIDATION_ERROR", "message": "Ошибка валидации СЭМД"}] if rejected else [],
            "layers": [], "job_state": "done", "seeded": False,
        })
        if refused_every and i % refused_every == 0:
            refused.append({
                "message_id": str(uuid.uuid4()), "operation": "registerDocument", "received_at": at,
                "system": system, "local_uid": str(uuid.uuid4()), "kind": "119", "sync_status": "error",
                "errors": [{"code": "NOT_UNIQUE_PROVIDED_ID", "message": "Документ уже зарегистрирован"}],
                "http_status": 200, "soap_version": "1.2", "duration_ms": 1.0,
            })
    store.bulk.load_history(docs, refused, callback_url="http://127.0.0.1:9/emdr/callback")
    return uids


def measure(base_url: str, runs: int, path: str = "/") -> list[float]:
    """Wall-clock milliseconds of ``runs`` GETs of ``path`` (after one warm-up request)."""
    import requests

    session = requests.Session()
    session.get(base_url + path, timeout=30).raise_for_status()
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        resp = session.get(base_url + path, timeout=30)
        out.append((time.perf_counter() - started) * 1000)
        resp.raise_for_status()
    return out


def run(documents: int = 10000, runs: int = 20, db_url: str = "") -> dict[str, Any]:
    """Seed, serve and time the first timeline page; returns the numbers and the verdict."""
    from mock_remd.config import Settings
    from mock_remd.server.threaded import ThreadedServer

    with tempfile.TemporaryDirectory() as tmp:
        url = db_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings.load({"db_url": url, "port": 0, "validation": "none"}, environ={})
        with ThreadedServer(settings) as srv:
            srv.runtime.store.reset()
            seed_started = time.perf_counter()
            seed_timeline(srv.runtime.store, documents)
            seed_s = time.perf_counter() - seed_started
            first = measure(srv.url, runs, "/")
            filtered = measure(srv.url, runs, "/?status=rejected&q=0000")
            poll = measure(srv.url, runs, "/_admin/ui/timeline")
    median = statistics.median(first)
    return {
        "documents": documents,
        "seed_seconds": round(seed_s, 2),
        "first_page_ms": {"median": round(median, 1), "p95": round(sorted(first)[int(0.95 * (len(first) - 1))], 1),
                          "max": round(max(first), 1)},
        "filtered_page_ms": {"median": round(statistics.median(filtered), 1)},
        "poll_fragment_ms": {"median": round(statistics.median(poll), 1)},
        "budget_ms": BUDGET_MS,
        "ok": median < BUDGET_MS,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: print the numbers, exit 1 when the median first page is over budget."""
    p = argparse.ArgumentParser(prog="python -m mock_remd.bench.dashboard", description=__doc__)
    p.add_argument("--documents", type=int, default=10000)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--db", default="", help="a throwaway store URL, emptied first (default: a temporary SQLite file)")
    args = p.parse_args(argv)
    res = run(args.documents, args.runs, args.db)
    print(f"dashboard timeline, {res['documents']} documents (seeded in {res['seed_seconds']} s):")
    print(f"  first page    median {res['first_page_ms']['median']} ms, p95 {res['first_page_ms']['p95']} ms, "
          f"max {res['first_page_ms']['max']} ms (budget {BUDGET_MS:.0f} ms)")
    print(f"  filtered page median {res['filtered_page_ms']['median']} ms")
    print(f"  poll fragment median {res['poll_fragment_ms']['median']} ms")
    print("  OK" if res["ok"] else "  OVER BUDGET")
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
