"""The background processes of ``serve`` run at the niceness ``background_nice`` says (a real child
process, read from /proc), and the setting is checked."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from mock_remd.config import ConfigError, Settings
from mock_remd.server.background_process import BackgroundProcesses


def _nice(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2:].split()[16])


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_background_processes_run_at_the_niceness_set(tmp_path):
    settings = Settings.load({"db_url": f"sqlite:///{tmp_path / 'remd.db'}", "validation": "none",
                              "signatures": "off", "background_nice": 7}, environ={})
    procs = BackgroundProcesses(settings, 1)
    procs.start()
    try:
        pid = procs._procs[0].pid  # noqa: SLF001 - the child this test started
        base = os.nice(0)
        for _ in range(200):  # bounded: the child lowers its priority first thing
            if _nice(pid) != base:
                break
            time.sleep(0.05)
        assert _nice(pid) == min(19, base + 7)
    finally:
        procs.stop(timeout=20)


def test_background_nice_is_checked():
    assert Settings.load({}, environ={}).background_nice == 12
    assert Settings.load({}, environ={"MOCK_REMD_BACKGROUND_NICE": "0"}).background_nice == 0
    with pytest.raises(ConfigError) as err:
        Settings.load({}, environ={"MOCK_REMD_BACKGROUND_NICE": "20"}).check()
    assert "MOCK_REMD_BACKGROUND_NICE" in str(err.value)
