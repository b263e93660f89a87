"""The NSI directory: imported dictionaries as ``<OID>_v<version>.json``, raw exports read as they are.

``mock-remd nsi import`` writes one JSON file per dictionary version (format ``mock-remd-nsi/1``:
``oid``, ``version``, ``full_name``, ``code_column``, ``name_column``, ``columns``, ``entries`` code →
name, and for NSI 1520 every ``rows``). :func:`load_dir` reads those and also any ``.tsv``/``.csv`` FNSI
export dropped into the directory, so ``MOCK_REMD_NSI_DIR`` may point straight at a folder of exports.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mock_remd.catalog.user_messages import Text, text
from mock_remd.validation.nsi.exports import ExportError, ParsedExport, read_export
from mock_remd.validation.nsi.model import STORE_FORMAT, Dictionary, NsiFileError
from mock_remd.validation.nsi.overrides import OVERRIDES_FILE, load_overrides

#: where ``nsi import`` writes when neither ``--dir`` nor ``MOCK_REMD_NSI_DIR`` says
DEFAULT_DIR = Path(".mock-remd") / "nsi"
EXPORT_SUFFIXES = (".tsv", ".csv", ".txt")


def store_path(nsi_dir: Path, oid: str, version: str) -> Path:
    """The JSON file of one dictionary version in ``nsi_dir``."""
    return nsi_dir / f"{oid}_v{version}.json"


def save(dictionary: Dictionary, nsi_dir: Path) -> Path:
    """Write ``dictionary`` into ``nsi_dir`` (atomically; replaces the same OID+version)."""
    nsi_dir.mkdir(parents=True, exist_ok=True)
    target = store_path(nsi_dir, dictionary.oid, dictionary.version)
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(dictionary.as_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, target)
    return target


@dataclass
class ImportResult:
    """One imported file: where it went and what was noticed on the way."""

    source: Path
    target: Path
    parsed: ParsedExport

    @property
    def dictionary(self) -> Dictionary:
        return self.parsed.dictionary


def import_file(
    path: Path,
    nsi_dir: Path,
    *,
    oid: str | None = None,
    version: str | None = None,
    code_column: str | None = None,
    name_column: str | None = None,
) -> ImportResult:
    """Read one FNSI export and store it in ``nsi_dir``; raises :class:`ExportError` when unusable."""
    parsed = read_export(
        path,
        oid=oid,
        version=version,
        code_column=code_column,
        name_column=name_column,
        overrides=load_overrides(nsi_dir if nsi_dir.is_dir() else None),
    )
    return ImportResult(path, save(parsed.dictionary, nsi_dir), parsed)


@dataclass
class DictionarySet:
    """Every loaded dictionary version, by OID then version."""

    by_oid: dict[str, dict[str, Dictionary]] = field(default_factory=dict)
    #: files that could not be read, with the reason (rendered in the reader's language where shown)
    errors: dict[str, Text] = field(default_factory=dict)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: OID -> its versions sorted (read for every coded element of every document); cleared by add()
    _sorted: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)
    _loaded_labels: list[str] | None = field(default=None, repr=False, compare=False)

    def add(self, dictionary: Dictionary, *, replace: bool = True) -> None:
        """Add a dictionary version (an existing OID+version is kept unless ``replace``)."""
        versions = self.by_oid.setdefault(dictionary.oid, {})
        if replace or dictionary.version not in versions:
            versions[dictionary.version] = dictionary
            self._sorted.pop(dictionary.oid, None)
            self._loaded_labels = None

    def get(self, oid: str, version: str) -> Dictionary | None:
        """One version of one dictionary, or None."""
        return self.by_oid.get(oid, {}).get(version)

    def versions(self, oid: str) -> list[str]:
        """Loaded versions of ``oid``, oldest first (a new list; the caller may keep it)."""
        found = self._sorted.get(oid)
        if found is None:
            found = sorted(self.by_oid.get(oid, {}), key=_version_key)
            if oid in self.by_oid:
                self._sorted[oid] = found
        return list(found)

    def latest(self, oid: str) -> Dictionary | None:
        """The highest loaded version of ``oid``."""
        versions = self.versions(oid)
        return self.by_oid[oid][versions[-1]] if versions else None

    def all(self) -> list[Dictionary]:
        """Every loaded dictionary version, by OID then version."""
        return [self.by_oid[oid][v] for oid in sorted(self.by_oid) for v in self.versions(oid)]

    def loaded_labels(self) -> list[str]:
        """``"<oid> v<version>"`` of every loaded dictionary, in :meth:`all`'s order (a new list)."""
        if self._loaded_labels is None:
            self._loaded_labels = [f"{d.oid} v{d.version}" for d in self.all()]
        return list(self._loaded_labels)

    @property
    def empty(self) -> bool:
        return not self.by_oid


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


def _why(exc: BaseException, fallback: str) -> Text:
    """Why a file of the directory was not loaded, as a catalogue message (never a library's text)."""
    if isinstance(exc, NsiFileError):
        return exc.message
    if isinstance(exc, UnicodeDecodeError):
        return text("nsi.load.not_utf8", byte=exc.start)
    if isinstance(exc, json.JSONDecodeError):
        return text("nsi.load.bad_json", line=exc.lineno, column=exc.colno)
    if isinstance(exc, OSError) and exc.strerror:
        return text("nsi.load.os", reason=exc.strerror)
    return text(fallback)


def load_dir(nsi_dir: Path, extra_overrides: dict[str, dict[str, Any]] | None = None) -> DictionarySet:
    """Load every dictionary in ``nsi_dir``: imported JSON first, then raw exports not imported yet.

    Unreadable files are listed in :attr:`DictionarySet.errors`, never raised.
    """
    result = DictionarySet()
    try:
        result.overrides = load_overrides(nsi_dir, extra_overrides)
    except ValueError as exc:
        result.errors[OVERRIDES_FILE] = _why(exc, "nsi.load.unreadable")
        result.overrides = load_overrides(None, extra_overrides)
    if not nsi_dir.is_dir():
        return result
    files = sorted(p for p in nsi_dir.iterdir() if p.is_file())
    for path in files:
        if path.suffix != ".json" or path.name == OVERRIDES_FILE:
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("format") == STORE_FORMAT:
                result.add(Dictionary.from_dict(data))
        except (OSError, ValueError, KeyError) as exc:
            result.errors[path.name] = _why(exc, "nsi.load.damaged")
    for path in files:
        if path.suffix.lower() not in EXPORT_SUFFIXES:
            continue
        try:
            result.add(read_export(path, overrides=result.overrides).dictionary, replace=False)
        except (OSError, ExportError, UnicodeDecodeError) as exc:
            result.errors[path.name] = _why(exc, "nsi.load.export_unreadable")
    for d in result.all():
        d.options = dict(result.overrides.get(d.oid, {}))
    return result
