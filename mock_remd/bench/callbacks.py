"""CPU per delivered callback: ``python -m mock_remd.bench.callbacks [-n 3000] [--db URL]``.

A real :class:`~mock_remd.delivery.sender.CallbackSender` on a store (a SQLite file unless ``--db``)
sends callbacks to the bench's callback sink in its own process (a stdlib HTTP/1.1 server with
keep-alive), the way the processor hands them over: written already claimed for the sender in batches
of ``--batch``, then sent. It prints the CPU time of this process per callback for writing them
(``outbox``) and for sending and recording them (``send``, split by thread: the sender's loop, its
pool, its lease renewer), with the load average: the machine is shared, compare A/B pairs.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import tempfile
import threading
import time
import uuid

from mock_remd.bench.sink_process import read_arrivals, start_sink
from mock_remd.delivery.callback_xml import ACTION, result_envelope
from mock_remd.delivery.sender import CallbackSender
from mock_remd.store.outbox import NewDelivery
from mock_remd.store.repository import Store


def _thread_cpu() -> collections.Counter[str]:
    """CPU seconds of each thread of this process so far, by thread role."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: collections.Counter[str] = collections.Counter()
    tick = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(tid), "other")
        role = "pool" if "sender_" in name else ("loop" if name == "mock-remd-sender" else
                                                 ("leases" if "leases" in name else "main/other"))
        out[role] += (int(fields[11]) + int(fields[12])) / tick
    return out


def _deliveries(url: str, count: int) -> list[NewDelivery]:
    out = []
    for _ in range(count):
        mid = f"urn:uuid:{uuid.uuid4()}"
        outcome = {"status": "success", "emdr_id": "50.99.000000123456", "registration_date_time": "2026-12-06T17:00:00+03:00",
                   "store_till_date": "2051-12-06", "local_uid": str(uuid.uuid4()), "kind": "46",
                   "organization": "1.2.643.5.1.13.13.12.2.50.1"}
        out.append(NewDelivery(url=url, body=result_envelope(outcome, relates_to=mid, to=url), relates_to=mid,
                               local_uid=outcome["local_uid"], system="bench", action=ACTION, backoff=[1.0, 2.0]))
    return out


def main() -> None:
    """Run the measurement and print one line of figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=3000, help="callbacks")
    ap.add_argument("--batch", type=int, default=16, help="callbacks handed over at once")
    ap.add_argument("--db", default="", help="store URL (default: a SQLite file in a temporary directory)")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="mock-remd-cb-")
    sink_log = os.path.join(tmp, "sink.log")
    proc, port = start_sink(sink_log)
    url = f"http://127.0.0.1:{port}/emdr/callback"
    store = Store(a.db or f"sqlite:///{tmp}/remd.db")
    sender = CallbackSender(store, timeout=10.0)
    try:
        sender.start()
        sender.take(store.outbox.add_all(_deliveries(url, 50), hand_to=sender.owner))  # warm-up
        deadline = time.monotonic() + 60
        while sender.sent < 50 and time.monotonic() < deadline:
            time.sleep(0.01)
        batches = [_deliveries(url, a.batch) for _ in range(max(1, a.n // a.batch))]
        n = sum(len(b) for b in batches)
        sent0 = sender.sent
        c0 = time.process_time()
        handed = [store.outbox.add_all(b, hand_to=sender.owner) for b in batches]
        c1 = time.process_time()
        t1 = _thread_cpu()
        w1 = time.monotonic()
        for rows in handed:
            sender.take(rows)
        while sender.sent - sent0 < n and time.monotonic() - w1 < 300:
            time.sleep(0.005)
        w2 = time.monotonic()
        c2 = time.process_time()
        t2 = _thread_cpu()
    finally:
        sender.stop()
        proc.kill()
    done = sender.sent - sent0
    split = "  ".join(f"{k} {1000 * (t2[k] - t1.get(k, 0)) / n:.3f}" for k in sorted(t2) if t2[k] > t1.get(k, 0))
    print(f"{done}/{n} delivered ({len(read_arrivals(sink_log))} arrived incl. warm-up); CPU ms per callback: "
          f"outbox {1000 * (c1 - c0) / n:.3f}, send {1000 * (c2 - c1) / n:.3f} ({split}); "
          f"{n / (w2 - w1):.0f} callbacks/s; load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    store.close()
    shutil.rmtree(tmp, ignore_errors=True)  # the store and the sink's log (MBs per run)


if __name__ == "__main__":
    main()
