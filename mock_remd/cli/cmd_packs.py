"""``mock-remd packs import|list|download``: official validation packs (CONTRACT §8)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from mock_remd.catalog.user_messages import count, say
from mock_remd.cli.common import lang_of
from mock_remd.config import ConfigError, Settings
from mock_remd.packs.download import DownloadError, fetch_archive
from mock_remd.packs.install import Outcome, PackError, install_path
from mock_remd.validation.pack_index import installed_packs


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``packs`` with ``import``, ``list`` and ``download``."""
    parser = subparsers.add_parser(
        "packs", help="install official XSD/Schematron packs (import, download) and list them",
        description="Official validation packs (XSD + Schematron) of the xsd and schematron layers.",
    )
    sub = parser.add_subparsers(dest="packs_command", metavar="SUBCOMMAND", help="what to do with packs")
    imp = sub.add_parser(
        "import", help="install packs from portal ZIPs/folders or the 1C validator's data/ layout",
        description="Install packs: a portal ZIP or folder of a kind's edition, a folder of one pack, or a folder "
        "(or ZIP) in the 1C validator's layout (<kind>/…xsd + <kind>.sch, variants <kind>_1).",
    )
    imp.add_argument("paths", nargs="+", metavar="PATH", type=Path,
                     help="a ZIP or folder: a portal package, one pack, or the 1C validator's data/ layout")
    _dir_option(imp)
    imp.add_argument("--kind", default="", help="the NSI 1520 kind of a portal pack whose templateId is not in the catalog")
    imp.add_argument("--no-example-check", action="store_true", help="do not validate a shipped example against its pack")
    imp.set_defaults(func=cmd_import)
    lst = sub.add_parser("list", help="list installed packs")
    _dir_option(lst)
    lst.add_argument("--format", choices=("text", "json"), default="text", help="text lines (default) or one JSON object")
    lst.set_defaults(func=cmd_list)
    dl = sub.add_parser(
        "download", help="download packs (1C validator layout ZIP) and install them",
        description="Fetch a ZIP in the 1C validator's layout (default: that repository's public archive; "
        "MOCK_REMD_PACKS_SOURCE or --source to change it) and install the packs as 'packs import' does.",
    )
    dl.add_argument("kinds", nargs="*", metavar="KIND", help="only these kinds (default: every pack in the archive)")
    dl.add_argument("--source", default=None, help="URL (http/https/file) of the ZIP")
    dl.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the source (default 60)")
    _dir_option(dl)
    dl.set_defaults(func=cmd_download)
    parser.set_defaults(func=lambda args: _usage(parser))


def _dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", type=Path, default=None,
                        help="the packs directory (default: MOCK_REMD_PACKS_DIR, else .mock-remd/packs)")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _config_text(args: argparse.Namespace, exc: ConfigError) -> str:
    return exc.text(lang_of(args))


def _settings() -> Settings:
    return Settings.load()


def _packs_dir(args: argparse.Namespace, settings: Settings) -> Path:
    return args.dir or settings.packs_install_dir


def _report(outcomes: list[Outcome], lang: str, verbose: bool = False) -> int:
    """Print what was installed, refused and warned about, in ``lang`` (engine details with ``verbose``)."""
    failed = 0
    for o in outcomes:
        if o.ok:
            assert o.pack is not None
            p = o.pack
            example = ""
            if p.example is not None and "passed" in p.example:
                example = say(lang, "packs.example_passes" if p.example["passed"] else "packs.example_fails")
            print(say(lang, "packs.installed", kind=p.kind, edition=p.edition, template_id=p.template_id or "—",
                      directory=p.directory, files=count(lang, "file", len(p.files)), example=example))
        else:
            failed += 1
            assert o.error is not None
            print(f"mock-remd packs: {say(lang, 'packs.refused', error=o.error.text(lang))}", file=sys.stderr)
            _detail(lang, verbose, o.error.detail)
        for w in o.warnings:
            print(say(lang, "packs.warning", text=w.text(lang)), file=sys.stderr)
            _detail(lang, verbose, w.detail)
    return failed


