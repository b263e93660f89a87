"""``mock-remd validate FILE``: run the validation layers on a СЭМД the way the registry would (CONTRACT §8).

Exit status (CONTRACT §8): 0 valid, 1 invalid (a not-well-formed document included), 2 no verdict:
unusable input, or a partial check (no errors found, but XSD, Schematron or NSI did not run: packs or
dictionaries missing, kind unknown; the verdict line and a stderr line say which and the command that
fixes it). ``--allow-partial`` makes a partial check exit 0.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from lxml import etree

from mock_remd.catalog.user_messages import os_reason, say, xml_refusal
from mock_remd.cli.common import fail, lang_of
from mock_remd.cli.report_format import FORMATS, not_run_text, render
from mock_remd.config import ConfigError, Settings
from mock_remd.domain.model import RegisterRequest
from mock_remd.soap.operations import find_register_request, parse_register
from mock_remd.validation.context import SIGNATURE_LEVELS, ValidationSettings
from mock_remd.validation.nsi.store import DEFAULT_DIR as DEFAULT_NSI_DIR
from mock_remd.xmlsafe import UnsafeXmlError, XmlTooLargeError, parse_bytes, strip_bom

#: exit status of a check that found nothing but could not run every deciding layer: no verdict could be
#: reached with what was given, like unusable input (CONTRACT §8 defines 0, 1 and 2 only)
PARTIAL = 2
#: setting -> the option that sets it (messages name what the user typed)
OPTIONS = {"config": "--config", "packs_dir": "--packs", "nsi_dir": "--nsi", "signatures": "--signatures",
           "validation": "--layers"}


class UsageError(Exception):
    """Input we cannot use (exit status 2); :attr:`message` is the catalogue sentence printed as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate`` subcommand."""
    p = subparsers.add_parser(
        "validate",
        help="validate a SEMD (HL7 CDA document) offline, with the registry's codes and messages",
        description="Validate a SEMD the way the registry does: the layers xml, kind, header, xsd, schematron, "
                    "nsi, cross and signatures.",
        epilog="exit status: 0 valid, 1 invalid, 2 no verdict: unusable input, or a partial check (XSD, "
               "Schematron or NSI did not run; --allow-partial gives 0)",
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
    p.add_argument("--allow-partial", action="store_true",
                   help="exit 0 when no errors were found although XSD, Schematron or NSI did not run")
    p.set_defaults(func=run)


def _settings(args: argparse.Namespace, lang: str) -> ValidationSettings:
    overrides: dict[str, Any] = {
        "config": args.config,
        "packs_dir": str(args.packs) if args.packs else None,
        "nsi_dir": str(args.nsi) if args.nsi else None,
        "signatures": args.signatures,
        "validation": args.layers,
    }
    try:
        settings = Settings.load(overrides, options=OPTIONS)
        if not settings.nsi_dir and DEFAULT_NSI_DIR.is_dir():
            settings.nsi_dir = str(DEFAULT_NSI_DIR)
        settings.check()
    except ConfigError as exc:
        raise UsageError(exc.text(lang)) from exc
    vs = settings.validation_settings()
    options = dict(vs.options)
    options["nsi"] = {"strict_unknown": args.nsi_strict, "unknown_version": args.nsi_unknown_version}
    return dataclasses.replace(vs, options=options)


def _read_document(name: str, lang: str = "ru") -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    path = Path(name)
    if path.is_dir():
        raise UsageError(say(lang, "file.is_dir", path=name))
    if not path.is_file():
        raise UsageError(say(lang, "file.missing", path=name))
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(say(lang, "file.unreadable", path=name, reason=os_reason(lang, exc))) from exc


def read_request(path: Path, lang: str = "ru") -> RegisterRequest:
    """A ``registerDocumentRequest`` from a SOAP envelope or a bare request file; :class:`UsageError` otherwise."""
    what = say(lang, "word.request")
    if path.is_dir():
        raise UsageError(say(lang, "file.is_dir", path=path))
    if not path.is_file():
        raise UsageError(say(lang, "file.request_missing", path=path))
    try:
        root = parse_bytes(strip_bom(path.read_bytes()))
    except etree.XMLSyntaxError as exc:
        raise UsageError(say(lang, "file.not_xml", what=what, path=path, line=exc.lineno or "?")) from exc
    except (UnsafeXmlError, XmlTooLargeError) as exc:
        raise UsageError(say(lang, "file.unsafe_xml", what=what, path=path, reason=xml_refusal(lang, exc))) from exc
    except OSError as exc:
        raise UsageError(say(lang, "file.unreadable", path=path, reason=os_reason(lang, exc))) from exc
    op = find_register_request(root)
    if op is None:
        raise UsageError(say(lang, "file.no_request", path=path))
    return parse_register(op)


def run(args: argparse.Namespace) -> int:
    """Validate ``args.file`` and print the report; returns the exit status."""
    from mock_remd.validation.pipeline import Validator

    lang = lang_of(args)
    try:
        settings = _settings(args, lang)
        request = read_request(args.request, lang) if args.request else None
        content = _read_document(args.file, lang)
    except UsageError as exc:
        return fail(args, "validate", exc.message, exc=exc.__cause__)
    report = Validator(settings).validate(content, request=request, kind=args.kind.strip())
    source = "-" if args.file == "-" else args.file
    sys.stdout.write(render(report, args.format, source, lang) + "\n")
    if not report.valid:
        return 1
    if report.partial and not args.allow_partial:
        print(f"mock-remd validate: {say(lang, 'verdict.partial_exit', status=PARTIAL, not_run=not_run_text(report, lang))}",
              file=sys.stderr)
        return PARTIAL
    return 0
