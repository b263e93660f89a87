"""``mock-remd serve``'s processes carry only what they run (issue 16, goal 6: the memory of all of them).

A real server (gunicorn master, two HTTP workers, one background process) registers documents with
the default validation and calls them back; a ``sitecustomize`` on the servers' path (observing only)
writes each process's ``sys.modules`` when it exits. The master supervises: no store, no web layers,
no validation. The HTTP workers answer: no validation layers, processor, callback sender, libcurl,
requests, SOAP toolkit for the WSDL, generator or Saxon. The background process is the one that
validates and calls back (which shows the probe sees what a process really loaded). The processes
run with glibc's malloc arenas limited.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import requests
from instances import start_serve, stop, wait_ready, write_config
from remd_requests import register_request

from mock_remd.soap.builders import content_type, register_envelope

PROBE = '''
import atexit, json, os, sys

def _write_modules():
    folder = os.environ.get("SERVE_SLIM_MODULES_DIR")
    if folder:
        with open(os.path.join(folder, f"{os.getpid()}.json"), "w") as fh:
            json.dump({"argv": sys.argv, "modules": sorted(sys.modules)}, fh)

atexit.register(_write_modules)
'''

#: modules (and packages) no gunicorn master of serve may hold
NOT_IN_MASTER = ("sqlalchemy", "lxml", "flask", "spyne", "requests", "pycurl", "saxonche", "xmlschema", "faker",
                 "asn1crypto", "gostcrypto", "mock_remd.store", "mock_remd.validation", "mock_remd.runtime",
                 "mock_remd.core", "mock_remd.soap.app", "mock_remd.admin", "mock_remd.generator", "mock_remd.cli")
#: ... and no HTTP worker
NOT_IN_WORKERS = ("mock_remd.validation.pipeline", "mock_remd.validation.layers", "mock_remd.validation.caches",
                  "mock_remd.core.processing", "mock_remd.delivery.sender", "mock_remd.delivery.http_post",
                  "mock_remd.generator", "mock_remd.signing", "mock_remd.cli", "pycurl", "requests", "urllib3",
                  "spyne", "saxonche", "xmlschema", "faker", "asn1crypto")


def _held(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if any(m == n or m.startswith(n + ".") for m in modules))


def test_master_and_http_workers_do_not_load_what_they_never_run(tmp_path, sink):
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "sitecustomize.py").write_text(PROBE)
    dumps = tmp_path / "modules"
    dumps.mkdir()
    path = os.pathsep.join([str(probe), *filter(None, [os.environ.get("PYTHONPATH")])])
    log = tmp_path / "server.log"
    proc, url = start_serve(f"sqlite:///{tmp_path / 'remd.db'}", write_config(tmp_path, sink.url), log, workers=2,
                            processors=1, env={"PYTHONPATH": path, "SERVE_SLIM_MODULES_DIR": str(dumps),
                                               "MOCK_REMD_VALIDATION": "all", "MOCK_REMD_SIGNATURES": "digest"})
    try:
        wait_ready(proc, url, log)
        # glibc's arenas are limited in serve's processes (config.serve_environment) unless the user set them
        environ = Path(f"/proc/{proc.pid}/environ").read_bytes().split(b"\0")
        assert f"MALLOC_ARENA_MAX={os.environ.get('MALLOC_ARENA_MAX', '2')}".encode() in environ
        # ... and the background processes keep more freed chunks per thread (config.background_environment)
        background = subprocess.run(["pgrep", "-P", str(proc.pid), "-f", "background_process"], capture_output=True,
                                    text=True).stdout.split()
        assert background
        for pid in background:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            tunables = next(v for v in environ if v.startswith(b"GLIBC_TUNABLES=")).split(b"=", 1)[1].split(b":")
            assert any(t.startswith(b"glibc.malloc.tcache_count=") for t in tunables)
        for _ in range(6):  # keep-alive off: the two workers share the connections
            req = register_request()
            r = requests.post(url + "/port/emdr", data=register_envelope(req), timeout=30,
                              headers={"Content-Type": content_type("1.2"), "Connection": "close"})
            assert r.status_code == 200
        sink.wait_count(6, timeout=60, accepted_only=False)
        assert requests.get(url + "/ready", timeout=10).status_code == 200
        assert requests.get(url + "/_admin/requests", params={"limit": 1}, timeout=10).status_code == 200
    finally:
        stop(proc)
    seen = {int(p.stem): json.loads(p.read_text()) for p in dumps.glob("*.json")}
    master = seen.pop(proc.pid, None)
    assert master is not None, f"the master wrote no module list: {log.read_text(errors='replace')[-2000:]}"
    background = [d for d in seen.values() if any("background_process" in a for a in d["argv"])]
    workers = [d for d in seen.values() if d not in background]
    assert len(workers) == 2 and len(background) == 1, sorted(seen)
    assert _held(master["modules"], NOT_IN_MASTER) == []
    for worker in workers:
        assert "mock_remd.soap.app" in worker["modules"] and "mock_remd.store.repository" in worker["modules"]
        assert _held(worker["modules"], NOT_IN_WORKERS) == []
    assert {"mock_remd.validation.pipeline", "mock_remd.core.processing", "pycurl"} <= set(background[0]["modules"])
