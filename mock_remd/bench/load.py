"""A small keep-alive HTTP load generator: fixed rate or full speed, per-request latencies."""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    sent: int = 0
    ok: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    sent_at: dict[str, float] = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed_s if self.elapsed_s else 0.0


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def run_load(host: str, port: int, path: str, bodies: list[tuple[str, bytes]], *, content_type: str,
             concurrency: int, rate: float | None, duration: float, expect: bytes = b"<ns3:status>success") -> LoadResult:
    """Send ``bodies`` (message id, envelope) until ``duration`` passes or they run out.

    With ``rate`` the sends are paced to that many per second overall; without it each of the
    ``concurrency`` connections sends as fast as answers come back.
    """
    result = LoadResult()
    lock = threading.Lock()
    index = [0]
    start = time.perf_counter()
    deadline = start + duration
    interval = 1.0 / rate if rate else 0.0

    def take() -> tuple[int, tuple[str, bytes]] | None:
        with lock:
            i = index[0]
            if i >= len(bodies):
                return None
            index[0] += 1
            return i, bodies[i]

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        while True:
            now = time.perf_counter()
            if now >= deadline:
                break
            item = take()
            if item is None:
                break
            i, (mid, body) = item
            if interval:
                due = start + i * interval
                if due > now:
                    if due >= deadline:
                        break
                    time.sleep(due - now)  # pacing the offered load, not waiting for a condition
            t0 = time.perf_counter()
            wall = time.time()
            try:
                conn.request("POST", path, body=body, headers={"Content-Type": content_type})
                resp = conn.getresponse()
                data = resp.read()
                good = resp.status == 200 and expect in data
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
                good = False
            dt_ms = (time.perf_counter() - t0) * 1000
            with lock:
                result.sent += 1
                if good:
                    result.ok += 1
                    result.latencies_ms.append(dt_ms)
                    result.sent_at[mid] = wall
                else:
                    result.errors += 1
        conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.elapsed_s = time.perf_counter() - start
    return result