def _detail(lang: str, verbose: bool, detail: str) -> None:
    """An engine's own wording about a refusal: with --verbose only."""
    if verbose and detail:
        print(say(lang, "packs.detail", detail=detail), file=sys.stderr)


def cmd_import(args: argparse.Namespace) -> int:
    """0 all installed, 1 some refused, 2 unusable input."""
    lang = lang_of(args)
    try:
        settings = _settings()
    except ConfigError as exc:
        print(f"mock-remd packs import: {_config_text(args, exc)}", file=sys.stderr)
        return 2
    missing = [p for p in args.paths if not p.exists()]
    for p in missing:
        print(f"mock-remd packs import: {say(lang, 'packs.missing', path=p)}", file=sys.stderr)
    if missing:
        return 2
    packs_dir = _packs_dir(args, settings)
    kinds = settings.validation_settings().kinds
    cache = Path(settings.cache_dir) if settings.cache_dir else None
    outcomes: list[Outcome] = []
    for path in args.paths:
        try:
            found = install_path(path, packs_dir, kinds, forced_kind=args.kind, cache_dir=cache,
                                 check_example=not args.no_example_check)
        except PackError as exc:
            print(f"mock-remd packs import: {exc.text(lang)}", file=sys.stderr)
            return 2
        if not found:
            print(f"mock-remd packs import: {say(lang, 'packs.not_found', path=path)}", file=sys.stderr)
            return 2
        outcomes.extend(found)
    failed = _report(outcomes, lang, getattr(args, "verbose", False))
    print(say(lang, "packs.summary", done=len(outcomes) - failed, total=len(outcomes), dir=packs_dir))
    return 1 if failed else 0


def cmd_list(args: argparse.Namespace) -> int:
    """One line per installed pack: kind, edition, templateId, files, hash."""
    lang = lang_of(args)
    try:
        settings = _settings()
    except ConfigError as exc:
        print(f"mock-remd packs list: {_config_text(args, exc)}", file=sys.stderr)
        return 2
    packs_dir = _packs_dir(args, settings)
    index = installed_packs(packs_dir)
    if args.format == "json":
        print(json.dumps({"dir": str(packs_dir), "items": [p.as_dict() for p in index.packs],
                          "total": len(index.packs)}, ensure_ascii=False))
        return 0
    if not index.packs:
        print(say(lang, "packs.none", dir=packs_dir), file=sys.stderr)
    for p in index.packs:
        files = count(lang, "file", len(p.files)) if p.files else "?"
        print(f"{p.kind}\t{p.edition or '—'}\t{p.template_id or '—'}\t{files}\t{p.hash[:16] or '—'}")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    """0 all installed, 1 some refused, 2 source unreachable or unusable."""
    lang = lang_of(args)
    try:
        settings = _settings()
    except ConfigError as exc:
        print(f"mock-remd packs download: {_config_text(args, exc)}", file=sys.stderr)
        return 2
    source = args.source or settings.packs_source
    packs_dir = _packs_dir(args, settings)
    with tempfile.TemporaryDirectory(prefix="mock-remd-download-") as tmp:
        try:
            archive = fetch_archive(source, Path(tmp), timeout=args.timeout)
        except DownloadError as exc:
            print(f"mock-remd packs download: {exc.text.render(lang)}", file=sys.stderr)
            return 2
        kinds = settings.validation_settings().kinds
        cache = Path(settings.cache_dir) if settings.cache_dir else None
        try:
            outcomes = install_path(archive, packs_dir, kinds, only=set(args.kinds) or None, cache_dir=cache,
                                    source=source)
        except PackError as exc:
            print(f"mock-remd packs download: {source}: {exc.text(lang)}", file=sys.stderr)
            return 2
    if not outcomes:
        none = say(lang, "packs.none_for_kinds", source=source, kinds=", ".join(args.kinds)) if args.kinds \
            else say(lang, "packs.none_in_archive", source=source)
        print(f"mock-remd packs download: {none}", file=sys.stderr)
        return 2
    failed = _report(outcomes, lang, getattr(args, "verbose", False))
    print(say(lang, "packs.summary_from", done=len(outcomes) - failed, total=len(outcomes), dir=packs_dir,
              source=source))
    return 1 if failed else 0
