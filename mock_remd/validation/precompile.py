"""Warm-up at server start: load every pack's XSD and compile every pack's Schematron once."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from mock_remd.validation.caches import ValidationCaches
from mock_remd.validation.packs import PackSchemaError

log = logging.getLogger(__name__)


def precompile(
    packs_dir: Path | None, cache_dir: Path | None = None, mode: str = "optimised",
    caches: ValidationCaches | None = None,
) -> dict[str, dict[str, Any]]:
    """Prepare every pack under ``packs_dir`` into ``caches`` (a Validator's, so that its layers find
    them ready; else fresh ones, which warms the disk cache only); returns what was done per kind.

    The Schematron XSLT is taken from the disk cache when present (else compiled and stored); the
    Saxon executable and the lxml schema are built now, so the first document pays nothing. Call it
    in each worker process (after fork): Saxon objects do not survive a fork.
    """
    caches = caches if caches is not None else ValidationCaches()
    out: dict[str, dict[str, Any]] = {}
    for entry in caches.pack_index(packs_dir).packs:  # every installed edition
        pack = entry.pack(Path(packs_dir))  # type: ignore[arg-type]
        info: dict[str, Any] = {}
        if pack.xsd is not None:
            started = time.perf_counter()
            try:
                info["xsd_engine"] = caches.pack_schema(pack.xsd).engine
            except PackSchemaError as exc:  # the xsd layer reports the kind as unchecked
                log.error("XSD of pack %s cannot be loaded: %s", pack.kind, exc)
                info["xsd_engine"] = None
            info["xsd"] = str(pack.xsd)
            info["xsd_ms"] = round((time.perf_counter() - started) * 1000, 1)
        if pack.schematron is not None:
            started = time.perf_counter()
            validator = caches.schematron(pack.schematron, mode, cache_dir)
            validator.executable()
            info["schematron"] = str(pack.schematron)
            info["schematron_source"] = validator.source
            info["schematron_ms"] = round((time.perf_counter() - started) * 1000, 1)
        out[entry.directory] = info
    return out
