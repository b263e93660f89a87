"""``mock-remd nsi import FILE… [--dir DIR]`` and ``mock-remd nsi list``: the FNSI dictionaries of the ``nsi`` layer."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mock_remd.catalog.incidents import safe_text
from mock_remd.catalog.user_messages import count, render, say
from mock_remd.cli.common import lang_of
from mock_remd.config import default_nsi_dir
from mock_remd.validation.nsi.kinds import kinds_tsv
from mock_remd.validation.nsi.model import KINDS_OID, NsiFileError
from mock_remd.validation.nsi.store import (
    EXPORT_SUFFIXES,
    ImportResult,
    import_file,
    load_dir,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``nsi`` with its ``import`` and ``list`` subcommands."""
    parser = subparsers.add_parser(
        "nsi",
        help="import FNSI dictionary exports for the nsi validation layer, list them",
        description="FNSI dictionaries used by the nsi validation layer.",
    )
    sub = parser.add_subparsers(dest="nsi_command", metavar="SUBCOMMAND", help="import or list")
    imp = sub.add_parser(
        "import",
        help="import FNSI table exports (TSV/CSV) into the NSI directory",
        description="Import FNSI exports (a folder imports every .tsv/.csv in it). The OID and version come from "
        "the export's comment line or its file name <OID>_v<version>.tsv unless given.",
    )
    imp.add_argument("files", nargs="+", metavar="FILE", type=Path, help="FNSI export files (.tsv, .csv) or folders of them")
    _dir_option(imp)
    imp.add_argument("--oid", help="the dictionary OID (when the file name does not say)")
    imp.add_argument("--version", dest="dict_version", help="the dictionary version (when the file does not say)")
    imp.add_argument("--code-column", help="column holding the code (default: per-OID table, else detected)")
    imp.add_argument("--name-column", help="column holding the name (default: per-OID table, else detected)")
    imp.set_defaults(func=cmd_import)
    lst = sub.add_parser("list", help="list the dictionaries in the NSI directory")
    _dir_option(lst)
    lst.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    lst.set_defaults(func=cmd_list)
    parser.set_defaults(func=lambda args: _usage(parser))


def _dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir", type=Path, default=None, help="the NSI directory (default: MOCK_REMD_NSI_DIR, else .mock-remd/nsi)"
    )


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _expand(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    files: list[Path] = []
    missing: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in EXPORT_SUFFIXES))
        elif p.is_file():
            files.append(p)
        else:
            missing.append(p)
    return files, missing


def _describe(result: ImportResult, lang: str) -> str:
    d = result.dictionary
    line = say(lang, "nsi.imported", oid=d.oid, version=d.version, name=d.full_name or "?",
               codes=count(lang, "code", len(d.entries)), code_column=d.code_column,
               name_column=d.name_column or "—", target=result.target)
    if result.parsed.duplicates:
        shown = ", ".join(result.parsed.duplicates[:5])
        line += "\n  " + say(lang, "nsi.duplicates", count=len(result.parsed.duplicates), shown=shown)
    if result.parsed.empty_codes:
        line += "\n  " + say(lang, "nsi.empty_codes", count=result.parsed.empty_codes)
    return line


def _kinds_note(result: ImportResult, lang: str) -> str:
    from mock_remd.catalog.kinds import import_nsi_1520

    kinds = import_nsi_1520(kinds_tsv(result.dictionary).splitlines())
    return "  " + say(lang, "nsi.kinds", count=len(kinds))


def cmd_import(args: argparse.Namespace) -> int:
    """Import every FILE; 0 when all imported, 1 when some export was unusable, 2 when a file is missing."""
    lang = lang_of(args)
    nsi_dir = args.dir or default_nsi_dir()
    files, missing = _expand(args.files)
    for p in missing:
        print(f"mock-remd nsi import: {say(lang, 'nsi.missing', path=p)}", file=sys.stderr)
    if missing or not files:
        if not missing:
            print(f"mock-remd nsi import: {say(lang, 'nsi.no_exports')}", file=sys.stderr)
        return 2
    if (args.oid or args.dict_version) and len(files) > 1:
        print(f"mock-remd nsi import: {say(lang, 'nsi.single_file')}", file=sys.stderr)
        return 2
    failed = 0
    for path in files:
        try:
            result = import_file(
                path,
                nsi_dir,
                oid=args.oid,
                version=args.dict_version,
                code_column=args.code_column,
                name_column=args.name_column,
            )
        except (NsiFileError, OSError, UnicodeDecodeError) as exc:
            failed += 1
            reason = exc.text(lang) if isinstance(exc, NsiFileError) else safe_text(exc, say(lang, "nsi.not_readable"), lang)
            print(f"mock-remd nsi import: {say(lang, 'nsi.unusable', path=path, reason=reason)}", file=sys.stderr)
            continue
        print(_describe(result, lang))
        if result.dictionary.oid == KINDS_OID:
            print(_kinds_note(result, lang))
    return 1 if failed else 0


def cmd_list(args: argparse.Namespace) -> int:
    """List the dictionaries the nsi layer would load from the directory."""
    lang = lang_of(args)
    nsi_dir = args.dir or default_nsi_dir()
    dictionaries = load_dir(nsi_dir)
    items = [
        {
            "oid": d.oid,
            "version": d.version,
            "full_name": d.full_name,
            "codes": len(d.entries),
            "code_column": d.code_column,
            "name_column": d.name_column,
            "source": d.source,
        }
        for d in dictionaries.all()
    ]
    if args.format == "json":
        print(json.dumps({"dir": str(nsi_dir), "items": items, "errors": render(lang, dictionaries.errors)}, ensure_ascii=False))
        return 0
    if not items:
        print(say(lang, "nsi.none", dir=nsi_dir), file=sys.stderr)
    for it in items:
        print(f"{it['oid']}\tv{it['version']}\t{count(lang, 'code', it['codes'])}\t"
              f"{it['code_column']}/{it['name_column'] or '—'}\t{it['full_name']}")
    for name, err in dictionaries.errors.items():
        print(say(lang, "nsi.unreadable", name=name, error=render(lang, err)), file=sys.stderr)
    return 0
