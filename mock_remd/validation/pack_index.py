"""The installed-pack index (``<packs dir>/packs.json``) and the choice of a kind's edition.

``mock-remd packs import`` installs each pack as ``<packs dir>/<kind>/`` (the first edition of a kind)
or ``<packs dir>/<kind>_<n>/`` (further editions: the 1C validator's variant naming), and records it in
``packs.json``: kind, edition, the templateId roots the pack demands, files, content hash, example
self-check. Validation picks the edition whose templateIds include the document's templateId.

A packs directory without an index (the 1C ``data/`` folder used in place, ``shared/packs``) works
too: its ``<kind>`` and ``<kind>_<n>`` folders are read and their templateIds taken from the
Schematron (and the kind's XSD).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mock_remd.validation.cda.access import ChildIndex
from mock_remd.validation.pack_facts import schematron_template_ids, xsd_template_ids
from mock_remd.validation.packs import Pack, find_root_xsd, find_schematron

INDEX_FILE = "packs.json"
INDEX_FORMAT = "mock-remd-packs/1"
_FOLDER = re.compile(r"^(?P<kind>\d+)(?:_(?P<variant>\d+))?$")


@dataclass(frozen=True)
class InstalledPack:
    """One installed edition of a kind's pack."""

    kind: str
    edition: str
    directory: str
    template_ids: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    hash: str = ""
    xsd: str = ""
    schematron: str = ""
    example: dict[str, Any] | None = None
    source: str = ""
    installed_at: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def template_id(self) -> str:
        return self.template_ids[0] if self.template_ids else ""

    def as_dict(self) -> dict[str, Any]:
        """The index / admin API form (CONTRACT §6 ``GET /_admin/packs``)."""
        return {
            "kind": self.kind,
            "edition": self.edition,
            "template_id": self.template_id,
            "template_ids": list(self.template_ids),
            "directory": self.directory,
            "xsd": self.xsd,
            "schematron": self.schematron,
            "files": list(self.files),
            "hash": self.hash,
            "example": self.example,
            "source": self.source,
            "installed_at": self.installed_at,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InstalledPack:
        return cls(
            kind=str(data["kind"]), edition=str(data.get("edition", "")), directory=str(data["directory"]),
            template_ids=tuple(data.get("template_ids") or ([data["template_id"]] if data.get("template_id") else [])),
            files=tuple(data.get("files") or ()), hash=str(data.get("hash", "")), xsd=str(data.get("xsd", "")),
            schematron=str(data.get("schematron", "")), example=data.get("example"),
            source=str(data.get("source", "")), installed_at=str(data.get("installed_at", "")),
            warnings=tuple(data.get("warnings") or ()),
        )

    def pack(self, packs_dir: Path) -> Pack:
        """The :class:`~mock_remd.validation.packs.Pack` the layers load."""
        d = packs_dir / self.directory
        return Pack(
            kind=self.kind, directory=d, xsd=d / self.xsd if self.xsd else None,
            schematron=d / self.schematron if self.schematron else None,
        )


@dataclass
class PackIndex:
    """Every installed pack of one packs directory."""

    packs: list[InstalledPack] = field(default_factory=list)
    #: True when read from ``packs.json``; False when derived from the folders
    indexed: bool = False

    def for_kind(self, kind: str) -> list[InstalledPack]:
        return [p for p in self.packs if p.kind == kind]

    def kinds(self) -> set[str]:
        return {p.kind for p in self.packs}

    def select(self, kind: str, template_roots: tuple[str, ...] | list[str] = ()) -> InstalledPack | None:
        """The edition of ``kind`` whose templateIds include one of ``template_roots``; else the
        kind's first edition (the one installed as ``<kind>/``)."""
        editions = self.for_kind(kind)
        for root in template_roots:
            for p in editions:
                if root in p.template_ids:
                    return p
        primary = [p for p in editions if p.directory == kind]
        return (primary or editions or [None])[0]


def edition_of(template_ids: tuple[str, ...] | list[str]) -> str:
    """The edition a templateId names: ``…15.<1079>.<N>`` → N, ``…9.<N>[.<m>]`` → N[.m]; '' otherwise
    (generation A ``….3`` names a CDA level, not an edition)."""
    for tid in template_ids:
        m = re.fullmatch(r"1\.2\.643\.5\.1\.13\.13\.15\.\d+\.(\d+(?:\.\d+)?)", tid)
        m = m or re.search(r"\.9\.(\d+(?:\.\d+)?)$", tid)
        if m:
            return m.group(1)
    return ""


def read_index(packs_dir: Path) -> PackIndex:
    """``packs.json`` of ``packs_dir``, else the packs its ``<kind>[_n]`` folders hold."""
    path = packs_dir / INDEX_FILE
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return PackIndex([InstalledPack.from_dict(p) for p in data.get("packs", [])], indexed=True)
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged index: fall back to what the folders hold
    return PackIndex(scan_folders(packs_dir))


def scan_folders(packs_dir: Path) -> list[InstalledPack]:
    """Packs in the 1C validator's layout: ``<kind>/…xsd`` with ``<kind>.sch`` inside or beside it,
    variants ``<kind>_<n>`` (a folder, or only ``<kind>_<n>.sch`` beside ``<kind>/``)."""
    if not packs_dir.is_dir():
        return []
    out: list[InstalledPack] = []
    for entry in sorted(packs_dir.iterdir(), key=lambda p: p.name):
        m = _FOLDER.match(entry.stem if entry.suffix == ".sch" else entry.name)
        if m is None:
            continue
        kind, variant = m.group("kind"), m.group("variant")
        if entry.is_dir():
            folder = entry
            sch = find_schematron(folder, entry.name)
            if sch is None and (packs_dir / f"{entry.name}.sch").is_file():
                sch = packs_dir / f"{entry.name}.sch"
        elif entry.suffix == ".sch" and variant and not (packs_dir / entry.stem).is_dir():
            folder, sch = packs_dir / kind, entry
            if not folder.is_dir():
                continue
        else:
            continue
        xsd = find_root_xsd(folder)
        if xsd is None and sch is None:
            continue
        templates = schematron_template_ids(sch.read_bytes()) if sch is not None else ()
        if xsd is not None:
            templates = tuple(dict.fromkeys(templates + xsd_template_ids(xsd)))
        out.append(InstalledPack(
            kind=kind, edition=edition_of(templates) + (f"-{variant}" if variant else ""), directory=folder.name,
            template_ids=templates, xsd=str(xsd.relative_to(folder)) if xsd else "",
            schematron=str(sch.relative_to(folder)) if sch is not None and sch.is_relative_to(folder) else
            (f"../{sch.name}" if sch is not None else ""),
        ))
    return out


def index_version(packs_dir: Path) -> object:
    """What changes when packs are installed into ``packs_dir``: the folder's and its index's mtimes."""
    try:
        index = packs_dir / INDEX_FILE
        return (packs_dir.stat().st_mtime_ns, index.stat().st_mtime_ns if index.exists() else None)
    except FileNotFoundError:
        return None


def installed_packs(packs_dir: Path | None) -> PackIndex:
    """The pack index of ``packs_dir``, read now (validation keeps it in its
    :class:`~mock_remd.validation.caches.ValidationCaches`)."""
    if packs_dir is None or index_version(Path(packs_dir)) is None:
        return PackIndex()
    return read_index(Path(packs_dir))


def document_template_roots(root: Any, index: ChildIndex | None = None) -> tuple[str, ...]:
    """``ClinicalDocument/templateId/@root`` values of a parsed document (namespaced or not);
    ``index``: the document's children as its other readers have read them."""
    if root is None:
        return ()
    if index is not None:
        found = index.tagged(root, "{urn:hl7-org:v3}templateId") or index.tagged(root, "templateId")
    else:
        found = root.findall("{urn:hl7-org:v3}templateId") or root.findall("templateId")
    return tuple(t.get("root") or "" for t in found if t.get("root"))


def select_pack(
    packs_dir: Path | None, kind: str, template_roots: tuple[str, ...] | list[str] = ()
) -> tuple[Pack, InstalledPack] | None:
    """The pack (and its index entry) to validate a document of ``kind`` with ``template_roots``."""
    if packs_dir is None or not kind:
        return None
    chosen = installed_packs(packs_dir).select(kind, template_roots)
    if chosen is None:
        return None
    return chosen.pack(Path(packs_dir)), chosen
