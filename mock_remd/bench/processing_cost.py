"""CPU the processor spends per registration outside validation (``python -m mock_remd.bench.processing_cost``).

The signed 51 KB laboratory report (kind 186) is accepted N times with fresh localUids into a SQLite
file (the store ``serve`` uses by default), then one processor with its default threads claims,
validates, writes and hands over the callbacks of all of them. The process CPU (utime+stime) spent
meanwhile is split into validation (CPU of the threads inside ``Validator.validate``) and the rest:
claims, payload reads, outcome writes, emdrIds, outbox rows and hand-over, the loop's turns. The
callbacks are handed to a collector that sends nothing (the sender is measured on its own).
Compare two checkouts by running it from each, alternating (the machine is shared: say the load).

It also prints how long the processor's write transactions held the store's write lock (the lock the
synchronous answers' group commit waits for): claims and outcome writes, mean, p50 and max. With
``--canned`` every document gets one validation report made before the clock starts (no validation
CPU): the processor's own work and its lock holds alone, without the pool threads' GIL competition.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class _Collector:
    """Stands in for the sender of the process: takes the handed callbacks and counts them."""

    owner = "sender:processing-cost"
    accepting = True

    def __init__(self) -> None:
        self.count = 0

    def take(self, rows: list[Any]) -> None:
        self.count += len(rows)


def _callgrind_mark(action: str) -> None:
    """Zero (``-z``) or dump (``-d``) the callgrind counters of this process (run under callgrind)."""
    subprocess.run(["callgrind_control", action, str(os.getpid())], check=True, capture_output=True)


def measure(count: int, workdir: Path, *, canned: bool = False, send: bool = False,
            marks: bool = False) -> dict[str, Any]:
    """Accept ``count`` registrations, process them all; CPU ms per registration by part, and the
    processor's write transactions: ``holds`` (caller -> seconds each held the write lock).
    ``send``: the real sender POSTs the callbacks to a sink process, the checkpoint thread runs.
    ``marks``: zero and dump callgrind's counters around the processing."""
    from mock_remd.config import Settings
    from mock_remd.core.processing import Processor
    from mock_remd.generator import generate
    from mock_remd.runtime import Runtime
    from mock_remd.soap.builders import attachment

    signed = generate("186", seed=1)
    sink = None
    callback_url = "http://127.0.0.1:9/cb"
    if send:
        from mock_remd.bench.sink_process import start_sink

        sink, port = start_sink(str(workdir / "sink.log"))
        callback_url = f"http://127.0.0.1:{port}/emdr/callback"
    systems = [{"mnemonic": "demo", "client_entity_id": signed.request.client_entity_id,
                "callback_url": callback_url, "organizations": [signed.request.organization]}]
    settings = Settings.load({"db_url": f"sqlite:///{workdir / 'cost.db'}", "port": 0, "systems": systems,
                              "backlog_limit": 0}, environ={})
    from mock_remd.server.background_process import POLL_SECONDS

    # with --send as in serve's background processes (their idle loops look this often)
    rt = Runtime(settings, role="all", **({"poll_interval": POLL_SECONDS} if send else {}))
    for _ in range(count):
        req = dataclasses.replace(signed.request, local_uid=str(uuid.uuid4()), message_id=f"urn:uuid:{uuid.uuid4()}")
        req.document = attachment(signed.content)
        if rt.service.register(req).status != "success":
            raise SystemExit("a registration was not accepted")
    for _ in range(3):  # the validator's caches are warm before the clock starts
        rt.validator.validate(signed.content, signed.request)
    validating = [0.0]
    lock = threading.Lock()
    validate = rt.validator.validate

    def timed_validate(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return validate(*args, **kwargs)
        finally:
            with lock:
                validating[0] += time.thread_time() - start

    if canned:
        report = validate(signed.content, signed.request)
        rt.validator.validate = lambda *args, **kwargs: report  # type: ignore[method-assign]
    else:
        rt.validator.validate = timed_validate  # type: ignore[method-assign]
    holds: dict[str, list[float]] = {}
    transaction = rt.store.db.transaction

    @contextlib.contextmanager
    def timed_transaction(write: bool = True) -> Iterator[Any]:
        with transaction(write) as conn:  # the lock is taken: the clock starts
            start = time.perf_counter()
            yield conn
            held = time.perf_counter() - start
        if write and threading.current_thread().name == "mock-remd-processor":
            caller = sys._getframe(2).f_code.co_name  # claim_jobs, or the outcomes' unit of work
            holds.setdefault("outcomes" if caller == "transaction" else caller, []).append(held)

    rt.store.db.transaction = timed_transaction  # type: ignore[method-assign]
    if send:  # serve's background process: its sender, woken by the processor, and the checkpoints
        sender = rt.sender
        processor = Processor(rt.store, rt.validator, rt.options, hand_off=sender, on_enqueued=sender.wake,
                              poll_interval=POLL_SECONDS)

        def done() -> int:
            return sender.sent
    else:
        collector = _Collector()
        processor = Processor(rt.store, rt.validator, rt.options, hand_off=collector, poll_interval=0.02)

        def done() -> int:
            return collector.count
    if marks:
        _callgrind_mark("-z")
    cpu0, wall0 = time.process_time(), time.monotonic()
    if send:
        rt.store.start_checkpoints()
        sender.start()
    processor.start()
    limit = 3600 if marks else 600
    while done() < count and time.monotonic() - wall0 < limit:
        time.sleep(0.05)  # the background threads do the work; this thread only watches the count
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    if marks:
        _callgrind_mark("-d")
    processor.stop()
    if send:
        sender.stop()
        rt.store.stop_checkpoints()
        assert sink is not None
        sink.kill()
    rt.store.close()
    if done() < count:
        raise SystemExit(f"only {done()} of {count} callbacks were {'delivered' if send else 'handed over'} "
                         f"in {limit} s")
    total = cpu * 1000 / count
    validation = validating[0] * 1000 / count
    return {"total": total, "validation": validation, "outside": total - validation, "seconds": wall, "holds": holds}


def _totals(path: Path) -> int:
    m = re.search(r"^(?:summary|totals):\s+(\d+)", path.read_text(errors="replace"), re.M)
    if not m:
        raise SystemExit(f"no totals in {path}")
    return int(m.group(1))


def under_callgrind(count: int, args: list[str], keep: Path | None) -> float:
    """Run this module under callgrind with ``args``; instructions per registration while processing."""
    with tempfile.TemporaryDirectory(prefix="mock-remd-processing-cost-cg-") as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no",
                        sys.executable, "-m", "mock_remd.bench.processing_cost", "-n", str(count), "--marks", *args],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=7200)
        dumps = sorted(Path(tmp).glob("callgrind.out.*"), key=lambda p: int(p.name.rsplit(".", 1)[1]))
        if not dumps:
            raise SystemExit("no dump from callgrind")
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(dumps[0], keep / "callgrind.processing")
        return _totals(dumps[0]) / count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mock_remd.bench.processing_cost", description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--count", type=int, default=1500, help="registrations to process")
    ap.add_argument("--canned", action="store_true", help="one validation report for every document (no validation CPU)")
    ap.add_argument("--send", action="store_true",
                    help="the real sender POSTs the callbacks to a sink process; the checkpoint thread runs")
    ap.add_argument("--callgrind", action="store_true", help="count instructions under valgrind's callgrind")
    ap.add_argument("--profile", type=Path, help="with --callgrind: keep the dump in this folder")
    ap.add_argument("--marks", action="store_true", help=argparse.SUPPRESS)  # the run under callgrind
    args = ap.parse_args(argv)
    load = os.getloadavg()[0]
    if args.callgrind:
        passed = [flag for flag, on in (("--canned", args.canned), ("--send", args.send)) if on]
        per = under_callgrind(args.count, passed, args.profile)
        print(f"{args.count} registrations under callgrind{' ' if passed else ''}{' '.join(passed)}, load "
              f"{load:.1f}/{os.getloadavg()[0]:.1f}: {per / 1e6:.3f} M instructions per registration "
              f"while processing{'' if args.canned else ' (validation included)'}")
        return 0
    with tempfile.TemporaryDirectory(prefix="mock-remd-processing-cost-") as tmp:
        figures = measure(args.count, Path(tmp), canned=args.canned, send=args.send, marks=args.marks)
        os.chdir("/")
    if args.marks:
        return 0
    print(f"{args.count} registrations in {figures['seconds']:.1f} s, load {load:.1f}/{os.getloadavg()[0]:.1f}: "
          f"CPU per registration {figures['total']:.3f} ms = validation {figures['validation']:.3f} ms "
          f"+ outside validation {figures['outside']:.3f} ms")
    for caller, held in sorted(figures["holds"].items()):
        held.sort()
        print(f"write lock held by the processor's {caller}: {len(held)} transactions, mean "
              f"{sum(held) / len(held) * 1000:.2f} ms, p50 {held[len(held) // 2] * 1000:.2f} ms, "
              f"max {held[-1] * 1000:.2f} ms, {sum(held) * 1000 / args.count:.3f} ms per registration")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
