"""Kinds (NSI 1.2.643.5.1.13.13.11.1520) from the NSI directory, for the kind registry."""

from __future__ import annotations

from pathlib import Path

from mock_remd.catalog.kinds import Kind, import_nsi_1520
from mock_remd.validation.nsi.model import KINDS_OID, Dictionary
from mock_remd.validation.nsi.store import load_dir


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
