"""What every subcommand shares: ``--lang``, ``--verbose`` and the way a failure is printed."""

from __future__ import annotations

import argparse
import logging
import sys

from mock_remd.catalog.user_messages import DEFAULT_LANG, LANGS

log = logging.getLogger("mock_remd.cli")


def add_common_options(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """Add ``--lang`` and ``--verbose`` to ``parser`` (subcommands keep the top-level value unless given)."""
    default = DEFAULT_LANG if top else argparse.SUPPRESS
    if "--lang" not in parser._option_string_actions:
        parser.add_argument("--lang", choices=LANGS, default=default,
                            help="language of messages: ru (default) or en")
    if "--verbose" not in parser._option_string_actions:
        parser.add_argument("--verbose", action="store_true", default=False if top else argparse.SUPPRESS,
                            help="print details of failures (library messages) after the one-line message")


def lang_of(args: argparse.Namespace) -> str:
    """The language of messages for this run."""
    return getattr(args, "lang", None) or DEFAULT_LANG


def fail(args: argparse.Namespace, command: str, message: str, exc: BaseException | None = None,
         status: int = 2) -> int:
    """Print ``mock-remd COMMAND: message`` (plus the details of ``exc`` with --verbose); return ``status``."""
    print(f"mock-remd {command}: {message}", file=sys.stderr)
    if exc is not None:
        log.debug("%s: %s", command, message, exc_info=exc)
        if getattr(args, "verbose", False):
            print(f"  {type(exc).__name__}: {exc}", file=sys.stderr)
            cause = exc.__cause__ or exc.__context__
            if cause is not None:
                print(f"  {type(cause).__name__}: {cause}", file=sys.stderr)
    return status
