"""Kinds (NSI 1.2.643.5.1.13.13.11.1520) from the NSI directory, for the kind catalog.

:class:`NsiKindSource` lets a running server follow the directory: ``mock-remd nsi import`` writes
``<OID>_v<version>.json`` there (atomically, so the directory's modification time changes) and every
process of the server overlays the newest NSI 1520 on its built-in catalog at its next lookup — no
restart. Raw exports dropped into the directory are read as well. A server started before the
directory existed finds it within a second of its making (:data:`ABSENT_RECHECK_SECONDS`).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from mock_remd.catalog.kinds import Kind, KindRegistry, import_nsi_1520
from mock_remd.validation.nsi.exports import ExportError, read_export
from mock_remd.validation.nsi.model import KINDS_OID, STORE_FORMAT, Dictionary
from mock_remd.validation.nsi.store import EXPORT_SUFFIXES, load_dir


def kinds_tsv(dictionary: Dictionary) -> str:
    """An imported NSI 1520 as the TSV text :func:`~mock_remd.catalog.kinds.import_nsi_1520` reads."""
    lines = ["\t".join(dictionary.columns)]
    lines.extend("\t".join(v.replace("\t", " ").replace("\n", " ") for v in row) for row in dictionary.rows)
    return "\n".join(lines)


def load_kinds_from_nsi_dir(nsi_dir: Path) -> list[Kind]:
    """Kinds from the highest version of NSI 1520 found in ``nsi_dir`` (imported or a raw export).

    Returns an empty list when the directory holds no NSI 1520 (or only one imported without rows).
    """
    dictionaries = load_dir(Path(nsi_dir))
    for version in reversed(dictionaries.versions(KINDS_OID)):
        d = dictionaries.get(KINDS_OID, version)
        if d is not None and d.rows:
            return import_nsi_1520(kinds_tsv(d).splitlines())
    return []


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


def newest_kinds_dictionary(nsi_dir: Path) -> Dictionary | None:
    """The newest NSI 1520 (with rows) in ``nsi_dir``: imported JSON first, raw exports named
    ``<OID>_v<version>.tsv|csv`` otherwise. Only the NSI 1520 files are read."""
    found: dict[str, Dictionary] = {}
    if not nsi_dir.is_dir():
        return None
    for path in sorted(nsi_dir.glob(f"{KINDS_OID}_*")):
        if not path.is_file():
            continue
        if path.suffix == ".json":
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and data.get("format") == STORE_FORMAT:
                d = Dictionary.from_dict(data)
                if d.oid == KINDS_OID and d.rows:
                    found[d.version] = d
        elif path.suffix.lower() in EXPORT_SUFFIXES:
            try:
                d = read_export(path).dictionary
            except (OSError, ExportError, UnicodeDecodeError):
                continue
            if d.oid == KINDS_OID and d.rows:
                found.setdefault(d.version, d)
    if not found:
        return None
    return found[max(found, key=_version_key)]


#: how long a directory found absent is taken to be absent, seconds (see :meth:`NsiKindSource.signature`)
ABSENT_RECHECK_SECONDS = 1.0


class NsiKindSource:
    """The NSI directory as a :class:`~mock_remd.catalog.kinds.CatalogSource`."""

    def __init__(self, nsi_dir: Path) -> None:
        self.nsi_dir = Path(nsi_dir)
        self._path = str(self.nsi_dir)  # asked on every registration: os.stat on a str is the cheap way
        #: time.monotonic() until which the directory is taken to be absent
        self._absent_until = 0.0

    def signature(self) -> object:
        """The directory's modification time (None while it does not exist).

        A directory that exists is looked at on every call (a file dropped into it is seen by the next
        lookup). One found absent (serve's default, until ``mock-remd nsi import`` makes it) is looked
        for again after :data:`ABSENT_RECHECK_SECONDS`: the look was a system call on every
        registration, and Python lets the GIL go around each (under load, a thread hand-off per
        answer); the first import into a server started without the directory counts within a second."""
        now = time.monotonic()
        if now < self._absent_until:
            return None
        try:
            return os.stat(self._path).st_mtime_ns  # one system call (the exception: once a second at most)
        except FileNotFoundError:
            self._absent_until = now + ABSENT_RECHECK_SECONDS
            return None

    def load(self) -> tuple[str, str, list[Kind]] | None:
        d = newest_kinds_dictionary(self.nsi_dir)
        if d is None:
            return None
        return d.version, f"{self.nsi_dir / (d.source or d.oid)}", import_nsi_1520(kinds_tsv(d).splitlines())


def kind_catalog(nsi_dir: Path | None) -> KindRegistry:
    """A new built-in catalog following ``nsi_dir`` (None = built-in only); its owner (a Runtime, a
    command) keeps it for its lifetime."""
    registry = KindRegistry()
    if nsi_dir:
        registry.attach(NsiKindSource(Path(nsi_dir).resolve()))
    return registry
