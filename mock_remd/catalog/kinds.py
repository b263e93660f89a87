"""The kind registry: NSI 1.2.643.5.1.13.13.11.1520 "Электронные медицинские документы".

A seed of the common kinds is built in (facts typed in from NSI 1520 v12.14: 1522 type, edition,
patient-info rule, organisation signature, format, series, validity dates, GIT_LINK, and the
``templateId/@root`` the kind's official Schematron asserts). ``import_nsi_1520`` reads the official
FNSI export (TSV with a header row; ``#`` comment lines allowed) and replaces or extends the seed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

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

    def candidate_template_ids(self) -> tuple[str, ...]:
        """Every templateId root this kind is recognised by (all three generations)."""
        out = list(self.template_ids)
        if self.git_link:
            out.append(self.git_link)
        if self.type_1522 and self.edition:
            out.append(f"1.2.643.5.1.13.13.14.{self.type_1522}.9.{self.edition}")
            out.append(f"1.2.643.5.1.13.2.7.5.1.{self.type_1522}.9.{self.edition}")
        return tuple(dict.fromkeys(out))


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


def _k(kid, type_1522, edition, name, patient_info, mo_sign, fmt, series, start, end, git_link, template_id):
    return Kind(
        id=kid, type_1522=type_1522, edition=edition, name=name, patient_info=patient_info, mo_sign=mo_sign,
        format=fmt, series_required=series, start_date=_date(start), end_date=_date(end), git_link=git_link,
        template_ids=(template_id,) if template_id else (),
    )


SEED: tuple[Kind, ...] = (
    _k('119', '5', '4', 'Протокол консультации (CDA) Редакция 4', 'Обязательны с указанием СНИЛС', True, '2', False, '01.01.2022', '', '1.2.643.5.1.13.13.15.13.4', '1.2.643.5.1.13.2.7.5.1.5.9.4'),
    _k('186', '7', '5', 'Протокол лабораторного исследования (CDA) Редакция 5', 'Обязательны с указанием СНИЛС', True, '2', False, '28.08.2023', '', '1.2.643.5.1.13.13.15.18.5', '1.2.643.5.1.13.13.14.7.9.5'),
    _k('174', '6', '4', 'Протокол инструментального исследования (СDA) Редакция 4', 'Обязательны с указанием СНИЛС', True, '2', False, '28.08.2023', '', '1.2.643.5.1.13.13.15.17.4', '1.2.643.5.1.13.13.14.6.9.4'),
    _k('204', '480', '1', 'Медицинское заключение (CDA) Редакция 1', 'Обязательны с указанием СНИЛС', True, '2', False, '21.11.2023', '', '1.2.643.5.1.13.13.15.105.1', '1.2.643.5.1.13.13.15.105.1'),
    _k('111', '85', '4', 'Протокол консультации в рамках диспансерного наблюдения (CDA) Редакция 4', 'Обязательны с указанием СНИЛС', True, '2', False, '01.01.2022', '', '1.2.643.5.1.13.13.15.14.4', '1.2.643.5.1.13.13.14.85.9.4'),
    _k('147', '1', '5', 'Эпикриз в стационаре выписной (CDA) Редакция 5', 'Обязательны с указанием СНИЛС', True, '2', False, '28.08.2023', '', '1.2.643.5.1.13.13.15.25.5', ''),
    _k('121', '34', '6', 'Направление на медико-социальную экспертизу (CDA) Редакция 6', 'Обязательны с указанием СНИЛС', True, '2', False, '24.11.2022', '', '1.2.643.5.1.13.13.15.4.6', '1.2.643.5.1.13.13.14.34.9.6'),
    _k('125', '13', '6', 'Медицинское свидетельство о смерти (CDA) Редакция 6', 'Не обязательны', True, '2', True, '31.12.2025', '', '1.2.643.5.1.13.13.15.35.6', ''),
    _k('58', '13', '5', 'Медицинское свидетельство о смерти (CDA) Редакция 5', 'Не обязательны', True, '2', True, '03.03.2021', '', '1.2.643.5.1.13.13.15.35.5', '1.2.643.5.1.13.2.7.5.1.13.9.5'),
    _k('127', '14', '3', 'Медицинское свидетельство о перинатальной смерти (CDA) Редакция 3', 'Не обязательны', True, '2', True, '31.12.2025', '', '1.2.643.5.1.13.13.15.37.3', ''),
    _k('167', '33', '5', 'Медицинское свидетельство о рождении (CDA) Редакция 5', 'Не обязательны', True, '2', True, '31.12.2025', '', '1.2.643.5.1.13.13.15.39.5', ''),
    _k('141', '37', '4', 'Льготный рецепт на лекарственный препарат, изделие медицинского назначения и специализированный продукт лечебного питания (CDA) Редакция 4', 'Не обязательны', True, '2', False, '28.08.2023', '', '1.2.643.5.1.13.13.15.1.4', '1.2.643.5.1.13.13.14.37.9.4'),
    _k('148', '86', '2', 'Рецепт на лекарственный препарат (CDA) Редакция 2', 'Обязательны с указанием СНИЛС', True, '2', False, '28.08.2023', '', '1.2.643.5.1.13.13.15.3.2', '1.2.643.5.1.13.13.14.86.9.2'),
    _k('140', '38', '4', 'Отпуск по рецепту на лекарственный препарат, изделие медицинского назначения и специализированный продукт лечебного питания (CDA) Редакция 4', 'Не обязательны', True, '2', False, '28.08.2023', '', '1.2.643.5.1.13.13.15.2.4', '1.2.643.5.1.13.13.14.38.9.4'),
    _k('173', '11', '4', 'Протокол гемотрансфузии (CDA) Редакция 4', 'Обязательны с указанием СНИЛС', True, '2', False, '28.08.2023', '', '1.2.643.5.1.13.13.15.24.4', '1.2.643.5.1.13.13.14.11.9.4'),
    _k('189', '108', '1', 'Протокол оперативного вмешательства операции (CDA) Редакция 1', 'Обязательны с указанием СНИЛС', True, '2', False, '28.08.2023', '', '1.2.643.5.1.13.13.15.77.1', '1.2.643.5.1.13.13.14.108.9.1'),
    _k('191', '341', '1', 'Осмотр лечащим врачом, врачом-специалистом, заведующим отделением, лечащим врачом совместно с врачом-специалистом, лечащим врачом совместно с заведующим отделением (CDA) Редакция 1', 'Обязательны с указанием СНИЛС', True, '2', False, '14.08.2023', '', '1.2.643.5.1.13.13.15.78.1', '1.2.643.5.1.13.13.14.341.9.1'),
    _k('198', '381', '1', 'Первичный осмотр врачом приемного отделения (дежурным врачом или лечащим врачом) (CDA) Редакция 1', 'Обязательны с указанием СНИЛС', True, '2', False, '28.09.2023', '', '1.2.643.5.1.13.13.15.86.1', '1.2.643.5.1.13.13.15.86.1'),
    _k('200', '351', '2', 'Этапный эпикриз (CDA) Редакция 2', 'Обязательны с указанием СНИЛС', True, '2', False, '28.09.2023', '', '1.2.643.5.1.13.13.15.30.2', '1.2.643.5.1.13.13.15.30.2'),
    _k('195', '350', '2', 'Выписка из истории болезни (CDA) Редакция 2', 'Не обязательны', True, '2', False, '26.10.2023', '', '1.2.643.5.1.13.13.15.61.2', '1.2.643.5.1.13.13.15.61.2'),
    _k('185', '57', '2', 'Направление на консультацию и во вспомогательные кабинеты (CDA) Редакция 2', 'Обязательны с указанием СНИЛС', True, '2', False, '14.08.2023', '', '1.2.643.5.1.13.13.15.32.2', '1.2.643.5.1.13.13.14.57.9.2'),
    _k('206', '3', '4', 'Направление на госпитализацию, обследование, консультацию (CDA) Редакция 4', 'Обязательны с указанием СНИЛС', True, '2', False, '24.11.2023', '', '1.2.643.5.1.13.13.15.31.4', ''),
    _k('202', '107', '1', 'Направление на лабораторное исследование (CDA) Редакция 1', 'Обязательны с указанием СНИЛС', True, '2', False, '28.09.2023', '', '1.2.643.5.1.13.13.15.85.1', ''),
    _k('203', '79', '1', 'Медицинская справка (CDA) Редакция 1', 'Обязательны с указанием СНИЛС', True, '2', False, '28.09.2023', '', '1.2.643.5.1.13.13.15.98.1', ''),
    _k('122', '141', '2', 'Сведения о результатах диспансеризации или профилактического медицинского осмотра (CDA) Редакция 2', 'Обязательны с указанием СНИЛС', True, '2', False, '01.01.2023', '', '1.2.643.5.1.13.13.15.74.2', '1.2.643.5.1.13.13.14.141.9.2'),
    _k('129', '340', '1', 'Эпикриз по результатам диспансеризации / профилактического медицинского осмотра (CDA) Редакция 1', 'Не обязательны', True, '2', False, '28.08.2023', '', '1.2.643.5.1.13.13.15.28.1', '1.2.643.5.1.13.13.14.340.9.1'),
    _k('158', '347', '2', 'Выписка из протокола решения врачебной комиссии (CDA) Редакция 2', 'Обязательны с указанием СНИЛС', True, '2', False, '28.08.2023', '', '1.2.643.5.1.13.13.15.75.2', ''),
    _k('164', '59', '2', 'Экстренное извещение об инфекционном заболевании, пищевом, остром профессиональном отравлении, необычной реакции на прививку (CDA) Редакция 2', 'Не обязательны', True, '2', False, '28.08.2023', '', '1.2.643.5.1.13.13.15.70.2', '1.2.643.5.1.13.13.14.59.9.2'),
    _k('184', '184', '1', 'Извещение о больном с впервые в жизни установленным диагнозом злокачественного новообразования (CDA) Редакция 1', 'Обязательны с указанием СНИЛС', True, '2', False, '14.08.2023', '', '1.2.643.5.1.13.13.15.80.1', '1.2.643.5.1.13.13.14.184.9.1'),
    _k('171', '8', '3', 'Медицинское заключение о наличии (об отсутствии) у водителей транспортных средств медицинских противопоказаний, медицинских показаний или медицинских ограничений к управлению транспортными средствами (CDA) Редакция 3', 'Обязательны с указанием СНИЛС', True, '2', False, '28.08.2023', '', '1.2.643.5.1.13.13.15.43.3', ''),
    _k('163', '109', '1', 'Протокол медицинской манипуляции (CDA) Редакция 1', 'Обязательны с указанием СНИЛС', True, '2', False, '14.08.2023', '', '1.2.643.5.1.13.13.15.23.1', '1.2.643.5.1.13.13.14.109.9.1'),
    _k('201', '113', '2', 'Статистическая карта выбывшего из медицинской организации, оказывающей медицинскую помощь в стационарных условиях, в условиях дневного стационара (CDA) Редакция 2', 'Обязательны с указанием СНИЛС', True, '2', False, '28.09.2023', '', '1.2.643.5.1.13.13.15.76.2', ''),
    _k('170', '53', '2', 'Сертификат профилактических прививок (CDA) Редакция 2', 'Обязательны с указанием СНИЛС', True, '2', False, '28.08.2023', '', '1.2.643.5.1.13.13.15.46.2', '1.2.643.5.1.13.13.14.53.9.2'),
    _k('117', '45', '2', 'Медицинское заключение об отсутствии медицинских противопоказаний к владению оружием (CDA) Редакция 2', 'Обязательны с указанием СНИЛС', True, '2', False, '31.12.2025', '', '1.2.643.5.1.13.13.15.41.2', ''),
    _k('180', '46', '2', 'Медицинское заключение об отсутствии в организме человека наркотических средств, психотропных веществ и их метаболитов (CDA) Редакция 2', 'Обязательны с указанием СНИЛС', True, '2', False, '31.12.2025', '', '1.2.643.5.1.13.13.15.42.2', ''),
    _k('150', '91', '3', 'Медицинская справка в бассейн (CDA) Редакция 3', 'Обязательны с указанием СНИЛС', True, '2', False, '30.06.2023', '', '1.2.643.5.1.13.13.15.53.3', ''),
    _k('154', '88', '4', 'Справка об отсутствии контактов с инфекционными больными (CDA) Редакция 4', 'Обязательны с указанием СНИЛС', True, '2', False, '14.08.2023', '', '1.2.643.5.1.13.13.15.56.4', ''),
    _k('13', '13', '2', 'Медицинское свидетельство о смерти (CDA) Редакция 2', 'Не обязательны', True, '2', True, '16.10.2018', '31.08.2021', '', ''),
    _k('6', '5', '', 'Протокол консультации (PDF/A-1)', 'Обязательны с указанием СНИЛС', True, '1', False, '04.07.2018', '01.01.2024', '', ''),
)


def import_nsi_1520(source: str | Path | Iterable[str]) -> list[Kind]:
    """Read an FNSI export of NSI 1520 (TSV: ID, TYPE, NAME, PATIENT_INFO, MO_SIGN, FORMAT, GIT_LINK,
    SERIES_REQUIRED, START_DATE, END_DATE …) into kinds. Unknown columns are ignored."""
    if isinstance(source, (str, Path)) and Path(source).exists():
        text = Path(source).read_text(encoding="utf-8-sig")
    elif isinstance(source, str):
        text = source
    else:
        text = "\n".join(source)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)), delimiter="\t")
    if not reader.fieldnames or "ID" not in reader.fieldnames:
        raise ValueError("not an NSI 1520 export: the header row has no ID column")
    seeded = {k.id: k for k in SEED}
    kinds = []
    for row in reader:
        kid = (row.get("ID") or "").strip()
        if not kid:
            continue
        name = (row.get("NAME") or "").strip()
        kind = Kind(
            id=kid,
            type_1522=(row.get("TYPE") or "").strip(),
            edition=_edition(name),
            name=name,
            patient_info=(row.get("PATIENT_INFO") or PATIENT_INFO_WITH_SNILS).strip(),
            mo_sign=(row.get("MO_SIGN") or "").strip() == "Да",
            format=(row.get("FORMAT") or FORMAT_CDA).strip(),
            series_required=(row.get("SERIES_REQUIRED") or "").strip() == "Да",
            start_date=_date(row.get("START_DATE") or ""),
            end_date=_date(row.get("END_DATE") or ""),
            git_link=(row.get("GIT_LINK") or "").strip(),
            template_ids=seeded[kid].template_ids if kid in seeded else (),
        )
        kinds.append(kind)
    return kinds


class KindRegistry:
    """Thread-safe lookup of kinds by NSI 1520 id and by templateId root."""

    def __init__(self, kinds: Iterable[Kind] = SEED) -> None:
        self._lock = threading.Lock()
        self._kinds: dict[str, Kind] = {}
        self._by_template: dict[str, str] = {}
        self.update(kinds)

    def update(self, kinds: Iterable[Kind]) -> None:
        """Add or replace kinds."""
        with self._lock:
            for k in kinds:
                self._kinds[k.id] = k
            self._reindex()

    def _reindex(self) -> None:
        explicit: dict[str, str] = {}
        derived: dict[str, str] = {}
        for k in self._kinds.values():
            for t in k.template_ids:
                explicit.setdefault(t, k.id)
            for t in k.candidate_template_ids():
                derived.setdefault(t, k.id)
        derived.update(explicit)
        self._by_template = derived

    def get(self, kind_id: str) -> Kind | None:
        return self._kinds.get(str(kind_id).strip())

    def by_template(self, root: str) -> Kind | None:
        kid = self._by_template.get(root.strip())
        return self._kinds.get(kid) if kid else None

    def all(self) -> list[Kind]:
        return sorted(self._kinds.values(), key=lambda k: int(k.id) if k.id.isdigit() else 0)

    def __len__(self) -> int:
        return len(self._kinds)

    def with_overrides(self, **changes: dict) -> KindRegistry:
        """A copy with fields of some kinds changed: ``with_overrides(**{"119": {"mo_sign": False}})``."""
        kinds = []
        for k in self._kinds.values():
            kinds.append(replace(k, **changes[k.id]) if k.id in changes else k)
        return KindRegistry(kinds)


_default: KindRegistry | None = None


def default_registry() -> KindRegistry:
    """The process-wide registry (seed, plus whatever was imported into it)."""
    global _default
    if _default is None:
        _default = KindRegistry()
    return _default
