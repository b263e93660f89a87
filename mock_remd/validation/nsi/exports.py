"""Reading FNSI table exports (TSV or CSV with a header row, optional ``#`` comment lines).

The exports in ``shared/data/nsi`` start with a comment such as
``# SOURCE: … fullName=Пол пациента version=2.1 rows=3 publishDate=18.12.2016 00:00`` and are named
``<OID>_v<version>.tsv``. The OID and version come from the arguments, else the comment, else the
file name. Which column is the code and which the name comes from the override table, else from
:func:`detect_columns`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mock_remd.validation.nsi.model import KINDS_OID, Dictionary, NsiFileError

_OID_RE = re.compile(r"(?<![\d.])(\d+(?:\.\d+){3,})")
_FILE_RE = re.compile(r"(?P<oid>\d+(?:\.\d+){3,})[_ -]+v?(?P<version>\d+(?:\.\d+)*)")
_META_KEY_RE = re.compile(r"(?:(?<=\s)|^)(\w+)=")

#: code columns in order of preference when no override names one
CODE_COLUMNS = ("CODE", "ID", "RECID", "S_CODE", "MKB_CODE", "OID")
#: name columns in order of preference (case-insensitive)
NAME_COLUMNS = ("NAME", "S_NAME", "FULL_NAME", "FULLNAME", "NAME_FULL", "MKB_NAME", "TITLE")
#: columns that are never the name (links, ordering, flags)
_NOT_NAME = {"ID", "PID", "PARENT", "PARENT_ID", "ID_PARENT", "SORT", "ORDER", "ACTUAL", "OID", "RECID", "CODE"}


class ExportError(NsiFileError):
    """The file is not a usable FNSI export: a catalogue message (``nsi.export.*``) saying why.

    The caller names the file; ``str()`` is the Russian sentence, :meth:`text` the one in a language.
    """

    prefix = "nsi.export."


@dataclass
class ParsedExport:
    """What :func:`read_export` learned from one file."""

    dictionary: Dictionary
    rows: int = 0
    duplicates: list[str] = field(default_factory=list)
    empty_codes: int = 0


def parse_meta(comment: str) -> dict[str, str]:
    """``key=value`` pairs of an export comment line; values may contain spaces."""
    text = comment.lstrip("#").strip()
    matches = list(_META_KEY_RE.finditer(text))
    meta: dict[str, str] = {}
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        meta[m.group(1)] = text[m.end() : end].strip()
    return meta


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1251")  # FNSI CSV downloads are often Windows-1251


def _delimiter(header: str) -> str:
    for delim in ("\t", ";", ","):
        if delim in header:
            return delim
    return "\t"


def _looks_textual(values: list[str]) -> bool:
    filled = [v for v in values if v.strip()]
    if not filled:
        return False
    textual = sum(1 for v in filled if not re.fullmatch(r"[\d.,;\s:-]+|true|false", v.strip(), re.I))
    return textual * 2 > len(filled)


def detect_columns(columns: list[str], rows: list[list[str]]) -> tuple[str, str]:
    """Guess ``(code column, name column)`` of an export without an override.

    Code: the first of :data:`CODE_COLUMNS` present (case-insensitive), else the first column.
    Name: the first of :data:`NAME_COLUMNS`, else a column whose name contains ``NAME``, else the
    first other column whose values are mostly text. An empty name column means "no names".
    """
    upper = {c.upper(): c for c in columns}
    code = next((upper[c] for c in CODE_COLUMNS if c in upper), columns[0] if columns else "")
    name = next((upper[c] for c in NAME_COLUMNS if c in upper and upper[c] != code), "")
    if not name:
        name = next((c for c in columns if "NAME" in c.upper() and c != code and "SYNONYM" not in c.upper()), "")
    if not name:
        sample = rows[:200]
        for i, col in enumerate(columns):
            if col == code or col.upper() in _NOT_NAME:
                continue
            if _looks_textual([r[i] if i < len(r) else "" for r in sample]):
                name = col
                break
    return code, name


def _pick(columns: list[str], wanted: str, what: str) -> str:
    if wanted in columns:
        return wanted
    by_upper = {c.upper(): c for c in columns}
    if wanted.upper() in by_upper:
        return by_upper[wanted.upper()]
    raise ExportError(f"no_{what}_column", wanted=wanted, columns=", ".join(columns))


#: the columns that make an export recognisable as NSI 1520 whatever its file name
KIND_COLUMNS = ("ID", "TYPE", "NAME", "PATIENT_INFO", "MO_SIGN", "FORMAT", "GIT_LINK")


def _text_table(text: str) -> tuple[dict[str, str], list[str], list[list[str]]]:
    """TSV/CSV with a header row and optional ``#`` comment lines (metadata ``key=value``)."""
    meta: dict[str, str] = {}
    body: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            meta.update(parse_meta(line))
        elif line.strip():
            body.append(line)
    if not body:
        raise ExportError("no_header")
    table = list(csv.reader(io.StringIO("\n".join(body)), delimiter=_delimiter(body[0])))
    return meta, [c.strip() for c in table[0]], table[1:]


