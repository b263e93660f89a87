"""Per-OID facts the column detection cannot be trusted to guess, plus check options per dictionary.

Keys of an entry (all optional):

* ``code`` / ``name`` — the export column holding the code a document carries in ``@code`` and the
  name it must carry in ``@displayName``;
* ``skip`` — never check this dictionary (e.g. very large dictionaries loaded for another purpose);
* ``skip_display_name`` — check the code but not ``@displayName`` (names rendered differently);
* ``full_name`` — the ``@codeSystemName`` expected when the export has no ``fullName``.

Users extend or replace entries with ``overrides.json`` in the NSI directory (same shape, keyed by OID)
or with ``options["nsi"]["overrides"]``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mock_remd.validation.nsi.model import NsiFileError

#: OID -> override entry. Column names are those of the FNSI exports (case as exported).
OVERRIDES: dict[str, dict[str, Any]] = {
    "1.2.643.5.1.13.13.11.1002": {"code": "ID", "name": "NAME"},
    "1.2.643.5.1.13.13.11.1005": {"code": "MKB_CODE", "name": "MKB_NAME"},
    "1.2.643.5.1.13.13.11.1034": {"code": "ID", "name": "NAME"},
    "1.2.643.5.1.13.13.11.1035": {"code": "ID", "name": "NAME"},
    "1.2.643.5.1.13.13.11.1040": {"code": "ID", "name": "NAME"},
    "1.2.643.5.1.13.13.11.1042": {"code": "ID", "name": "NAME"},
    "1.2.643.5.1.13.13.11.1504": {"code": "ID", "name": "ADDRESS_TYPE"},
    "1.2.643.5.1.13.13.11.1520": {"code": "ID", "name": "NAME"},
    "1.2.643.5.1.13.13.11.1522": {"code": "RECID", "name": "Name"},
    "1.2.643.5.1.13.13.11.1551": {"code": "ID", "name": "S_NAME"},
    "1.2.643.5.1.13.13.99.2.48": {"code": "ID", "name": "NAME"},
    "1.2.643.5.1.13.13.99.2.166": {"code": "ID", "name": "NAME"},
    "1.2.643.5.1.13.13.99.2.197": {"code": "CODE", "name": "NAME"},
    "1.2.643.5.1.13.13.99.2.206": {"code": "ID", "name": "SUBJECT"},
    "1.2.643.5.1.13.13.99.2.285": {"code": "CODE", "name": "NAME"},
    "1.2.643.5.1.13.13.99.2.322": {"code": "CODE", "name": "NAME"},
    "1.2.643.5.1.13.13.99.2.723": {"code": "ID", "name": "Name"},
    "1.2.643.5.1.13.13.99.2.724": {"code": "ID", "name": "Name"},
    "1.2.643.5.1.13.13.99.2.726": {"code": "ID", "name": "Type"},
    "1.2.643.5.1.13.13.99.2.1008": {"code": "ID", "name": "NAME"},
    "1.2.643.5.1.13.13.99.2.1079": {"code": "ID", "name": "NAME"},
}

#: file in the NSI directory with user overrides (same shape as :data:`OVERRIDES`)
OVERRIDES_FILE = "overrides.json"


def load_overrides(nsi_dir: Path | None = None, extra: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """The effective override table: built-in, then ``nsi_dir/overrides.json``, then ``extra``.

    Entries merge key by key, so a user file may add ``skip_display_name`` without repeating columns.
    Raises :class:`NsiFileError` (a ``ValueError``) when the user file is not a JSON object of objects.
    """
    table = {oid: dict(entry) for oid, entry in OVERRIDES.items()}
    layers: list[dict[str, Any]] = []
    if nsi_dir is not None and (nsi_dir / OVERRIDES_FILE).is_file():
        path = nsi_dir / OVERRIDES_FILE
        try:
            layers.append(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            raise NsiFileError("overrides.bad_json", path=path, line=exc.lineno, column=exc.colno) from exc
    if extra:
        layers.append(extra)
    for layer in layers:
        if not isinstance(layer, dict) or not all(isinstance(v, dict) for v in layer.values()):
            raise NsiFileError("overrides.shape")
        for oid, entry in layer.items():
            table.setdefault(str(oid), {}).update(entry)
    return table
