"""``make bench`` / ``python -m mock_remd.bench``: a real server under load, with a callback sink.

Phases: warm-up; a bounded rate (default 100 requests/s) for latency; full speed for throughput;
then every callback awaited. Prints sync requests/s, p50/p99 latency, callbacks delivered/s, time
from request to callback, and the server's resident memory. ``--full-validation`` runs the document
layers (official packs) on the asynchronous leg with a distinct generated document per request.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests
import yaml

from mock_remd.bench import wrk_load
from mock_remd.bench.load import percentile, run_load
from mock_remd.bench.procs import free_port, rss_mb
from mock_remd.bench.sink_process import read_arrivals, start_sink
from mock_remd.cli.cmd_wait import wait_ready
from mock_remd.config import child_environment, environment_value
from mock_remd.domain.model import normalize_message_id
from mock_remd.soap.builders import attachment, content_type, register_envelope

DEMO_CLIENT = "00000000-0000-4000-8000-000000000001"
DEMO_ORG = "1.2.643.5.1.13.13.12.2.50.99999"
FULL_LAYERS = "xml,kind,header,xsd,schematron,cross"


def _default_packs() -> str:
    env = environment_value("MOCK_REMD_PACKS_DIR")
    if env:
        return env
    here = Path(__file__).resolve().parents[2].parent / "shared" / "packs"
    return str(here) if here.is_dir() else ""


def _bodies(n: int, full: bool, version: str) -> list[tuple[str, bytes]]:
    """``n`` distinct registerDocument envelopes (message id, bytes)."""
    from mock_remd.generator import generate

    signed = generate("119", seed=0)  # real CMS sizes for the signature blocks
    out = []
    for i in range(n):
        if full:
            doc = generate("119", seed=i + 1, signer=None)
            req = doc.request
            for ps, src in zip(req.personal_signs, signed.request.personal_signs * 4, strict=False):
                ps.signature = src.signature
            req.org_signature = signed.request.org_signature
        else:
            req = dataclasses.replace(signed.request, local_uid=str(uuid.uuid4()))
            req.document = attachment(signed.content)
        req.message_id = f"urn:uuid:{uuid.uuid4()}"
        out.append((normalize_message_id(req.message_id), register_envelope(req, version=version)))
    return out


def _template(version: str) -> bytes:
    """One envelope with @@LOCALUID@@ / @@MESSAGEID@@ placeholders, for wrk."""
    from mock_remd.generator import generate

    signed = generate("119", seed=0)
    req = dataclasses.replace(signed.request, local_uid="@@LOCALUID@@", message_id="urn:uuid:@@MESSAGEID@@")
    req.document = attachment(signed.content)
    return register_envelope(req, version=version)


def _wait_ready(url: str, timeout: float = 60) -> None:
    ok, last = wait_ready(url, timeout)
    if not ok:
        raise SystemExit(f"server did not become ready ({last})")


def _wait_callbacks(log: str, expected: set[str], timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while True:
        arrivals = read_arrivals(log)
        if expected.issubset(arrivals) or time.monotonic() > deadline:
            return arrivals
        time.sleep(0.2)  # polling the sink process's log file


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mock_remd.bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--full-validation", action="store_true", help="run the document layers with official packs")
    ap.add_argument("--packs", default=_default_packs(), help="packs dir for --full-validation")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--rate", type=float, default=100.0, help="bounded phase, requests per second")
    ap.add_argument("--duration", type=float, default=8.0, help="seconds per phase")
    ap.add_argument("--concurrency", type=int, default=16, help="connections in the full-speed phase")
    ap.add_argument("--soap", default="1.2", choices=["1.1", "1.2"])
    ap.add_argument("--load", choices=["auto", "wrk", "python"], default="auto",
                    help="full-speed load generator: wrk (C, when installed) or the Python client")
    args = ap.parse_args(argv)
    if args.full_validation and not args.packs:
        print("--full-validation needs packs: --packs DIR or MOCK_REMD_PACKS_DIR", file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="mock-remd-bench-"))
    log = str(work / "callbacks.tsv")
    sink, sink_port = start_sink(log)
    port = free_port()
    config = work / "remd.yaml"
    config.write_text(yaml.safe_dump({"systems": [{
        "mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "organizations": [DEMO_ORG],
        "callback_url": f"http://127.0.0.1:{sink_port}/emdr/callback"}]}))
    env = child_environment(**{"MOCK_REMD_CONFIG": str(config), "MOCK_REMD_DB_URL": f"sqlite:///{work / 'bench.db'}",
           "MOCK_REMD_PORT": str(port), "MOCK_REMD_WORKERS": str(args.workers), "MOCK_REMD_SIGNATURES": "off",
           "MOCK_REMD_CACHE_DIR": str(work / "cache")})
    if args.full_validation:
        env.update(MOCK_REMD_VALIDATION=FULL_LAYERS, MOCK_REMD_PACKS_DIR=args.packs)
        from mock_remd.validation.precompile import precompile

        precompile(Path(args.packs), cache_dir=work / "cache")
    else:
        env["MOCK_REMD_VALIDATION"] = "none"
    rate_n = int(args.rate * args.duration) + 10
    fast_n = int(4000 * args.duration / 8) if not args.full_validation else int(1500 * args.duration / 8)
    print(f"preparing {rate_n + fast_n + 200} requests…", file=sys.stderr)
    bodies = _bodies(rate_n + fast_n + 200, args.full_validation, args.soap)
    server = subprocess.Popen([sys.executable, "-m", "mock_remd", "serve"], env=env,
                              stdout=subprocess.DEVNULL, stderr=open(work / "server.log", "wb"))
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url)
        ctype = content_type(args.soap)
        warm = run_load("127.0.0.1", port, "/port/emdr", bodies[:200], content_type=ctype, concurrency=4, rate=None,
                        duration=5)
        bounded = run_load("127.0.0.1", port, "/port/emdr", bodies[200:200 + rate_n], content_type=ctype,
                           concurrency=8, rate=args.rate, duration=args.duration)
        use_wrk = args.load == "wrk" or (args.load == "auto" and wrk_load.available() and not args.full_validation)
        wrk_result = None
        if use_wrk:
            before = requests.get(url + "/_admin/documents", params={"limit": 1}).json()["total"]
            wrk_result = wrk_load.run_wrk(url + "/port/emdr", _template(args.soap), content_type=ctype,
                                          connections=args.concurrency, duration=args.duration)
            accepted = requests.get(url + "/_admin/documents", params={"limit": 1}).json()["total"] - before
            fast = run_load("127.0.0.1", port, "/port/emdr", [], content_type=ctype, concurrency=1, rate=None,
                            duration=0)
        else:
            fast = run_load("127.0.0.1", port, "/port/emdr", bodies[200 + rate_n:], content_type=ctype,
                            concurrency=args.concurrency, rate=None, duration=args.duration)
        rss_loaded = rss_mb(server.pid)
        sent_at = {**warm.sent_at, **bounded.sent_at, **fast.sent_at}
        t_wait = time.time()
        arrivals = _wait_callbacks(log, set(sent_at), timeout=120 if args.full_validation else 60)
        if wrk_result is not None:  # wrk's requests: wait until every accepted one has called back
            deadline = time.monotonic() + 120
            while len(read_arrivals(log)) < len(sent_at) + accepted and time.monotonic() < deadline:
                time.sleep(0.2)  # polling the sink process's log file
            arrivals = read_arrivals(log)
            wrk_arrivals = sorted(t for m, t in arrivals.items() if m not in sent_at)
        delivered = [m for m in sent_at if m in arrivals]
        lag = [(arrivals[m] - sent_at[m]) * 1000 for m in delivered]
        bounded_lag = [(arrivals[m] - bounded.sent_at[m]) * 1000 for m in bounded.sent_at if m in arrivals]
        first_sent = min(sent_at.values()) if sent_at else t_wait
        last_arrival = max((arrivals[m] for m in delivered), default=t_wait)
        cb_rate = len(delivered) / max(1e-9, last_arrival - first_sent)
        fast_window = [arrivals[m] for m in fast.sent_at if m in arrivals]
        fast_cb_rate = (len(fast_window) / max(1e-9, max(fast_window) - min(fast.sent_at.values()))) if fast_window else 0.0
        errors = requests.get(url + "/_admin/documents", params={"status": "rejected", "limit": 5}).json()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        sink.terminate()

    mode = f"full validation ({FULL_LAYERS}) with packs" if args.full_validation else "coarse checks only (MOCK_REMD_VALIDATION=none)"
    cpu = platform.processor() or platform.machine()
    print(f"\nmock-remd bench — {mode}; {args.workers} gunicorn workers; SOAP {args.soap}; "
          f"machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}")
    print(f"request: {len(bodies[0][1]) / 1024:.1f} KiB envelope (CDA 119 as base64 + GOST signatures)")
    print(f"bounded {args.rate:g}/s : {bounded.ok} ok, {bounded.errors} errors, {bounded.rate:.0f} req/s, "
          f"p50 {percentile(bounded.latencies_ms, 50):.1f} ms, p99 {percentile(bounded.latencies_ms, 99):.1f} ms")
    if wrk_result is not None:
        print(f"full speed (wrk, {args.concurrency} conns): {wrk_result.requests} requests, {accepted} accepted, "
              f"{wrk_result.non_2xx} non-2xx, socket errors: {wrk_result.socket_errors}; {wrk_result.rate:.0f} req/s, "
              f"p50 {wrk_result.p50_ms:.1f} ms, p99 {wrk_result.p99_ms:.1f} ms")
        if wrk_arrivals:
            span = max(1e-9, wrk_arrivals[-1] - wrk_arrivals[0])
            print(f"wrk phase callbacks: {len(wrk_arrivals)}/{accepted} delivered, {len(wrk_arrivals) / span:.0f}/s")
    else:
        print(f"full speed ({args.concurrency} conns): {fast.ok} ok, {fast.errors} errors, {fast.rate:.0f} req/s, "
              f"p50 {percentile(fast.latencies_ms, 50):.1f} ms, p99 {percentile(fast.latencies_ms, 99):.1f} ms")
    during = "" if wrk_result is not None else f", {fast_cb_rate:.0f}/s during the full-speed phase"
    print(f"callbacks (bounded and Python-client phases): {len(delivered)}/{len(sent_at)} delivered; "
          f"{cb_rate:.0f}/s overall{during}")
    print(f"request → callback: p50 {percentile(lag, 50):.0f} ms, p99 {percentile(lag, 99):.0f} ms overall; "
          f"at the bounded rate p50 {percentile(bounded_lag, 50):.0f} ms, p99 {percentile(bounded_lag, 99):.0f} ms")
    print(f"server RSS under load: {rss_loaded:.0f} MiB (master + workers)")
    if errors.get("total"):
        print(f"rejected documents: {errors['total']} (first: {errors['items'][0]['errors'][:2]})")
    if args.full_validation:
        from mock_remd.generator import generate
        from mock_remd.validation.bench_layers import time_layers

        ms = time_layers(generate("119", seed=1, signer=None).content, "119", args.packs, iterations=100)
        print("per-document layers in one process (ms): " + ", ".join(f"{k} {v:.2f}" for k, v in ms.items()))
    shutil.rmtree(work, ignore_errors=True)
    complete = len(delivered) == len(sent_at) and (wrk_result is None or len(wrk_arrivals) == accepted)
    return 0 if complete else 1


if __name__ == "__main__":
    raise SystemExit(main())
