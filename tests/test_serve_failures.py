"""``mock-remd serve`` fails fast with one sentence and exit status 2 when it cannot serve (issue 13)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
import requests


def _serve(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mock_remd", "serve", *args], capture_output=True, text=True,
                          timeout=timeout, env={"PATH": "/usr/bin:/bin", "MOCK_REMD_VALIDATION": "none"})


def _one_sentence(proc: subprocess.CompletedProcess) -> str:
    err = proc.stderr.strip()
    assert proc.returncode == 2, (proc.returncode, proc.stdout, err)
    assert "Traceback" not in err and "Error:" not in err, err
    assert len(err.splitlines()) == 1, err
    assert "ready" not in proc.stdout
    return err


def test_port_held_by_another_server_fails_at_once():
    # another server that, like gunicorn with --reuse-port, would share the port
    other = socket.socket()
    other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    other.bind(("127.0.0.1", 0))
    other.listen()
    port = other.getsockname()[1]
    try:
        err = _one_sentence(_serve("--port", str(port), "--db", "sqlite://"))
    finally:
        other.close()
    assert f"порт {port}" in err and "занят" in err


def test_port_in_use_in_english():
    other = socket.socket()
    other.bind(("127.0.0.1", 0))
    other.listen()
    port = other.getsockname()[1]
    try:
        err = _one_sentence(_serve("--port", str(port), "--lang", "en"))
    finally:
        other.close()
    assert err == f"mock-remd serve: port {port} on 127.0.0.1 is already in use by another process: stop it or choose --port"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--db", "mysql://x"], ["--db mysql://x", "неизвестный вид базы данных"]),
        (["--db", "postgresql://postgres@127.0.0.1:1/nosuch"], ["postgresql://postgres@127.0.0.1:1/nosuch", "недоступна"]),
        (["--host", "10.254.254.254"], ["10.254.254.254", "нет такого адреса"]),
        (["--port", "99999"], ["--port 99999"]),
        (["--packs", "/nosuch"], ["--packs /nosuch", "нет такого каталога"]),
    ],
)
def test_unusable_settings_fail_in_one_sentence(args, words):
    started = time.monotonic()
    err = _one_sentence(_serve(*args, "--port", "0") if "--port" not in args else _serve(*args))
    assert time.monotonic() - started < 20
    for word in words:
        assert word in err
    assert "MOCK_REMD_" not in err


def test_in_memory_store_has_the_demo_system():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "mock_remd", "serve", "--port", str(port), "--db", "sqlite://"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={"PATH": "/usr/bin:/bin", "MOCK_REMD_VALIDATION": "none"})
    try:
        assert proc.stdout is not None
        assert "ready" in proc.stdout.readline()
        systems = requests.get(f"http://127.0.0.1:{port}/_admin/systems", timeout=10).json()["items"]
        assert [s["mnemonic"] for s in systems] == ["demo"]
    finally:
        proc.terminate()
        proc.wait(20)