def _json_table(text: str) -> tuple[dict[str, str], list[str], list[list[str]]]:
    """An FNSI JSON export: the REST answer ``{"list": [[{"column", "value"}, …], …]}`` or records as
    objects (``{"records"|"data"|"rows"|"list": [{column: value}, …]}`` or a bare list of them).
    Top-level (or ``passport``) ``oid``, ``version``, ``fullName``, ``publishDate`` are metadata."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ExportError("bad_json", line=getattr(exc, "lineno", "?")) from exc
    meta: dict[str, str] = {}
    records: object = doc
    if isinstance(doc, dict):
        for holder in (doc.get("passport"), doc):
            if isinstance(holder, dict):
                for key in ("oid", "version", "fullName", "publishDate"):
                    if holder.get(key) and key not in meta:
                        meta[key] = str(holder[key])
        records = next((doc[k] for k in ("list", "records", "data", "rows") if isinstance(doc.get(k), list)), None)
    if not isinstance(records, list) or not records:
        raise ExportError("no_records")
    rows: list[dict[str, str]] = []
    for rec in records:
        if isinstance(rec, list):  # REST form: one list of {"column", "value"} per row
            rows.append({str(c.get("column")): "" if c.get("value") is None else str(c.get("value"))
                         for c in rec if isinstance(c, dict)})
        elif isinstance(rec, dict):
            flat = rec.get("data") if isinstance(rec.get("data"), dict) else rec
            rows.append({str(k): "" if v is None else str(v) for k, v in flat.items()})
        else:
            raise ExportError("bad_record")
    columns = list(dict.fromkeys(c for row in rows for c in row))
    return meta, columns, [[row.get(c, "") for c in columns] for row in rows]


def read_export(
    path: Path,
    *,
    oid: str | None = None,
    version: str | None = None,
    code_column: str | None = None,
    name_column: str | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> ParsedExport:
    """Read one FNSI export into a :class:`Dictionary`; raises :class:`ExportError` when unusable."""
    source = path.name
    text = _decode(path.read_bytes())
    if text.lstrip().startswith(("{", "[")):
        meta, columns, data = _json_table(text)
    else:
        meta, columns, data = _text_table(text)
    if not (oid or meta.get("oid") or _FILE_RE.search(path.name)) and set(KIND_COLUMNS) <= {c.upper() for c in columns}:
        oid = KINDS_OID  # an NSI 1520 export saved under another name: its columns tell
    file_match = _FILE_RE.search(path.name)
    oid = oid or meta.get("oid") or (file_match.group("oid") if file_match else "")
    if not oid:
        found = _OID_RE.search(meta.get("SOURCE", "")) or _OID_RE.search(path.name)
        oid = found.group(1) if found else ""
    if not oid:
        raise ExportError("no_oid")
    version = version or meta.get("version") or (file_match.group("version") if file_match else "")
    if not version:
        raise ExportError("no_version")
    entry = (overrides or {}).get(oid, {})
    guessed_code, guessed_name = detect_columns(columns, data)
    code_col = _pick(columns, code_column or entry.get("code") or guessed_code, "code")
    wanted_name = name_column or entry.get("name") or guessed_name
    name_col = _pick(columns, wanted_name, "name") if wanted_name else ""
    ci, ni = columns.index(code_col), (columns.index(name_col) if name_col else -1)
    entries: dict[str, str] = {}
    result = ParsedExport(Dictionary(oid=oid, version=version))
    for row in data:
        code = row[ci].strip() if ci < len(row) else ""
        if not code:
            result.empty_codes += 1
            continue
        name = row[ni].strip() if 0 <= ni < len(row) else ""
        if code in entries:
            result.duplicates.append(code)
            continue
        entries[code] = name
    if not entries:
        raise ExportError("no_codes", column=code_col, rows=len(data))
    result.rows = len(data)
    result.dictionary = Dictionary(
        oid=oid,
        version=version,
        full_name=meta.get("fullName", "") or str(entry.get("full_name") or ""),
        code_column=code_col,
        name_column=name_col,
        columns=columns,
        entries=entries,
        publish_date=meta.get("publishDate", ""),
        source=source,
        rows=[[v for v in row] for row in data] if oid == KINDS_OID else [],
    )
    return result
