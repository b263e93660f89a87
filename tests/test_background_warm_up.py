"""Background processes compile the official packs: a few before taking work, many while working.

With all 95 published packs installed the compilation takes minutes on a busy machine; the process must
take documents meanwhile (a document whose pack is not compiled yet compiles it itself)."""

from __future__ import annotations

from pathlib import Path

from mock_remd.config import Settings
from mock_remd.runtime import Runtime
from mock_remd.server.background_process import warm_up


def _runtime(packs_dir: Path, tmp_path: Path) -> Runtime:
    settings = Settings.load({"db_url": f"sqlite:///{tmp_path}/warm.db", "port": 0, "validation": "all",
                              "packs_dir": str(packs_dir), "cache_dir": str(tmp_path / "cache")}, environ={})
    return Runtime(settings, seed_systems=False, role="background")


def test_few_packs_are_compiled_before_work(packs_dir: Path, tmp_path: Path) -> None:
    runtime = _runtime(packs_dir, tmp_path)
    caches = runtime.validator.caches
    installed = len(caches.pack_index(runtime.validator.settings.packs_dir).packs)
    assert warm_up(runtime, before_start=installed) is None
    assert len(caches.schematrons) == installed and len(caches.pack_schemas) == installed


def test_many_packs_are_compiled_by_a_thread_once_work_started(packs_dir: Path, tmp_path: Path) -> None:
    runtime = _runtime(packs_dir, tmp_path)
    caches = runtime.validator.caches
    installed = len(caches.pack_index(runtime.validator.settings.packs_dir).packs)
    later = warm_up(runtime, before_start=installed - 1)
    assert later is not None and not later.is_alive()
    assert len(caches.schematrons) == 0  # nothing compiled before the process takes work
    later.start()
    later.join(timeout=300)
    assert not later.is_alive() and len(caches.schematrons) == installed
