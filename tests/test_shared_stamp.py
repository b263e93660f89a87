"""The settings stamp in shared memory (store/shared_stamp.py): a change noted by one process is read by
another at once, reads make no system call once the file is mapped, a sidecar replaced by hand is
followed, an older mock-remd's stamp file is taken over."""

from __future__ import annotations

import os
import subprocess
import sys

from mock_remd.store import shared_stamp
from mock_remd.store.shared_stamp import STAMP_BYTES, SharedStamp


def _bump_in_another_process(path) -> None:
    code = "import sys; from mock_remd.store.shared_stamp import SharedStamp; SharedStamp(sys.argv[1]).bump()"
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=60)


def test_a_change_in_another_process_is_read_at_once_without_a_system_call(tmp_path, monkeypatch):
    monkeypatch.setattr(shared_stamp, "RECHECK_SECONDS", 3600.0)
    stamp = SharedStamp(str(tmp_path / "remd.db.settings-stamp"))
    first = stamp.read()  # maps the file (made here)
    stats = []
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda path, *a, **kw: (stats.append(path), real_stat(path, *a, **kw))[1])
    assert all(stamp.read() == first for _ in range(100))
    _bump_in_another_process(stamp.path)
    second = stamp.read()
    assert second != first and stamp.read() == second
    _bump_in_another_process(stamp.path)
    assert stamp.read() not in (first, second)
    assert stats == []


def test_own_changes_and_another_mapping_of_the_file(tmp_path):
    path = str(tmp_path / "s")
    a, b = SharedStamp(path), SharedStamp(path)
    before = a.read()
    b.bump()
    assert a.read() != before and a.read() == b.read()
    a.bump()
    assert a.read() == b.read()


def test_a_sidecar_replaced_by_hand_is_followed(tmp_path, monkeypatch):
    monkeypatch.setattr(shared_stamp, "RECHECK_SECONDS", 0.0)  # look at the path on every read
    path = tmp_path / "s"
    stamp = SharedStamp(str(path))
    before = stamp.read()
    path.unlink()
    _bump_in_another_process(path)  # a new file at the path
    after = stamp.read()
    assert after != before and after[0] == path.stat().st_ino


def test_an_older_stamp_file_is_taken_over(tmp_path):
    path = tmp_path / "s"
    path.write_bytes(b"...")  # an older mock-remd appended a dot per change
    stamp = SharedStamp(str(path))
    before = stamp.read()
    assert path.stat().st_size == STAMP_BYTES and path.read_bytes().startswith(b"...")
    stamp.bump()
    assert stamp.read() != before and path.stat().st_size == STAMP_BYTES
