"""What validation prepares once and reuses, owned by one :class:`~mock_remd.validation.pipeline.Validator`.

A Runtime (one running server) builds one Validator, so two servers in one process keep their own
pack indexes, loaded XSDs, compiled Schematrons and CA bundles. Every entry is re-made when its file
changes.

Process-wide by nature, and kept so: the one saxonche processor with the executables it compiled
(:mod:`mock_remd.validation.schematron.saxon`, :func:`~mock_remd.validation.schematron.runner.get_validator`,
keyed by the Schematron's content hash, so they hold for any server) and the GOST backends
(:mod:`mock_remd.gost`). Memos of pure functions of bytes (certificate parsing, the WSDL of an
address) stay beside their functions: they hold no setting and no file.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from pathlib import Path
from typing import Any

from mock_remd.catalog.findings import text as finding_text
from mock_remd.gost.certs import CertInfo, read_bundle
from mock_remd.validation.cda.pack_requirements import PackRequirements, parse_requirements
from mock_remd.validation.pack_index import InstalledPack, PackIndex, index_version, read_index
from mock_remd.validation.packs import Pack, PackSchema, load_schema
from mock_remd.validation.prepared import Prepared, file_version
from mock_remd.validation.schematron.runner import SchematronValidator, get_validator

log = logging.getLogger(__name__)

#: an identity constraint selecting over the descendant axis (``xs:selector xpath=".//hl7:entry/…"``)
#: at most this many remembered resolved paths (pack files: a few per installed pack)
_RESOLVED_MAX = 4096

_DESCENDANT_SELECTOR = re.compile(rb"""<(?:xs|xsd):selector\s+xpath\s*=\s*["']\s*\.//""")


def _descendant_identity_constraints(path: Path) -> bool:
    """True when the pack declares an ``xs:key``/``xs:unique`` whose selector uses ``.//``: xmlschema
    then recurses without end over the recursive CDA content model (23 of the 24 published packs with
    such a selector), so its error lists are not asked for."""
    return any(_DESCENDANT_SELECTOR.search(f.read_bytes()) for f in path.parent.rglob("*.xsd"))


def _message_schema(path: Path) -> Any | None:
    """An ``xmlschema`` schema for full Xerces-like error lists (None when it cannot or should not load)."""
    if _descendant_identity_constraints(path):
        log.info("XSD messages for %s come from libxml2 (descendant-axis identity constraints)", path)
        return None
    try:
        import xmlschema

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return xmlschema.XMLSchema(str(path), allow="local", defuse="always", validation="lax")
    except Exception as exc:  # a pack xmlschema cannot read: lxml's messages still work
        log.warning("xmlschema cannot load %s (%s); XSD messages come from libxml2 only", path, exc)
        return None


def _sch_version(key: tuple[Path, str, Path | None]) -> object:
    return file_version(key[0])


def _schematron(key: tuple[Path, str, Path | None]) -> SchematronValidator:
    sch, mode, cache_dir = key
    return get_validator(sch, mode, cache_dir)


class ValidationCaches:
    """The prepared material of one Validator: one :class:`Prepared` per kind of material."""

    def __init__(self) -> None:
        #: packs dir -> its index (re-read when the folder or ``packs.json`` changes)
        self.pack_indexes: Prepared[Path, PackIndex] = Prepared(read_index, version=index_version)
        #: root XSD -> the schema lxml (or xmlschema) loaded
        self.pack_schemas: Prepared[Path, PackSchema] = Prepared(load_schema, version=file_version)
        #: root XSD -> an xmlschema schema for complete error lists, None when it cannot give them
        self.message_schemas: Prepared[Path, Any | None] = Prepared(_message_schema, version=file_version)
        #: root XSD -> the lock around its lxml schema (an XMLSchema keeps its error log: one at a time)
        self.schema_locks: Prepared[Path, threading.Lock] = Prepared(lambda _path: threading.Lock())
        #: (.sch, compilation mode, disk cache dir) -> the compiled validator
        self.schematrons: Prepared[tuple[Path, str, Path | None], SchematronValidator] = Prepared(
            _schematron, version=_sch_version)
        #: (.sch, kind) -> the header elements it requires
        self.requirements: Prepared[tuple[Path, str], PackRequirements] = Prepared(
            lambda key: parse_requirements(key[0], finding_text("source.pack_of_kind", kind=key[1], name=key[0].name)),
            version=lambda key: file_version(key[0]))
        #: PEM bundle -> its certificates (MOCK_REMD_TRUSTED_CA)
        self.ca_bundles: Prepared[Path, list[CertInfo]] = Prepared(read_bundle, version=file_version)
        #: a pack file as given -> its absolute, symlink-free path (realpath walks every component:
        #: about 2 % of a document's validation when asked three times per document)
        self._resolved: dict[Path, Path] = {}

    def resolved(self, path: Path | str) -> Path:
        """``Path(path).resolve()``, remembered: pack files are named by the same paths every document.

        A symlink re-pointed while the server runs is seen after a restart (a pack installed anew
        gets new files, whose versions :class:`Prepared` notices).
        """
        key = Path(path)
        found = self._resolved.get(key)
        if found is None:
            if len(self._resolved) >= _RESOLVED_MAX:
                self._resolved.clear()
            found = self._resolved[key] = key.resolve()
        return found

    def pack_index(self, packs_dir: Path | None) -> PackIndex:
        """The installed packs of ``packs_dir`` (an empty index for None)."""
        return self.pack_indexes.get(Path(packs_dir)) if packs_dir is not None else PackIndex()

    def select_pack(self, packs_dir: Path | None, kind: str,
                    template_roots: tuple[str, ...] | list[str] = ()) -> tuple[Pack, InstalledPack] | None:
        """The pack (and its index entry) to validate a document of ``kind`` with ``template_roots``."""
        if packs_dir is None or not kind:
            return None
        chosen = self.pack_index(packs_dir).select(kind, template_roots)
        return None if chosen is None else (chosen.pack(Path(packs_dir)), chosen)

    def installed_requirements(self, packs_dir: Path | None, kind: str,
                               template_roots: tuple[str, ...] = ()) -> PackRequirements | None:
        """What the edition of ``kind``'s installed pack that ``template_roots`` select requires of the
        header (parsed once per file version), None without such a pack."""
        selected = self.select_pack(packs_dir, kind, template_roots)
        if selected is None or selected[0].schematron is None:
            return None
        return self.requirements.get((self.resolved(selected[0].schematron), kind))

    def pack_schema(self, xsd: Path) -> PackSchema:
        """The loaded schema of a pack's root XSD (raises PackSchemaError; a failure is not kept)."""
        return self.pack_schemas.get(self.resolved(xsd))

    def schematron(self, sch: Path, mode: str = "optimised", cache_dir: Path | None = None) -> SchematronValidator:
        """The compiled validator of a ``.sch`` file (from the disk cache under ``cache_dir`` when there)."""
        return self.schematrons.get((self.resolved(sch), mode, cache_dir))
