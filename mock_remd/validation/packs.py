"""Official validation packs on disk: ``<packs dir>/<kind>/*.xsd`` and ``<packs dir>/<kind>/*.sch``.

Finds the root XSD of a pack (``CDA.xsd``, else the schema declaring a global ``ClinicalDocument``
that no other file includes) and loads it with lxml. The official XSDs write ``schemaLocation``
with Windows backslashes (``coreschemas\\datatypes.xsd``); a resolver maps those to the real files,
so the pack directory is read in place and never modified.

Where libxml2 refuses a pack the registry's Java validator accepts, the pack is loaded again with its
zero-occurrence particles removed (an equivalent schema by the XSD recommendation), and failing that
handed to ``xmlschema``; :class:`PackSchema` records which validator runs and why.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lxml import etree

log = logging.getLogger(__name__)

XS = "http://www.w3.org/2001/XMLSchema"
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


ZERO_OCCURRENCE_NOTE = (
    "particles with minOccurs=maxOccurs=0 removed at load time (XSD 1.0 Structures §3.3.2, §3.8.2, §3.9.2: "
    "such a particle corresponds to no schema component, which is how Xerces reads it)"
)
_PARTICLES = frozenset(f"{{{XS}}}{name}" for name in ("element", "any", "group", "sequence", "choice", "all"))


def drop_zero_occurrence_particles(data: bytes) -> tuple[bytes, int]:
    """XSD bytes without the particles that may occur zero times at most; returns the count removed.

    The XSD 1.0 recommendation says an ``xs:element`` / ``xs:any`` / model group written with
    ``minOccurs="0" maxOccurs="0"`` "corresponds to no component at all", so removing it leaves the
    schema's components, and hence the set of valid documents, unchanged. libxml2 instead keeps such
    a particle in the content model and may then find the model non-deterministic (kind 106's
    ``PQR`` extends ``CV`` with ``originalText{0,0}``).
    """
    doc = etree.fromstring(data, _safe_parser())
    dropped = 0
    for el in list(doc.iter(*_PARTICLES)):
        if el.get("maxOccurs", "").strip() == "0" and el.get("minOccurs", "").strip() == "0":
            parent = el.getparent()
            if parent is None:
                continue
            _remove_keeping_tail(el)
            dropped += 1
    if not dropped:
        return data, 0
    return etree.tostring(doc, xml_declaration=True, encoding="UTF-8"), dropped


def _remove_keeping_tail(el: etree._Element) -> None:
    parent = el.getparent()
    prev = el.getprevious()
    if el.tail:
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, collect_ids=False)


class BackslashResolver(etree.Resolver):
    """Serves the pack's XSD files with ``schemaLocation`` backslashes rewritten (in memory only).

    libxml2 cannot even build a URI from ``coreschemas\\datatypes.xsd``, so every file of the pack is
    handed over rewritten; nothing outside the pack directory is served. With ``normalise`` each
    file also loses its zero-occurrence particles (:func:`drop_zero_occurrence_particles`).
    """

    def __init__(self, root: Path, normalise: bool = False) -> None:
        super().__init__()
        self.root = root.resolve()
        self.normalise = normalise
        self.dropped = 0

    def prepare(self, data: bytes) -> bytes:
        """One schema document's bytes as handed to libxml2."""
        data = rewrite_locations(data)
        if self.normalise:
            data, dropped = drop_zero_occurrence_particles(data)
            self.dropped += dropped
        return data

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
        return self.resolve_string(self.prepare(path.read_bytes()), context, base_url=str(path))


class PackSchemaError(Exception):
    """No validator could load a pack's XSD; :attr:`detail` is what each engine answered (their own words:
    for ``--verbose`` and the log only)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class PackSchema:
    """A pack's root XSD, loaded by the first validator able to compile it.

    ``engine`` is ``lxml`` (libxml2) or ``xmlschema``; ``refused`` holds libxml2's complaint about the
    pack as published when it had to be normalised or handed to xmlschema; ``normalised`` says which
    load-time rewrite made libxml2 accept it.
    """

    path: Path
    engine: str
    lxml: etree.XMLSchema | None = None
    xmlschema: Any = None
    refused: str = ""
    normalised: str = ""

    def describe(self) -> dict[str, Any]:
        """How the schema was loaded, for a layer report's details."""
        out: dict[str, Any] = {"engine": self.engine}
        if self.refused:
            out["libxml2_refused"] = self.refused
        if self.normalised:
            out["normalised"] = self.normalised
        return out


def compile_lxml(path: Path, normalise: bool = False) -> tuple[etree.XMLSchema, int]:
    """A fresh lxml schema for a root XSD (not cached); with ``normalise`` the zero-occurrence
    particles are removed first. Returns the schema and how many particles were removed."""
    resolver = BackslashResolver(path.parent, normalise=normalise)
    parser = _safe_parser()
    parser.resolvers.add(resolver)
    doc = etree.fromstring(resolver.prepare(path.read_bytes()), parser, base_url=str(path)).getroottree()
    return etree.XMLSchema(doc), resolver.dropped


def _xmlschema_schema(path: Path) -> Any:
    import xmlschema

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # lax: the HL7 coreschemas carry schema markup inside xs:documentation, which a strict
        # meta-schema check refuses and Xerces ignores
        return xmlschema.XMLSchema(str(path), allow="local", defuse="always", validation="lax")


def _complaint(exc: etree.LxmlError, pack_dir: Path) -> str:
    """libxml2's own words about a pack's schema (its last error-log entry: a description of the published
    XSD, kept as the pack's diagnosis), naming the file within the pack, never an absolute path."""
    entry = exc.error_log.last_error
    if entry is None:
        return "libxml2 refused the schema"
    try:
        where = Path(entry.filename).resolve().relative_to(pack_dir.resolve()).as_posix()
    except (TypeError, ValueError, OSError):
        where = Path(entry.filename or "").name
    return f"{entry.message} ({where}, line {entry.line})" if where else f"{entry.message} (line {entry.line})"


def _load(path: Path) -> PackSchema:
    try:
        return PackSchema(path, "lxml", lxml=compile_lxml(path, normalise=False)[0])
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        refused = _complaint(exc, path.parent)
    try:
        schema, dropped = compile_lxml(path, normalise=True)
        if dropped:
            log.info("libxml2 refused %s (%s); loaded without %d zero-occurrence particles", path, refused, dropped)
            return PackSchema(path, "lxml", lxml=schema, refused=refused, normalised=f"{ZERO_OCCURRENCE_NOTE}: {dropped}")
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError):
        pass
    try:
        full = _xmlschema_schema(path)
    except Exception as exc:  # xmlschema raises many types; any of them means "cannot load"
        raise PackSchemaError(f"libxml2: {refused}; xmlschema: {type(exc).__name__}") from exc
    log.info("libxml2 refused %s (%s); documents of this pack are validated with xmlschema", path, refused)
    return PackSchema(path, "xmlschema", xmlschema=full, refused=refused)


def load_schema(path: Path) -> PackSchema:
    """The schema for a pack's root XSD, loaded now (validation keeps it in its
    :class:`~mock_remd.validation.caches.ValidationCaches`, reloaded when the file changes).

    Tried in order: lxml on the pack as published; lxml on the pack with zero-occurrence particles
    removed (equivalent by the XSD recommendation); xmlschema. Raises :class:`PackSchemaError` when
    none of them can load it.
    """
    return _load(Path(path).resolve())
