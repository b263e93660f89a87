"""Real ``mock-remd serve`` processes on a fresh PostgreSQL database (plain helpers, not fixtures).

PostgreSQL comes from ``MOCK_REMD_TEST_PG_URL`` (``.ci/run`` starts a throwaway cluster and sets it);
without a reachable server the tests skip with the reason.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests
import yaml
from pg_database import fresh_database, pg_admin_url  # noqa: F401 (re-exported for the tests)
from remd_requests import DEMO_CLIENT, DEMO_ORG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(folder: Path, callback_url: str, **values) -> Path:
    """A config file naming the demo system with ``callback_url``."""
    path = folder / f"remd-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(yaml.safe_dump({"systems": [{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT,
                                                  "callback_url": callback_url, "organizations": [DEMO_ORG]}],
                                     **values}))
    return path


def start_serve(db_url: str, config: Path, log: Path, *, workers: int = 1, processors: int = 1,
                env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """``mock-remd serve`` on a free port in its own process group; returns (process, base URL)."""
    port = free_port()
    environ = {**os.environ, "MOCK_REMD_VALIDATION": "none", "MOCK_REMD_SIGNATURES": "off",
               "MOCK_REMD_CONFIG": str(config), "MOCK_REMD_PROCESSORS": str(processors), **(env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_remd", "serve", "--port", str(port), "--workers", str(workers), "--db", db_url],
        stdout=subprocess.DEVNULL, stderr=log.open("ab"), env=environ, start_new_session=True,
    )
    return proc, f"http://127.0.0.1:{port}"


def wait_ready(proc: subprocess.Popen, url: str, log: Path, timeout: float = 60) -> None:
    """Until ``url/ready`` answers 200; fails with the server's log when it exits or never gets there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}: {log.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(url + "/ready", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)  # polling another process
    raise AssertionError(f"{url} not ready in {timeout} s: {log.read_text(errors='replace')[-3000:]}")


def stop(proc: subprocess.Popen, *, kill: bool = False) -> None:
    """SIGTERM the server (as ``docker stop`` does: the master only), or SIGKILL its whole process
    group (a crash: nothing gets to clean up); then reap it and whatever is left of the group."""
    with contextlib.suppress(ProcessLookupError):
        if kill:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
