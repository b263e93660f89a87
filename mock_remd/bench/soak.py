"""Memory soak (part of ``make soak``): ``mock-remd serve`` with its defaults takes N signed 51 KB
registrations from ``wrk`` on loopback, in bounded slices; after each slice it records the resident
memory of every server process and the journal's size. Passes when the memory of all processes stays
under the limit, grows less than the allowed share after the warm-up slice, the journal stays within
its configured size (oldest entries pruned) and every accepted document is kept and called back.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import requests

from mock_remd.bench import peer
from mock_remd.bench.sink_process import start_sink
from mock_remd.soap.builders import content_type


def _journal_total(url: str) -> int:
    return int(requests.get(url + "/_admin/requests", params={"limit": 1}, timeout=30).json()["total"])


def _documents_total(url: str) -> int:
    return int(requests.get(url + "/_admin/documents", params={"limit": 1}, timeout=30).json()["total"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mock_remd.bench.soak", description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=150_000, help="registrations to send (bounded)")
    ap.add_argument("--slice", type=float, default=20.0, help="seconds of wrk load per slice")
    ap.add_argument("--journal-size", type=int, default=10_000, help="MOCK_REMD_JOURNAL_SIZE of the server")
    ap.add_argument("--max-rss-mb", type=float, default=400.0)
    ap.add_argument("--max-growth", type=float, default=0.10, help="allowed RSS growth after the warm-up slice")
    ap.add_argument("--drain-minutes", type=float, default=10.0, help="longest wait for the queued callbacks")
    ap.add_argument("--max-minutes", type=float, default=60.0, help="stop sending after this long, whatever the count")
    args = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="mock-remd-soak-"))
    log = work / "callbacks.tsv"
    sink, sink_port = start_sink(str(log))
    body = work / "body.xml"
    body.write_bytes(peer.template("1.2"))
    ctype = content_type("1.2")
    proc, url = peer.start_mock_remd(work, f"http://127.0.0.1:{sink_port}/emdr/callback",
                                     {"MOCK_REMD_JOURNAL_SIZE": str(args.journal_size)})
    samples: list[tuple[int, float, int]] = []  # (sent so far, RSS MiB, journal entries)
    sent = ok = bad = 0
    journal_max = 0
    started = time.monotonic()
    round_no = 1
    try:
        while sent < args.requests and time.monotonic() - started < args.max_minutes * 60:
            w = peer.run_wrk(url, body, work, round_no=round_no % 4096, ctype=ctype, connections=16,
                             duration=args.slice)
            round_no += 1
            sent += w["requests"]
            ok += w["ok"]
            bad += w["bad"]
            rss = peer.rss_mb(proc.pid)
            journal = _journal_total(url)
            journal_max = max(journal_max, journal)
            samples.append((sent, rss, journal))
            print(f"{sent:8d} sent, {rss:6.0f} MiB all processes, journal {journal}, load {peer._load()}",
                  file=sys.stderr, flush=True)
        # the callbacks still queued: wait while they keep coming (bounded)
        load_end = time.monotonic()
        last, last_change = -1, load_end
        while time.monotonic() - load_end < args.drain_minutes * 60 and time.monotonic() - last_change < 30:
            count = len(log.read_text().splitlines())
            if count >= ok:
                break
            if count != last:
                last, last_change = count, time.monotonic()
            time.sleep(1.0)  # polling the sink's log
        drain_s = time.monotonic() - load_end
        documents = _documents_total(url)
        callbacks = len(log.read_text().splitlines())
        final_rss = peer.rss_mb(proc.pid)
    finally:
        peer._stop(proc)
        sink.terminate()

    warm = samples[0][1] if samples else 0.0
    peak = max((s[1] for s in samples), default=0.0)
    growth = (max(peak, final_rss) - warm) / warm if warm else 0.0
    minutes = (load_end - started) / 60
    print(f"\nsoak: {sent} requests in {minutes:.1f} min ({ok} answered success, {bad} other); "
          f"RSS all processes: {warm:.0f} MiB after the first slice, peak {peak:.0f}, end {final_rss:.0f} "
          f"(growth {growth * 100:.1f} %); journal at most {journal_max} entries (limit {args.journal_size}); "
          f"{documents} documents kept; {callbacks} callbacks, the last {drain_s:.0f} s after the load stopped")
    problems = []
    if sent < args.requests:
        problems.append(f"sent {sent} of {args.requests} within {args.max_minutes:g} min")
    if peak > args.max_rss_mb or final_rss > args.max_rss_mb:
        problems.append(f"RSS over {args.max_rss_mb:g} MiB")
    if growth > args.max_growth:
        problems.append(f"RSS grew {growth * 100:.1f} % after warm-up")
    # pruning runs every 100 inserts: the journal may exceed its size by that much between prunes
    if journal_max > args.journal_size + 200:
        problems.append(f"journal held {journal_max} entries")
    if documents < ok or callbacks < ok:
        problems.append("documents or callbacks missing")
    for p in problems:
        print("FAIL: " + p)
    if problems:
        print(f"the server's log and database are kept in {work}")
    else:  # the database of a full soak takes ~7 GB
        shutil.rmtree(work, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
