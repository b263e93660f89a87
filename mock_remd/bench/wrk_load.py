"""Full-speed load with ``wrk`` (Debian package) when it is installed: a C load generator leaves the
server the CPU that a Python client would take on a 2-core machine."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mock_remd.bench.procs import duration_ms

_LUA = r"""
local template = io.open("%(body)s", "rb"):read("*a")
local counter = 0
local tid = 0
local threads = {}
function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
end
function init(args)
  counter = 0
end
function request()
  counter = counter + 1
  local uid = string.format("%%08x-0000-4000-8000-%%012x", tid, counter)
  local mid = string.format("%%08x-1111-4111-8111-%%012x", tid, counter)
  local body = template:gsub("@@LOCALUID@@", uid):gsub("@@MESSAGEID@@", mid)
  return wrk.format("POST", "/port/emdr", {["Content-Type"] = "%(ctype)s"}, body)
end
"""


@dataclass
class WrkResult:
    requests: int
    rate: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: str


def available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(url: str, template: bytes, *, content_type: str, connections: int, duration: float,
            threads: int = 1) -> WrkResult:
    """Run wrk against ``url`` with ``template`` (placeholders @@LOCALUID@@ and @@MESSAGEID@@)."""
    work = Path(tempfile.mkdtemp(prefix="mock-remd-wrk-"))
    body = work / "body.xml"
    body.write_bytes(template)
    script = work / "remd.lua"
    script.write_text(_LUA % {"body": str(body), "ctype": content_type})
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration:g}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, timeout=duration + 60,
    ).stdout
    shutil.rmtree(work, ignore_errors=True)
    reqs = re.search(r"(\d+) requests in", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: (.*)", out)
    return WrkResult(
        requests=int(reqs.group(1)) if reqs else 0,
        rate=float(rate.group(1)) if rate else 0.0,
        p50_ms=duration_ms(p50.group(1)) if p50 else float("nan"),
        p99_ms=duration_ms(p99.group(1)) if p99 else float("nan"),
        non_2xx=int(non2xx.group(1)) if non2xx else 0,
        socket_errors=sock.group(1).strip() if sock else "none",
    )
