"""Process measurements the benchmarks share: a process tree, its CPU and resident memory (from /proc),
a free loopback port and wrk's duration figures."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree(root: int) -> list[int]:
    """``root`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_ms(root: int) -> tuple[float, float]:
    """utime+stime of ``root`` and its descendants, ms: (all of them, mock-remd's background processes)."""
    total = background = 0
    for p in tree(root):
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
            cmdline = Path(f"/proc/{p}/cmdline").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        ticks = int(fields[11]) + int(fields[12])
        total += ticks
        if b"mock_remd.server.background_process" in cmdline:
            background += ticks
    return total * 1000 / _TICK, background * 1000 / _TICK


def background_threads_ms(root: int) -> dict[tuple[int, int], tuple[str, float]]:
    """utime+stime of every thread of mock-remd's background processes under ``root``, ms, by
    (pid, thread id): (the thread's name in the system, e.g. ``processor-pool``, ms)."""
    out: dict[tuple[int, int], tuple[str, float]] = {}
    for p in tree(root):
        try:
            if b"mock_remd.server.background_process" not in Path(f"/proc/{p}/cmdline").read_bytes():
                continue
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                stat = Path(f"/proc/{p}/task/{tid}/stat").read_text()
                name = Path(f"/proc/{p}/task/{tid}/comm").read_text().strip()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            out[(p, int(tid))] = (name, (int(fields[11]) + int(fields[12])) * 1000 / _TICK)
    return out


def by_thread_name(before: dict[tuple[int, int], tuple[str, float]],
                   after: dict[tuple[int, int], tuple[str, float]]) -> dict[str, float]:
    """CPU ms spent between two :func:`background_threads_ms` readings, summed by thread name (a
    process's first thread counts as ``main``, threads that kept the process's name as ``other``),
    largest first."""
    sums: dict[str, float] = {}
    for key, (name, ms) in after.items():
        process_name = after.get((key[0], key[0]), ("", 0.0))[0]
        label = "main" if key[0] == key[1] else ("other" if name == process_name else name)
        sums[label] = sums.get(label, 0.0) + ms - before.get(key, (name, 0.0))[1]
    return dict(sorted(sums.items(), key=lambda kv: -kv[1]))


def rss_mb(root: int) -> float:
    """Resident memory of ``root`` and its descendants, MiB."""
    total = 0
    for p in tree(root):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def duration_ms(text: str) -> float:
    """wrk's ``12.5ms`` / ``830us`` / ``1.2s`` in milliseconds (NaN when it is not one)."""
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    if not m:
        return float("nan")
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
