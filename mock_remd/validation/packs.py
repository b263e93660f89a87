"""Official validation packs on disk: ``<packs dir>/<kind>/*.xsd`` and ``<packs dir>/<kind>/*.sch``.

Finds the root XSD of a pack (``CDA.xsd``, else the schema declaring a global ``ClinicalDocument``
that no other file includes) and loads it with lxml. The official XSDs write ``schemaLocation``
with Windows backslashes (``coreschemas\\datatypes.xsd``); a resolver maps those to the real files,
so the pack directory is read in place and never modified.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from lxml import etree

ROOT_XSD_NAMES = ("CDA.xsd",)
_GLOBAL_CLINICAL_DOCUMENT = re.compile(rb"""<xs(?:d)?:element\s+name\s*=\s*["']ClinicalDocument["']""")
_LOCATION = re.compile(rb"""schemaLocation\s*=\s*["']([^"']+)["']""")


@dataclass(frozen=True)
class Pack:
    """One kind's official material."""

    kind: str
    directory: Path
    xsd: Path | None
    schematron: Path | None


def pack_dir(packs_dir: Path | None, kind: str) -> Path | None:
    """``<packs_dir>/<kind>`` when it exists (the kind id must be a plain name, never a path)."""
    if packs_dir is None or not kind or not re.fullmatch(r"[A-Za-z0-9._-]+", kind) or kind in (".", ".."):
        return None
    d = Path(packs_dir) / kind
    return d if d.is_dir() else None


def find_root_xsd(directory: Path) -> Path | None:
    """The XSD to load for a pack: ``CDA.xsd`` if present, else the one declaring ``ClinicalDocument``
    that no other XSD of the pack includes or imports."""
    for name in ROOT_XSD_NAMES:
        if (directory / name).is_file():
            return directory / name
    candidates = sorted(directory.glob("*.xsd"))
    referenced: set[str] = set()
    declaring: list[Path] = []
    for path in candidates:
        data = path.read_bytes()
        referenced.update(
            normalise_location(m.decode("utf-8", "replace")).rsplit("/", 1)[-1]
            for m in _LOCATION.findall(data)
        )
        if _GLOBAL_CLINICAL_DOCUMENT.search(data):
            declaring.append(path)
    roots = [p for p in declaring if p.name not in referenced] or declaring
    return roots[0] if roots else None


def find_schematron(directory: Path, kind: str) -> Path | None:
    """``<kind>.sch`` if present, else the only ``.sch`` of the pack (first by name if several)."""
    preferred = directory / f"{kind}.sch"
    if preferred.is_file():
        return preferred
    found = sorted(directory.glob("*.sch"))
    return found[0] if found else None


def find_pack(packs_dir: Path | None, kind: str) -> Pack | None:
    """The pack for ``kind`` under ``packs_dir``, or None when there is no such directory."""
    d = pack_dir(packs_dir, kind)
    if d is None:
        return None
    return Pack(kind=kind, directory=d, xsd=find_root_xsd(d), schematron=find_schematron(d, kind))


def list_packs(packs_dir: Path | None) -> list[Pack]:
    """Every pack under ``packs_dir`` (sorted by kind)."""
    if packs_dir is None or not Path(packs_dir).is_dir():
        return []
    packs = []
    for d in sorted(Path(packs_dir).iterdir()):
        pack = find_pack(packs_dir, d.name) if d.is_dir() else None
        if pack is not None and (pack.xsd or pack.schematron):
            packs.append(pack)
    return packs


def normalise_location(location: str) -> str:
    """``coreschemas\\datatypes.xsd`` (or its %5C-escaped form) → ``coreschemas/datatypes.xsd``."""
    return location.replace("%5C", "/").replace("%5c", "/").replace("\\", "/")


def rewrite_locations(data: bytes) -> bytes:
    """XSD bytes with every ``schemaLocation`` value normalised (backslashes → slashes)."""
    return _LOCATION_ATTR.sub(lambda m: m.group(1) + m.group(2).replace(b"\\", b"/") + m.group(3), data)


_LOCATION_ATTR = re.compile(rb"""(schemaLocation\s*=\s*["'])([^"']*)(["'])""")


class BackslashResolver(etree.Resolver):
    """Serves the pack's XSD files with ``schemaLocation`` backslashes rewritten (in memory only).

    libxml2 cannot even build a URI from ``coreschemas\\datatypes.xsd``, so every file of the pack is
    handed over rewritten; nothing outside the pack directory is served.
    """

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root.resolve()

    def resolve(self, url, pubid, context):  # noqa: ANN001, ANN201 - lxml's signature
        if not url:
            return None
        fixed = normalise_location(url)
        path = Path(unquote(urlparse(fixed).path)) if fixed.startswith("file:") else Path(fixed)
        if not path.is_absolute():
            path = self.root / path
        path = path.resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None  # never read outside the pack: libxml2 then fails the load (no network either)
        return self.resolve_string(rewrite_locations(path.read_bytes()), context, base_url=str(path))


def _schema_parser(directory: Path) -> etree.XMLParser:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, collect_ids=False)
    parser.resolvers.add(BackslashResolver(directory))
    return parser


_schemas: dict[Path, tuple[float, etree.XMLSchema]] = {}
_schemas_lock = threading.Lock()


def load_xsd(path: Path) -> etree.XMLSchema:
    """The lxml schema for a root XSD, loaded once per process (reloaded if the file changes).

    Raises ``lxml.etree.XMLSchemaParseError`` / ``XMLSyntaxError`` for a broken pack.
    """
    path = path.resolve()
    mtime = path.stat().st_mtime
    with _schemas_lock:
        held = _schemas.get(path)
        if held is not None and held[0] == mtime:
            return held[1]
        parser = _schema_parser(path.parent)
        doc = etree.fromstring(rewrite_locations(path.read_bytes()), parser, base_url=str(path)).getroottree()
        schema = etree.XMLSchema(doc)
        _schemas[path] = (mtime, schema)
        return schema
