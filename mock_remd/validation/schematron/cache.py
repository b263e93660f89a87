"""Compiled Schematron packs, cached on disk (keyed by content hash) and in memory."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from pathlib import Path

from mock_remd.validation.schematron.compiler import (
    COMPILER_VERSION,
    CompiledSchematron,
    compile_optimised,
    compile_reference,
    compile_tolerant,
)
from mock_remd.validation.schematron.model import parse_schema

log = logging.getLogger(__name__)

#: compiled forms by content hash: a memo of a pure function of the bytes (no setting, no file)
_memory: dict[str, CompiledSchematron] = {}
_lock = threading.Lock()

COMPILERS = {"optimised": compile_optimised, "reference": compile_reference, "tolerant": compile_tolerant}


def cache_key(sch_bytes: bytes, mode: str) -> str:
    """Content hash of the schema together with the compiler version and form."""
    h = hashlib.sha256()
    h.update(f"mock-remd-schematron/{COMPILER_VERSION}/{mode}\n".encode())
    h.update(sch_bytes)
    return h.hexdigest()


def compiled_for(
    sch_bytes: bytes, mode: str = "optimised", cache_dir: Path | None = None
) -> tuple[CompiledSchematron, str, str]:
    """The compiled form of ``sch_bytes``: ``(compiled, key, source)``, source being memory/disk/compiled.

    Without ``cache_dir`` the compiled form is kept in memory only (the settings name the directory:
    ``MOCK_REMD_CACHE_DIR``, else :func:`mock_remd.config.default_cache_dir`). A cache directory that
    cannot be written only costs a recompilation next time.
    """
    if mode not in COMPILERS:
        raise ValueError(f"unknown compilation mode {mode!r}")
    key = cache_key(sch_bytes, mode)
    hit = _memory.get(key)
    if hit is not None:
        return hit, key, "memory"
    with _lock:
        hit = _memory.get(key)
        if hit is not None:
            return hit, key, "memory"
        path = cache_dir / "schematron" / f"{key}.json" if cache_dir is not None else None
        compiled = _read(path) if path is not None else None
        source = "disk"
        if compiled is None:
            compiled = COMPILERS[mode](parse_schema(sch_bytes))
            source = "compiled"
            if path is not None:
                _write(path, compiled)
        _memory[key] = compiled
        return compiled, key, source


def _read(path: Path) -> CompiledSchematron | None:
    try:
        with path.open(encoding="utf-8") as fh:
            return CompiledSchematron.from_json(json.load(fh))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring unreadable schematron cache entry %s: %s", path, exc)
        return None


def _write(path: Path, compiled: CompiledSchematron) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(compiled.as_json(), fh, ensure_ascii=False)
        os.replace(tmp, path)  # atomic: concurrent writers leave one complete file
    except OSError as exc:
        log.warning("cannot write schematron cache %s: %s", path, exc)


def clear_memory() -> None:
    """Forget in-memory entries (tests use it to exercise the disk path)."""
    with _lock:
        _memory.clear()
