"""NSI (ФНСИ) dictionaries: importing FNSI table exports, the on-disk store, and the value check.

* :mod:`.exports` — read an FNSI export (TSV/CSV) into a :class:`~.model.Dictionary`;
* :mod:`.overrides` — per-OID code/name columns and check options;
* :mod:`.store` — the NSI directory (``<OID>_v<version>.json``), :func:`~.store.load_dir`;
* :mod:`.check` — :class:`~.check.NsiChecker`, the ``nsi`` layer's work;
* :mod:`.kinds` — :func:`~.kinds.load_kinds_from_nsi_dir` for the kind registry.
"""

from mock_remd.validation.nsi.kinds import load_kinds_from_nsi_dir
from mock_remd.validation.nsi.model import KINDS_OID, Dictionary
from mock_remd.validation.nsi.store import DictionarySet, import_file, load_dir

__all__ = [
    "KINDS_OID",
    "Dictionary",
    "DictionarySet",
    "import_file",
    "load_dir",
    "load_kinds_from_nsi_dir",
]
