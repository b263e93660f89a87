"""Work the HTTP worker does per synchronous registerDocument answer (``python -m mock_remd.bench.sync_cost``).

The server is ``serve``'s HTTP worker itself: gunicorn's :class:`~mock_remd.server.buffering_worker.BufferingWorker`
with the application ``serve`` loads (:class:`~mock_remd.server.gunicorn_app.GunicornServer`'s
settings: threads, keep-alive, role ``http``), run in a process of its own (without gunicorn's
arbiter) on a loopback port, on a SQLite file with the journal on. This process is the client:
``--connections`` kept-alive connections send the request ``make bench-peer`` sends (the signed
laboratory report, SOAP 1.2 with a wsse:Security header, :func:`mock_remd.bench.peer.template`), each with its own
localUid and MessageID, and check every answer is ``success``. It prints the server process's CPU
(utime+stime from ``/proc``, every thread: event loop, request threads, group commit) per answer.

No background process runs, so nothing drains the accepted documents: the backpressure is off
(``backlog_limit`` 0; under bench-peer it only reads a counter per answer while below its limit).

The machine's speed drifts, so compare checkouts by instructions: ``--callgrind`` runs the server
under valgrind's callgrind (this client outside it), zeroes its counters after the warm-up and dumps
them after the measured answers (``callgrind_control``), and prints instructions per answer and GIL
releases per answer (calls of ``PyEval_SaveThread``: under load each is a possible thread hand-off;
callgrind runs one thread at a time, so group-commit batches are smaller than under real load).
Pass ``--profile`` to keep the dump for ``callgrind_annotate``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

DEMO_CLIENT = "00000000-0000-4000-8000-000000000001"
DEMO_ORG = "1.2.643.5.1.13.13.12.2.50.99999"
_READY_TIMEOUT = 600.0  # under callgrind the imports alone take a minute or more


# ---- the server: serve's HTTP worker in a process of its own ---------------------------------------------
def _settings(work: Path, threads: int = 0):  # noqa: ANN202 - a Settings (imported in the server process only)
    from mock_remd.config import Settings

    systems = [{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "organizations": [DEMO_ORG],
                "callback_url": "http://127.0.0.1:9/cb"}]
    return Settings.load({"db_url": f"sqlite:///{work / 'remd.db'}", "host": "127.0.0.1", "port": 0,
                          "systems": systems, "cache_dir": str(work / "cache"), "backlog_limit": 0,
                          **({"threads": threads} if threads else {})}, environ={})


def serve(work: Path, threads: int = 0) -> None:
    """Run ``serve``'s HTTP worker on 127.0.0.1 (its port written to ``work/port``) until SIGTERM;
    ``threads``: request threads (0: serve's default)."""
    from mock_remd.server.buffering_worker import BufferingWorker
    from mock_remd.server.gunicorn_app import GunicornServer, check_database, open_listener

    os.chdir(work)  # no .mock-remd/packs or nsi here: the defaults of bench-peer
    settings = _settings(work, threads)
    check_database(settings)  # what serve's master does first: the schema and the systems
    listener = open_listener("127.0.0.1", 0)
    app = GunicornServer(settings, listener)
    worker = BufferingWorker(1, os.getppid(), [listener], app, 120, app.cfg, app.cfg.logger_class(app.cfg))
    tmp = work / "port.tmp"
    tmp.write_text(str(listener.getsockname()[1]))
    tmp.rename(work / "port")
    try:
        worker.init_process()  # loads the application, then the event loop until SIGTERM
    finally:
        runtime = getattr(getattr(worker, "wsgi", None), "runtime", None)
        if runtime is not None:
            runtime.stop()


# ---- the client ---------------------------------------------------------------------------------------------
class Client:
    """``connections`` kept-alive HTTP/1.1 connections sending the bench's request with fresh ids."""

    def __init__(self, port: int, template: bytes, connections: int) -> None:
        self.port = port
        self.template = template
        self.connections = connections
        self._sent = 0
        self._lock = threading.Lock()
        self._socks = [socket.create_connection(("127.0.0.1", port), timeout=600) for _ in range(connections)]
        for s in self._socks:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        for s in self._socks:
            s.close()

    def _request(self) -> bytes:
        with self._lock:
            self._sent += 1
            n = self._sent
        uid = f"{os.getpid():08x}-0000-4000-8000-{n:012x}"
        mid = f"{os.getpid():08x}-1111-4111-8111-{n:012x}"
        body = self.template.replace(b"@@LOCALUID@@", uid.encode(), 1).replace(b"@@MESSAGEID@@", mid.encode(), 1)
        head = (f"POST /port/emdr HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                f"Content-Type: application/soap+xml; charset=utf-8\r\nContent-Length: {len(body)}\r\n\r\n")
        return head.encode("latin-1") + body

    def _one(self, sock: socket.socket, buf: bytearray) -> bytes:
        sock.sendall(self._request())
        while (end := buf.find(b"\r\n\r\n")) < 0:
            buf += _recv(sock)
        head = bytes(buf[:end]).decode("latin-1")
        m = re.search(r"(?im)^content-length:\s*(\d+)", head)
        if not head.startswith("HTTP/1.1 200") or not m:
            raise SystemExit(f"unexpected answer: {head[:200]!r}")
        total = end + 4 + int(m.group(1))
        while len(buf) < total:
            buf += _recv(sock)
        body = bytes(buf[end + 4:total])
        del buf[:total]
        if b":status>success<" not in body:
            raise SystemExit(f"the answer is not success: {body[:600]!r}")
        return body

    def send(self, count: int) -> None:
        """``count`` requests spread over the connections (each one waits for its answer)."""
        shares = [count // self.connections + (1 if i < count % self.connections else 0)
                  for i in range(self.connections)]
        failures: list[BaseException] = []

        def run(sock: socket.socket, n: int) -> None:
            buf = bytearray()
            try:
                for _ in range(n):
                    self._one(sock, buf)
            except BaseException as exc:  # reported by send()
                failures.append(exc)

        threads = [threading.Thread(target=run, args=(s, n)) for s, n in zip(self._socks, shares, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if failures:
            raise failures[0]


def _recv(sock: socket.socket) -> bytes:
    data = sock.recv(65536)
    if not data:
        raise SystemExit("the server closed the connection")
    return data


def _cpu_ms(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def _switches(pid: int) -> int:
    """Context switches of all threads of ``pid`` so far (voluntary and not, from /proc)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "status").read_text()
        except OSError:
            continue
        total += sum(int(m) for m in re.findall(r"(?m)^(?:non)?voluntary_ctxt_switches:\s+(\d+)", text))
    return total


def _callgrind(action: str, pid: int) -> None:
    subprocess.run(["callgrind_control", action, str(pid)], check=True, capture_output=True, timeout=600)


def _totals(path: Path) -> int:
    m = re.search(r"^(?:summary|totals):\s+(\d+)", path.read_text(errors="replace"), re.M)
    if not m:
        raise SystemExit(f"no totals in {path}")
    return int(m.group(1))


#: the C function through which CPython lets the GIL go around a blocking or long call
GIL_RELEASE = "PyEval_SaveThread"


def _calls(path: Path, function: str) -> int:
    """Calls of ``function`` in a callgrind dump: the ``calls=`` lines under its ``cfn=`` entries (names
    are compressed: ``(id) name`` the first time, ``(id)`` after)."""
    names: dict[str, str] = {}
    total = 0
    callee = ""
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith(("cfn=", "fn=")):
            m = re.match(r"c?fn=\((\d+)\)(?: (.*))?", line)
            if m:
                if m.group(2):
                    names[m.group(1)] = m.group(2)
                callee = names.get(m.group(1), "") if line.startswith("cfn=") else ""
        elif line.startswith("calls=") and callee == function:
            total += int(line[6:].split()[0])
            callee = ""
    return total


def run(count: int, *, connections: int = 4, warm: int = 50, callgrind: bool = False,
        profile: Path | None = None, threads: int = 0) -> dict[str, float]:
    """Start the server, send ``warm`` then ``count`` requests; the figures of the measured ones:
    ``cpu_ms`` per answer, and with ``callgrind`` ``instructions`` per answer."""
    from mock_remd.bench.peer import template
    from mock_remd.config import serve_environment

    body = template("1.2")
    with tempfile.TemporaryDirectory(prefix="mock-remd-sync-cost-") as tmp:
        work = Path(tmp)
        cmd = [sys.executable, "-m", "mock_remd.bench.sync_cost", "--serve", str(work), "--threads", str(threads)]
        out = work / "callgrind.out"
        if callgrind:
            cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no", *cmd]
        proc = subprocess.Popen(cmd, env=serve_environment(), stdout=subprocess.DEVNULL,
                                stderr=open(work / "server.log", "wb"), start_new_session=True)
        client = None
        try:
            port = _wait_port(work, proc)
            client = Client(port, body, connections)
            client.send(warm)
            if callgrind:
                _callgrind("-z", proc.pid)
            cpu0, wall0, switches0 = _cpu_ms(proc.pid), time.monotonic(), _switches(proc.pid)
            client.send(count)
            cpu1, wall1, switches1 = _cpu_ms(proc.pid), time.monotonic(), _switches(proc.pid)
            if callgrind:
                _callgrind("-d", proc.pid)
        finally:
            if client is not None:
                client.close()
            _stop(proc)
        figures = {"cpu_ms": (cpu1 - cpu0) / count, "rate": count / max(wall1 - wall0, 1e-9),
                   "switches": (switches1 - switches0) / count}
        if callgrind:
            dumps = sorted(work.glob("callgrind.out.*"), key=lambda p: int(p.name.rsplit(".", 1)[1]))
            if not dumps:
                raise SystemExit("callgrind wrote no dump")
            figures["instructions"] = _totals(dumps[0]) / count
            figures["gil_releases"] = _calls(dumps[0], GIL_RELEASE) / count
            if profile is not None:
                profile.mkdir(parents=True, exist_ok=True)
                shutil.copy(dumps[0], profile / "callgrind.sync")
        return figures


def _wait_port(work: Path, proc: subprocess.Popen) -> int:
    deadline = time.monotonic() + _READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server ended: {(work / 'server.log').read_text(errors='replace')[-2000:]}")
        port_file = work / "port"
        if port_file.exists():
            port = int(port_file.read_text())
            try:  # /health answers once the application is loaded and the event loop runs
                with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if s.recv(64).startswith(b"HTTP/1.1 200"):
                        return port
            except OSError:
                pass
        time.sleep(0.2)  # the server is booting: nothing to block on but time
    raise SystemExit("the server did not become ready")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mock_remd.bench.sync_cost", description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--count", type=int, default=2000, help="measured answers (callgrind: 200 is plenty)")
    ap.add_argument("-c", "--connections", type=int, default=4, help="kept-alive client connections")
    ap.add_argument("--warm", type=int, default=50, help="answers before the measured ones")
    ap.add_argument("--threads", type=int, default=0, help="the worker's request threads (default: serve's)")
    ap.add_argument("--callgrind", action="store_true", help="count the server's instructions under callgrind")
    ap.add_argument("--profile", type=Path, help="with --callgrind: keep the dump in this folder")
    ap.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # the server process
    args = ap.parse_args(argv)
    if args.serve is not None:
        serve(args.serve, args.threads)
        return 0
    load = os.getloadavg()[0]
    f = run(args.count, connections=args.connections, warm=args.warm, callgrind=args.callgrind,
            profile=args.profile, threads=args.threads)
    figures = (f"CPU per answer {f['cpu_ms']:.3f} ms, {f['switches']:.1f} context switches per answer "
               f"({f['rate']:.0f} answers/s)")
    if args.callgrind:
        figures = (f"instructions per answer {f['instructions'] / 1e6:.3f} M, GIL releases per answer "
                   f"{f['gil_releases']:.2f} (calls of {GIL_RELEASE}; under callgrind)")
    print(f"{args.count} answers on {args.connections} connections, load {load:.1f}/{os.getloadavg()[0]:.1f}: "
          f"HTTP worker {figures}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
