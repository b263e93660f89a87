"""The kind catalog: NSI 1.2.643.5.1.13.13.11.1520 "Электронные медицинские документы".

Built in: every row of the newest NSI 1520 export (``kinds_1520.json``, generated once from the FNSI
export by ``scripts/make_kind_catalog.py``: 1522 type, edition, patient-info rule, organisation
signature, format, series, validity dates, implementation guide, GIT_LINK, and the ``templateId/@root``
the kind's official Schematron asserts). The templateId families of the three generations (semd.md
§1.2) are derived per kind. ``import_nsi_1520`` reads an FNSI export (TSV/CSV rows); a
:class:`KindRegistry` with a :class:`CatalogSource` attached re-reads a newer export while running.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from mock_remd.catalog.incidents import safe_text

PATIENT_INFO_WITH_SNILS = "Обязательны с указанием СНИЛС"
PATIENT_INFO_REQUIRED = "Обязательны"
PATIENT_INFO_OPTIONAL = "Не обязательны"

FORMAT_CDA = "2"
FORMAT_PDF = "1"


@dataclass(frozen=True)
class Kind:
    """One kind (+edition) of electronic medical document."""

    id: str
    type_1522: str
    edition: str
    name: str
    patient_info: str = PATIENT_INFO_WITH_SNILS
    mo_sign: bool = True
    format: str = FORMAT_CDA
    series_required: bool = False
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    git_link: str = ""
    #: templateId/@root values the document may carry for this kind (first = the asserted one).
    template_ids: tuple[str, ...] = field(default_factory=tuple)
    #: portal page of the implementation guide (NSI 1520 IMPLEMENTATION_GUIDE)
    implementation_guide: str = ""
    #: NSI 1522 name of :attr:`type_1522`
    type_name: str = ""
    #: NSI 99.2.1079 id ("Виды СЭМД") from GIT_LINK, and its name
    semd_type: str = ""
    semd_type_name: str = ""

    @property
    def requires_patient_snils(self) -> bool:
        return self.patient_info == PATIENT_INFO_WITH_SNILS

    @property
    def requires_patient(self) -> bool:
        return self.patient_info in (PATIENT_INFO_WITH_SNILS, PATIENT_INFO_REQUIRED)

    @property
    def is_cda(self) -> bool:
        return self.format == FORMAT_CDA

    def valid_on(self, day: dt.date) -> bool:
        """True when the kind may be registered for a document created on ``day``."""
        if self.start_date and day < self.start_date:
            return False
        if self.end_date and day >= self.end_date:
            return False
        return True

    @property
    def is_open(self) -> bool:
        """No end date in NSI 1520 (the kind is current)."""
        return self.end_date is None

    def candidate_template_ids(self) -> tuple[str, ...]:
        """Every templateId root this kind is recognised by (all three generations)."""
        out = list(self.template_ids)
        if self.git_link:
            out.append(self.git_link)
        out.extend(self.derived_template_ids())
        return tuple(dict.fromkeys(out))

    def derived_template_ids(self) -> tuple[str, ...]:
        """Generations B and A built from the 1522 type and the edition (semd.md §1.2)."""
        if not (self.type_1522 and self.edition):
            return ()
        return (
            f"1.2.643.5.1.13.13.14.{self.type_1522}.9.{self.edition}",
            f"1.2.643.5.1.13.2.7.5.1.{self.type_1522}.9.{self.edition}",
        )

    @property
    def generation(self) -> str:
        """``C`` when the document carries GIT_LINK as templateId (code from 99.2.1079 with a 1520
        translation), else ``B`` (code from 1522) — the family a generated document uses."""
        tid = self.template_ids[0] if self.template_ids else ""
        if tid and tid == self.git_link:
            return "C"
        if tid:
            return "B"
        return "C" if self.start_date is not None and self.start_date >= GENERATION_C_SINCE else "B"

    def document_template_id(self) -> str:
        """The templateId root a document of this kind is written with."""
        if self.template_ids:
            return self.template_ids[0]
        if self.generation == "C" and self.git_link:
            return self.git_link
        derived = self.derived_template_ids()
        return derived[0] if derived else self.git_link

    def as_dict(self) -> dict[str, object]:
        """The admin API form (CONTRACT §6 ``GET /_admin/kinds``)."""
        return {
            "code": self.id,
            "name": self.name,
            "format": "CDA" if self.is_cda else "PDF/A-1",
            "format_code": self.format,
            "start_date": self.start_date.isoformat() if self.start_date else None,
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "template_ids": list(self.candidate_template_ids()),
            "document_template_id": self.document_template_id() if self.is_cda else None,
            "patient_info": self.patient_info,
            "mo_sign": self.mo_sign,
            "series_required": self.series_required,
            "type_1522": self.type_1522,
            "type_name": self.type_name,
            "semd_type": self.semd_type,
            "edition": self.edition,
            "implementation_guide": self.implementation_guide,
            "git_link": self.git_link,
        }


#: kinds registered from this date on use templateId generation C (semd.md §1.2: "2023-09+")
GENERATION_C_SINCE = dt.date(2023, 9, 1)


def _date(text: str) -> dt.date | None:
    text = (text or "").strip()
    if not text:
        return None
    for fmt in ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%Y %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _edition(name: str) -> str:
    m = re.search(r"Редакция\s*(\d+)", name)
    return m.group(1) if m else ""


def _flag(text: str) -> bool:
    return (text or "").strip().lower() == "да"


def _from_fact(fact: dict[str, str]) -> Kind:
    """One row of the built-in catalog file (``kinds_1520.json``) as a :class:`Kind`."""
    git = fact.get("git_link", "")
    tids = fact.get("template_ids") or []
    return Kind(
        id=fact["id"], type_1522=fact.get("type", ""), edition=_edition(fact.get("name", "")),
        name=fact.get("name", ""), patient_info=fact.get("patient_info") or PATIENT_INFO_WITH_SNILS,
        mo_sign=_flag(fact.get("mo_sign", "")), format=fact.get("format") or FORMAT_CDA,
        series_required=_flag(fact.get("series_required", "")), start_date=_date(fact.get("start_date", "")),
        end_date=_date(fact.get("end_date", "")), git_link=git, template_ids=tuple(tids),
        implementation_guide=fact.get("implementation_guide", ""), type_name=fact.get("type_name", ""),
        semd_type=fact.get("semd_type", "") or _semd_type(git), semd_type_name=fact.get("semd_type_name", ""),
    )


def _semd_type(git_link: str) -> str:
    """The NSI 99.2.1079 id inside a GIT_LINK ``1.2.643.5.1.13.13.15.<1079 id>.<edition>``."""
    m = re.fullmatch(r"1\.2\.643\.5\.1\.13\.13\.15\.(\d+)\.\d+", git_link or "")
    return m.group(1) if m else ""


@dataclass(frozen=True)
class CatalogFile:
    """The built-in catalog: every row of the newest NSI 1520 export, as generated by
    ``scripts/make_kind_catalog.py``."""

    version: str
    source: str
    kinds: tuple[Kind, ...]


def load_builtin() -> CatalogFile:
    """Read ``kinds_1520.json`` (shipped with the package)."""
    data = json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    return CatalogFile(str(data["version"]), str(data.get("source", "")),
                       tuple(_from_fact(f) for f in data["kinds"]))


CATALOG_FILE = Path(__file__).with_name("kinds_1520.json")
BUILTIN = load_builtin()
#: every kind of the built-in catalog (NSI 1520 of :data:`BUILTIN_VERSION`)
SEED: tuple[Kind, ...] = BUILTIN.kinds
BUILTIN_VERSION = BUILTIN.version


def import_nsi_1520(source: str | Path | Iterable[str]) -> list[Kind]:
    """Read an FNSI export of NSI 1520 (TSV or ``;`` CSV with a header row: ID, TYPE, NAME, PATIENT_INFO,
    MO_SIGN, FORMAT, GIT_LINK, SERIES_REQUIRED, START_DATE, END_DATE …) into kinds.

    Unknown columns are ignored; ``#`` lines are comments. Facts an export does not carry (the
    asserted templateId, 1522/1079 names) are kept from the built-in catalog for the same id.
    """
    if isinstance(source, (str, Path)) and Path(source).exists():
        text = Path(source).read_text(encoding="utf-8-sig")
    elif isinstance(source, str):
        text = source
    else:
        text = "\n".join(source)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    delimiter = "\t" if lines and "\t" in lines[0] else ";"
    reader = csv.DictReader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    if not reader.fieldnames or "ID" not in reader.fieldnames:
        raise ValueError("not an NSI 1520 export: the header row has no ID column")
    return kinds_from_rows(reader)


def kinds_from_rows(rows: Iterable[dict[str, str]]) -> list[Kind]:
    """Kinds from NSI 1520 rows given as column → value mappings."""
    builtin = {k.id: k for k in SEED}
    kinds = []
    for row in rows:
        kid = (row.get("ID") or "").strip()
        if not kid:
            continue
        fact = {c.lower(): (v or "").strip() for c, v in row.items() if c}
        fact["id"] = kid
        known = builtin.get(kid)
        kind = _from_fact(fact)
        if known is not None:
            kind = replace(
                kind,
                template_ids=known.template_ids,
                type_name=kind.type_name or (known.type_name if known.type_1522 == kind.type_1522 else ""),
                semd_type_name=kind.semd_type_name
                or (known.semd_type_name if known.semd_type == kind.semd_type else ""),
            )
        kinds.append(kind)
    return kinds


class CatalogSource(Protocol):
    """Where a running registry finds newer NSI 1520 exports (e.g. the NSI directory)."""

    def signature(self) -> object:
        """Something cheap that changes whenever the source may hold different kinds."""

    def load(self) -> tuple[str, str, list[Kind]] | None:
        """``(version, source name, kinds)`` of the newest export in the source, or None."""


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in str(version).split("."))


class KindRegistry:
    """Thread-safe lookup of kinds by NSI 1520 id and by templateId root.

    ``version`` is the NSI 1520 version the catalog reflects. With a :class:`CatalogSource`
    attached, every lookup first checks (cheaply) whether the source changed, and if so overlays
    its newest export when that is at least as new as the catalog: kinds added, facts replaced.
    """

    def __init__(self, kinds: Iterable[Kind] = SEED, *, version: str = BUILTIN_VERSION,
                 source: str = "built-in") -> None:
        self._lock = threading.Lock()
        self._kinds: dict[str, Kind] = {}
        self._by_template: dict[str, str] = {}
        self.version = version
        self.source = source
        self._base: tuple[dict[str, Kind], str, str] | None = None
        self._watch: CatalogSource | None = None
        self._seen: object = None
        self.reload_error = ""
        self.update(kinds)

    # ---- live catalog --------------------------------------------------------------------------
    def attach(self, source: CatalogSource) -> KindRegistry:
        """Follow ``source`` from now on (returns self)."""
        with self._lock:
            self._base = (dict(self._kinds), self.version, self.source)
            self._watch = source
            self._seen = object()  # force the first look
        self.refresh()
        return self

    def refresh(self) -> bool:
        """Re-read the attached source if it changed; True when the catalog changed."""
        watch = self._watch
        if watch is None:
            return False
        try:
            sig = watch.signature()
        except OSError:
            sig = None
        if sig == self._seen:
            return False
        with self._lock:
            if sig == self._seen:
                return False
            try:
                loaded = watch.load()
                self.reload_error = ""
            except (OSError, ValueError) as exc:
                loaded = None
                self.reload_error = safe_text(exc, "выгрузка справочника 1520 не прочитана")
            assert self._base is not None
            base, version, source = self._base
            kinds = dict(base)
            if loaded is not None and _version_key(loaded[0]) >= _version_key(version):
                version, source = loaded[0], loaded[1]
                kinds.update((k.id, k) for k in loaded[2])
            self._kinds = kinds
            self.version, self.source = version, source
            self._reindex()
            self._seen = sig
        return True

    # ---- edits and lookups ---------------------------------------------------------------------
    def update(self, kinds: Iterable[Kind]) -> None:
        """Add or replace kinds."""
        with self._lock:
            for k in kinds:
                self._kinds[k.id] = k
            self._reindex()

    def _reindex(self) -> None:
        # Asserted templates win, then GIT_LINK, then the derived families; among kinds deriving the
        # same root, current CDA kinds win over closed or PDF ones, newer ids over older.
        ranked = sorted(self._kinds.values(), key=lambda k: (not k.is_cda, not k.is_open, -_num(k.id)))
        index: dict[str, str] = {}
        for pick in (lambda k: k.template_ids, lambda k: (k.git_link,) if k.git_link else (),
                     lambda k: k.derived_template_ids()):
            for k in ranked:
                for t in pick(k):
                    index.setdefault(t, k.id)
        self._by_template = index

    def get(self, kind_id: str) -> Kind | None:
        self.refresh()
        return self._kinds.get(str(kind_id).strip())

    def by_template(self, root: str) -> Kind | None:
        self.refresh()
        kid = self._by_template.get(root.strip())
        return self._kinds.get(kid) if kid else None

    def all(self) -> list[Kind]:
        self.refresh()
        return sorted(self._kinds.values(), key=lambda k: _num(k.id))

    def __len__(self) -> int:
        self.refresh()
        return len(self._kinds)

    def snapshot(self) -> KindSnapshot:
        """The catalog as it is now, after one look at the attached source: lookups on it do not look
        again (one document's validation asks several times; each look is a ``stat``)."""
        self.refresh()
        with self._lock:
            return KindSnapshot(self._kinds, self._by_template, self.version, self.source)

    def with_overrides(self, **changes: dict) -> KindRegistry:
        """A copy with fields of some kinds changed: ``with_overrides(**{"119": {"mo_sign": False}})``."""
        kinds = []
        for k in self.all():
            kinds.append(replace(k, **changes[k.id]) if k.id in changes else k)
        return KindRegistry(kinds, version=self.version, source=self.source)


class KindSnapshot:
    """The lookups of a :class:`KindRegistry` as it was at one moment (see :meth:`KindRegistry.snapshot`)."""

    def __init__(self, kinds: dict[str, Kind], by_template: dict[str, str], version: str, source: str) -> None:
        self._kinds = kinds
        self._by_template = by_template
        #: the NSI 1520 version and where it came from, as in the registry then
        self.version = version
        self.source = source

    def get(self, kind_id: str) -> Kind | None:
        """The kind with NSI 1520 id ``kind_id``."""
        return self._kinds.get(str(kind_id).strip())

    def by_template(self, root: str) -> Kind | None:
        """The kind whose ``templateId/@root`` is ``root``."""
        kid = self._by_template.get(root.strip())
        return self._kinds.get(kid) if kid else None

    def all(self) -> list[Kind]:
        """Every kind, by id."""
        return sorted(self._kinds.values(), key=lambda k: _num(k.id))


def _num(kind_id: str) -> int:
    return int(kind_id) if kind_id.isdigit() else 0


_default: KindRegistry | None = None


def default_registry() -> KindRegistry:
    """The process-wide built-in catalog (no source attached)."""
    global _default
    if _default is None:
        _default = KindRegistry()
    return _default
