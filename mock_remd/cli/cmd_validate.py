"""``mock-remd validate FILE``: run the validation layers on a СЭМД the way the registry would (CONTRACT §8).

Exit status: 0 valid, 1 invalid (a not-well-formed document included), 2 unusable input.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from lxml import etree

from mock_remd.cli.report_format import FORMATS, render
from mock_remd.config import ConfigError, Settings
from mock_remd.core.model import RegisterRequest
from mock_remd.soap.operations import find_register_request, parse_register
from mock_remd.validation.context import SIGNATURE_LEVELS, ValidationSettings
from mock_remd.validation.nsi.store import DEFAULT_DIR as DEFAULT_NSI_DIR
from mock_remd.xmlsafe import UnsafeXmlError, XmlTooLargeError, parse_bytes, strip_bom


class UsageError(Exception):
    """Input we cannot use (exit status 2); the message is printed as is."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate`` subcommand."""
    p = subparsers.add_parser(
        "validate",
        help="validate a СЭМД (CDA) document offline, with the registry's codes and messages",
        description="Validate a СЭМД the way the registry does. Exit status: 0 valid, 1 invalid, 2 unusable input.",
    )
    p.add_argument("file", metavar="FILE", help="the CDA document ('-' reads standard input)")
    p.add_argument("--kind", default="", help="NSI 1520 kind code (default: the request's kind, else detected)")
    p.add_argument("--request", type=Path, help="registerDocumentRequest XML (SOAP envelope or bare) for cross-checks")
    p.add_argument("--packs", type=Path, help="official validation packs directory (default MOCK_REMD_PACKS_DIR)")
    p.add_argument(
        "--nsi", type=Path, help=f"NSI dictionaries directory (default MOCK_REMD_NSI_DIR, else {DEFAULT_NSI_DIR} if present)"
    )
    p.add_argument("--signatures", choices=SIGNATURE_LEVELS, help="signature check level (default MOCK_REMD_SIGNATURES)")
    p.add_argument("--layers", help="layers to run: all, none or a comma-separated list (default MOCK_REMD_VALIDATION)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default text)")
    p.add_argument(
        "--nsi-strict", action="store_true", help="report NSI dictionary OIDs that are not loaded (INVALID_DICTIONARY_OID)"
    )
    p.add_argument(
        "--nsi-unknown-version",
        choices=("error", "latest"),
        default="error",
        help="a dictionary version that is not loaded: error (default) or check against the latest loaded version",
    )
    p.add_argument("--config", help="config file (default MOCK_REMD_CONFIG)")
    p.set_defaults(func=run)


def _settings(args: argparse.Namespace) -> ValidationSettings:
    overrides: dict[str, Any] = {
        "config": args.config,
        "packs_dir": str(args.packs) if args.packs else None,
        "nsi_dir": str(args.nsi) if args.nsi else None,
        "signatures": args.signatures,
        "validation": args.layers,
    }
    try:
        settings = Settings.load(overrides)
        if not settings.nsi_dir and DEFAULT_NSI_DIR.is_dir():
            settings.nsi_dir = str(DEFAULT_NSI_DIR)
        settings.check()
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    vs = settings.validation_settings()
    options = dict(vs.options)
    options["nsi"] = {"strict_unknown": args.nsi_strict, "unknown_version": args.nsi_unknown_version}
    changes: dict[str, Any] = {"options": options}
    if vs.nsi_dir is not None:
        kinds = _kinds_with_nsi(vs)
        if kinds is not None:
            changes["kinds"] = kinds
    return dataclasses.replace(vs, **changes)


def _kinds_with_nsi(vs: ValidationSettings):
    """The kind registry plus the kinds of an NSI 1520 in the NSI directory (as the server loads them)."""
    from mock_remd.catalog.kinds import KindRegistry
    from mock_remd.validation.nsi.kinds import load_kinds_from_nsi_dir

    assert vs.nsi_dir is not None
    kinds = load_kinds_from_nsi_dir(vs.nsi_dir)
    if not kinds:
        return None
    registry = KindRegistry(vs.kinds.all())
    registry.update(kinds)
    return registry


def _read_document(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    path = Path(name)
    if not path.is_file():
        raise UsageError(f"no such file: {name}")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from exc


def read_request(path: Path) -> RegisterRequest:
    """A ``registerDocumentRequest`` from a SOAP envelope or a bare request file; :class:`UsageError` otherwise."""
    if not path.is_file():
        raise UsageError(f"no such request file: {path}")
    try:
        root = parse_bytes(strip_bom(path.read_bytes()))
    except (etree.XMLSyntaxError, UnsafeXmlError, XmlTooLargeError, OSError) as exc:
        raise UsageError(f"request {path} is not readable XML: {exc}") from exc
    op = find_register_request(root)
    if op is None:
        raise UsageError(f"request {path} holds no registerDocumentRequest")
    return parse_register(op)


def run(args: argparse.Namespace) -> int:
    """Validate ``args.file`` and print the report; returns the exit status."""
    from mock_remd.validation.pipeline import Validator

    try:
        settings = _settings(args)
        request = read_request(args.request) if args.request else None
        content = _read_document(args.file)
    except UsageError as exc:
        print(f"mock-remd validate: {exc}", file=sys.stderr)
        return 2
    report = Validator(settings).validate(content, request=request, kind=args.kind.strip())
    source = "-" if args.file == "-" else args.file
    sys.stdout.write(render(report, args.format, source) + "\n")
    return 0 if report.valid else 1
