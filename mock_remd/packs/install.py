"""Installing official packs as users get them (CONTRACT §8 ``mock-remd packs import``).

Accepted shapes:

* the portal's package of a kind's edition, as a ZIP or unpacked: any folder depth, Cyrillic and
  space-containing names, the kind's own XSD set beside a generic "XSD CDA" set, the Schematron, XSL,
  PDF/DOCX guides and an example document;
* a folder of one pack;
* the 1C validator's ``data/`` layout: ``<kind>/…xsd`` with ``<kind>.sch`` inside or beside it,
  variants ``<kind>_<n>`` (or a ZIP of the repository holding it).

For each pack the installer finds the Schematron and the kind's root XSD (the schema declaring
``ClinicalDocument`` whose fixed templateId matches the Schematron's, never the generic CDA set when
the kind's own is there), tells the kind (1C folder name, else the templateId in the kind catalog),
checks that every file parses, the XSD loads and the Schematron compiles, copies the XSD closure,
the Schematron and the example into ``<packs dir>/<kind>[_<n>]/`` and records it in ``packs.json``.
A shipped example document is validated against the pack; findings become a warning.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from lxml import etree

from mock_remd.catalog.kinds import KindRegistry
from mock_remd.catalog.user_messages import Text, say, text, xml_refusal, xml_syntax
from mock_remd.validation.pack_facts import schematron_template_ids, xsd_template_ids
from mock_remd.validation.pack_index import (
    INDEX_FILE,
    INDEX_FORMAT,
    InstalledPack,
    edition_of,
    read_index,
)
from mock_remd.validation.packs import normalise_location
from mock_remd.xmlsafe import UnsafeXmlError, XmlTooLargeError, parse_bytes

log = logging.getLogger(__name__)

_GLOBAL_CD = re.compile(rb"""<xs(?:d)?:element\s+name\s*=\s*["']ClinicalDocument["']""")
_LOCATION = re.compile(rb"""schemaLocation\s*=\s*["']([^"']+)["']""")
_KIND_FOLDER = re.compile(r"^(?P<kind>\d+)(?:_(?P<variant>\d+))?$")
_GENERIC_SET = re.compile(r"^xsd[\s_-]*cda$", re.IGNORECASE)
#: a ZIP may not unpack to more than this (zip bombs), nor hold more files
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
MAX_FILES = 20000
_install_lock = threading.Lock()


class PackError(ValueError):
    """A pack cannot be installed: a catalogue message (``pack.*``) naming the file and why.

    A value may be a function of the language (a syntax problem described in it); ``detail`` holds
    engine wording for ``--verbose`` only; ``str()`` is English.
    """

    def __init__(self, key: str, /, detail: str = "", **values: object) -> None:
        self.key, self.values, self.detail = key, values, detail
        super().__init__(self.text("en"))

    def text(self, lang: str) -> str:
        """The sentence in ``lang``."""
        return say(lang, self.key, **{k: v(lang) if callable(v) else v for k, v in self.values.items()})


@dataclass(frozen=True)
class Warning_:
    """A warning about an installed pack: a catalogue message, rendered in the reader's language."""

    message: Text
    detail: str = ""

    def text(self, lang: str) -> str:
        """The sentence in ``lang``."""
        return self.message.render(lang)


@dataclass
class Candidate:
    """One pack found in the input, before checks."""

    folder: Path
    schematron: Path | None
    xsd: Path | None
    kind: str = ""
    variant: str = ""
    example: Path | None = None
    documents: list[str] = field(default_factory=list)
    label: str = ""


@dataclass
class Outcome:
    """What happened to one pack of the input."""

    label: str
    pack: InstalledPack | None = None
    error: PackError | None = None
    warnings: list[Warning_] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.pack is not None


# ---- unpacking ---------------------------------------------------------------------------------
def unpack_zip(archive: Path, target: Path) -> Path:
    """Extract ``archive`` into ``target`` safely (no paths outside it, bounded size); returns ``target``.

    Names written by Windows tools in CP866 are decoded as such (the ZIP's UTF-8 flag unset).
    """
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackError("pack.zip_unreadable", archive=archive) from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_FILES:
            raise PackError("pack.zip_too_many", archive=archive, n=len(infos), limit=MAX_FILES)
        if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
            raise PackError("pack.zip_too_big", archive=archive, mb=MAX_UNPACKED_BYTES // 2**20)
        root = target.resolve()
        for info in infos:
            name = info.filename
            if not info.flag_bits & 0x800:
                try:
                    name = name.encode("cp437").decode("cp866")
                except (UnicodeEncodeError, UnicodeDecodeError):
                    pass
            name = name.replace("\\", "/")
            dest = (root / name).resolve()
            if not dest.is_relative_to(root):
                raise PackError("pack.zip_outside", archive=archive, entry=repr(info.filename))
            if info.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
    return target


# ---- discovery ---------------------------------------------------------------------------------
def _files(folder: Path, suffix: str) -> list[Path]:
    return sorted(p for p in folder.rglob(f"*{suffix}") if p.is_file() and p.suffix.lower() == suffix)


def _is_1c_layout(folder: Path) -> bool:
    kinds = [p for p in folder.iterdir() if _KIND_FOLDER.match(p.stem if p.suffix == ".sch" else p.name)]
    return bool(kinds) and any(p.is_dir() for p in kinds)


def _find_1c_root(folder: Path) -> Path | None:
    """The folder holding ``<kind>/`` pack folders (``data/`` of the 1C repository), at any depth ≤ 3."""
    queue = [(folder, 0)]
    while queue:
        current, depth = queue.pop(0)
        if _is_1c_layout(current):
            return current
        if depth < 3:
            queue.extend((p, depth + 1) for p in sorted(current.iterdir()) if p.is_dir())
    return None


def discover(folder: Path) -> list[Candidate]:
    """The packs under ``folder`` (1C layout: one per ``<kind>[_n]``; otherwise one pack)."""
    if folder.is_dir() and _KIND_FOLDER.match(folder.name) and (
        _files(folder, ".sch") or (folder.parent / f"{folder.name}.sch").is_file()
    ):
        return [_one_c_candidate(folder.parent, folder.name, folder)]  # one pack folder of the 1C layout
    one_c = _find_1c_root(folder)
    if one_c is not None:
        out = []
        for entry in sorted(one_c.iterdir(), key=lambda p: p.name):
            name = entry.stem if entry.suffix == ".sch" else entry.name
            if not _KIND_FOLDER.match(name):
                continue
            if entry.is_dir():
                out.append(_one_c_candidate(one_c, name, entry))
            elif entry.suffix == ".sch" and not (one_c / name).is_dir():
                base = one_c / _KIND_FOLDER.match(name).group("kind")  # type: ignore[union-attr]
                if base.is_dir():
                    out.append(_one_c_candidate(one_c, name, base, sch=entry))
        if out:
            return out
    return [_portal_candidate(folder)]


def _one_c_candidate(root: Path, name: str, folder: Path, sch: Path | None = None) -> Candidate:
    m = _KIND_FOLDER.match(name)
    assert m is not None
    if sch is None:
        inside = [p for p in _files(folder, ".sch")]
        beside = root / f"{name}.sch"
        sch = next((p for p in inside if p.stem == name), inside[0] if inside else None)
        if sch is None and beside.is_file():
            sch = beside
    xsd = choose_root_xsd(folder, schematron_template_ids(sch.read_bytes()) if sch else ())
    return Candidate(folder=folder, schematron=sch, xsd=xsd, kind=m.group("kind"), variant=m.group("variant") or "",
                     example=_find_example(folder), label=name)


def _portal_candidate(folder: Path) -> Candidate:
    schs = _files(folder, ".sch")
    sch = None
    if schs:
        # the Schematron asserting a templateId (the kind's own) wins over helper modules
        sch = next((p for p in schs if schematron_template_ids(p.read_bytes())), max(schs, key=lambda p: p.stat().st_size))
    templates = schematron_template_ids(sch.read_bytes()) if sch else ()
    docs = [str(p.relative_to(folder)) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.suffix.lower() in (".pdf", ".docx", ".doc", ".xsl", ".html")]
    return Candidate(folder=folder, schematron=sch, xsd=choose_root_xsd(folder, templates),
                     example=_find_example(folder), documents=docs, label=folder.name)


def _declares_document(path: Path) -> bool:
    try:
        return bool(_GLOBAL_CD.search(path.read_bytes()))
    except OSError:
        return False


def choose_root_xsd(folder: Path, templates: tuple[str, ...]) -> Path | None:
    """The kind's root XSD under ``folder``: declares ``ClinicalDocument``, is not included by another
    file of its set, and — when several sets lie side by side — fixes the templateId the Schematron
    asserts, else any templateId, else is not the generic "XSD CDA" set."""
    candidates = [p for p in _files(folder, ".xsd") if _declares_document(p)]
    if not candidates:
        return None
    referenced: set[Path] = set()
    for path in _files(folder, ".xsd"):
        for loc in _LOCATION.findall(path.read_bytes()):
            referenced.add((path.parent / normalise_location(loc.decode("utf-8", "replace"))).resolve())
    roots = [p for p in candidates if p.resolve() not in referenced] or candidates

    def score(p: Path) -> tuple[int, int, int, int, int]:
        fixed = xsd_template_ids(p)
        generic = any(_GENERIC_SET.match(part) for part in p.relative_to(folder).parts[:-1])
        return (
            1 if set(fixed) & set(templates) else 0,
            1 if fixed else 0,
            0 if generic else 1,
            1 if p.name == "CDA.xsd" else 0,
            -len(p.relative_to(folder).parts),
        )

    return max(roots, key=score)


def _find_example(folder: Path) -> Path | None:
    found = []
    for p in _files(folder, ".xml"):
        try:
            head = p.read_bytes()[:4096]
        except OSError:
            continue
        if b"ClinicalDocument" in head and b"urn:hl7-org:v3" in head:
            found.append(p)
    found.sort(key=lambda p: (not re.search(r"пример|example|sample", p.name, re.IGNORECASE), len(p.parts), p.name))
    return found[0] if found else None


# ---- checks ------------------------------------------------------------------------------------
def xsd_closure(root_xsd: Path) -> list[Path]:
    """The root XSD and every file it includes or imports (transitively), inside its folder."""
    base = root_xsd.parent.resolve()
    seen: list[Path] = []
    todo = [root_xsd.resolve()]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        if not path.is_relative_to(base):
            raise PackError("pack.xsd_outside", xsd=root_xsd, path=path)
        if not path.is_file():
            raise PackError("pack.xsd_missing", xsd=root_xsd, path=path.relative_to(base))
        seen.append(path)
        for loc in _LOCATION.findall(path.read_bytes()):
            location = normalise_location(loc.decode("utf-8", "replace"))
            if re.match(r"^[a-z]+:", location, re.IGNORECASE):
                continue  # absolute URLs are never fetched (the layers do not either)
            todo.append((path.parent / location).resolve())
    return seen


def _check_xml(path: Path) -> None:
    try:
        parse_bytes(path.read_bytes())
    except (etree.XMLSyntaxError, UnsafeXmlError, XmlTooLargeError) as exc:
        # the syntax problem in the language of the sentence around it
        if isinstance(exc, etree.XMLSyntaxError):
            why = functools.partial(_syntax_in, exc)
        else:
            why = functools.partial(xml_refusal, exc=exc)
        raise PackError("pack.not_xml", file=_show(path), why=why) from exc


def _syntax_in(exc: etree.XMLSyntaxError, lang: str) -> str:
    return xml_syntax(lang, exc)


def _check_xsd(root_xsd: Path) -> Warning_ | None:
    """Load the schema as the xsd layer does; None when libxml2 loads it, else a note of how it is used
    (libxml2 after a fix-up, or xmlschema). Raises :class:`PackError` when no engine can."""
    from mock_remd.validation.packs import PackSchemaError, load_schema

    try:
        schema = load_schema(root_xsd)
    except PackSchemaError as exc:
        raise PackError("pack.xsd_no_load", detail=exc.detail, xsd=_show(root_xsd)) from exc
    if not schema.refused:
        return None
    return Warning_(text("pack.xsd_refused", xsd=_show(root_xsd), engine=schema.engine), detail=schema.refused)


def _show(path: Path) -> str:
    """A file as users recognise it: its pack folder and name."""
    return f"{path.parent.name}/{path.name}"


def _check_schematron(sch: Path, cache_dir: Path | None) -> None:
    from mock_remd.validation.schematron.model import SchematronError
    from mock_remd.validation.schematron.runner import get_validator

    try:
        get_validator(sch, "optimised", cache_dir)
    except SchematronError as exc:
        raise PackError("pack.sch_no_compile", detail=exc.detail, sch=_show(sch)) from exc


def _content_hash(files: Iterable[tuple[str, Path]]) -> str:
    h = hashlib.sha256()
    for rel, path in sorted(files):
        h.update(rel.encode("utf-8") + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


# ---- installing --------------------------------------------------------------------------------
def _tell_kind(c: Candidate, templates: tuple[str, ...], kinds: KindRegistry, forced: str) -> str:
    if forced:
        return forced
    if c.kind:
        return c.kind
    for t in templates:
        kind = kinds.by_template(t)
        if kind is not None:
            return kind.id
    m = re.search(r"(?<!\d)(\d{1,3})(?!\d)", c.folder.name)
    if m and kinds.get(m.group(1)) is not None and not templates:
        return m.group(1)
    raise PackError("pack.no_kind", file=c.schematron.name if c.schematron else c.label,
                    templates=", ".join(templates) or "—", version=kinds.version)


def _directory_for(index: list[InstalledPack], kind: str, edition: str, variant: str) -> str:
    for p in index:
        if p.kind == kind and p.edition == edition:
            return p.directory  # the same edition again: replaced in place
    used = {p.directory for p in index}
    if variant and f"{kind}_{variant}" not in used:
        return f"{kind}_{variant}"
    if kind not in used:
        return kind
    n = 1
    while f"{kind}_{n}" in used:
        n += 1
    return f"{kind}_{n}"


def install_candidate(
    c: Candidate, packs_dir: Path, kinds: KindRegistry, *, forced_kind: str = "", source: str = "",
    cache_dir: Path | None = None, check_example: bool = True,
) -> Outcome:
    """Check one pack and install it into ``packs_dir`` (refusals come back as ``Outcome.error``)."""
    out = Outcome(c.label or c.folder.name)
    try:
        if c.schematron is None and c.xsd is None:
            raise PackError("pack.nothing", label=c.label)
        if c.xsd is None:
            out.warnings.append(Warning_(text("pack.only_sch", label=c.label)))
        if c.schematron is None:
            out.warnings.append(Warning_(text("pack.only_xsd", label=c.label)))
        closure = xsd_closure(c.xsd) if c.xsd is not None else []
        for path in closure + ([c.schematron] if c.schematron else []):
            _check_xml(path)
        templates = schematron_template_ids(c.schematron.read_bytes()) if c.schematron else ()
        if c.xsd is not None:
            templates = tuple(dict.fromkeys(templates + xsd_template_ids(c.xsd)))
        kind = _tell_kind(c, templates, kinds, forced_kind)
        if kinds.get(kind) is None:
            out.warnings.append(Warning_(text("pack.kind_not_in_nsi", kind=kind, version=kinds.version)))
        if c.xsd is not None:
            warning = _check_xsd(c.xsd)
            if warning is not None:
                out.warnings.append(warning)
        if c.schematron is not None:
            _check_schematron(c.schematron, cache_dir)
        edition = edition_of(templates) or (kinds.get(kind).edition if kinds.get(kind) else "") or "1"
        if c.variant:
            edition += f"-{c.variant}"
        files: list[tuple[str, Path]] = []
        if c.xsd is not None:
            base = c.xsd.parent.resolve()
            files.extend((str(p.relative_to(base)), p) for p in closure)
        if c.schematron is not None:
            files.append((f"{kind}.sch", c.schematron))
        if c.example is not None:
            files.append(("example.xml", c.example))
        content_hash = _content_hash(files)
        with _install_lock:
            packs_dir.mkdir(parents=True, exist_ok=True)
            index = read_index(packs_dir).packs if (packs_dir / INDEX_FILE).is_file() else []
            directory = _directory_for(index, kind, edition, c.variant)
            staging = Path(tempfile.mkdtemp(prefix=".installing-", dir=packs_dir))
            try:
                for rel, path in files:
                    dest = staging / rel
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, dest)
                final = packs_dir / directory
                if final.exists():
                    shutil.rmtree(final)
                os.replace(staging, final)
            finally:
                if staging.exists():
                    shutil.rmtree(staging, ignore_errors=True)
            pack = InstalledPack(
                kind=kind, edition=edition, directory=directory, template_ids=templates,
                files=tuple(rel for rel, _ in files), hash=content_hash,
                xsd=str(c.xsd.relative_to(c.xsd.parent)) if c.xsd is not None else "",
                schematron=f"{kind}.sch" if c.schematron is not None else "",
                example={"file": "example.xml", "source": c.example.name} if c.example is not None else None,
                source=source or str(c.folder),
                installed_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                warnings=tuple(w.text("en") for w in out.warnings),
            )
            if c.example is not None and check_example:
                pack = replace(pack, example=_self_check(pack, packs_dir, c.example, cache_dir, out))
                pack = replace(pack, warnings=tuple(w.text("en") for w in out.warnings))
            index = [p for p in index if p.directory != directory] + [pack]
            write_index(packs_dir, index)
        out.pack = pack
    except PackError as exc:
        out.error = exc
    except OSError as exc:
        out.error = PackError("pack.io", detail=exc.strerror or "", label=c.label, file=exc.filename or "?")
    return out


def _self_check(pack: InstalledPack, packs_dir: Path, example: Path, cache_dir: Path | None, out: Outcome) -> dict:
    """Validate the shipped example against the pack (xml, xsd, schematron); a warning names findings."""
    from mock_remd.validation.context import ValidationSettings
    from mock_remd.validation.pipeline import Validator

    settings = ValidationSettings(
        layers=frozenset({"xml", "xsd", "schematron"}), packs_dir=packs_dir,
        options={"schematron_cache_dir": cache_dir},
    )
    report = Validator(settings).validate(example.read_bytes(), kind=pack.kind)
    findings = [f"{f.code}: {f.message}" for layer in report.layers for f in layer.findings if f.severity == "error"]
    ran = [layer.name for layer in report.layers if layer.ran]
    result = {"file": "example.xml", "source": example.name, "passed": not findings, "layers": ran,
              "findings": findings[:20]}
    if findings:
        more = text("pack.and_more", n=len(findings) - 3) if len(findings) > 3 else ""
        out.warnings.append(Warning_(text("pack.example_fails", file=example.name, shown="; ".join(findings[:3]),
                                          more=more)))
    return result


def write_index(packs_dir: Path, packs: list[InstalledPack]) -> None:
    """Write ``packs.json`` atomically."""
    data = {"format": INDEX_FORMAT, "packs": [p.as_dict() for p in sorted(packs, key=lambda p: (_num(p.kind), p.directory))]}
    tmp = packs_dir / (INDEX_FILE + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, packs_dir / INDEX_FILE)


def _num(kind: str) -> int:
    return int(kind) if kind.isdigit() else 0


def install_path(
    path: Path, packs_dir: Path, kinds: KindRegistry, *, forced_kind: str = "", only: set[str] | None = None,
    cache_dir: Path | None = None, check_example: bool = True, source: str = "",
) -> list[Outcome]:
    """Install every pack found at ``path`` (ZIP or folder); ``only`` limits 1C layouts to those kinds."""
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise PackError("pack.not_folder_or_zip", path=path)
        with tempfile.TemporaryDirectory(prefix="mock-remd-pack-") as tmp:
            folder = unpack_zip(path, Path(tmp))
            return install_path(folder, packs_dir, kinds, forced_kind=forced_kind, only=only,
                                cache_dir=cache_dir, check_example=check_example, source=source or str(path))
    if not path.is_dir():
        raise PackError("pack.no_such", path=path)
    candidates = discover(path)
    if only:
        candidates = [c for c in candidates if c.kind in only or c.label in only]
    return [
        install_candidate(c, packs_dir, kinds, forced_kind=forced_kind, source=source or str(c.folder),
                          cache_dir=cache_dir, check_example=check_example)
        for c in candidates
    ]
