"""``mock-remd`` command line: one module per subcommand (``cmd_<name>.py`` with ``register``)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from mock_remd.catalog.incidents import INCIDENT_LOGGER, record_incident
from mock_remd.cli.common import add_common_options

#: subcommand modules, in the order ``--help`` lists them; each has ``register(subparsers)``
COMMANDS = ("serve", "validate", "send", "generate", "sign", "scenarios", "nsi", "wait")


def _version() -> str:
    try:
        return metadata.version("mock-remd")
    except metadata.PackageNotFoundError:
        return "unknown"


def _add_common_everywhere(parser: argparse.ArgumentParser) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                add_common_options(child)
                _add_common_everywhere(child)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every available subcommand."""
    parser = argparse.ArgumentParser(prog="mock-remd", description="Offline mock of the regional REMD (ЕМИАС МО)")
    parser.add_argument("--version", action="version", version=f"mock-remd {_version()}", help="print the version and exit")
    add_common_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", help="one of")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"mock_remd.cli.cmd_{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"mock_remd.cli.cmd_{name}":
                continue
            raise
        module.register(sub)
    _add_common_everywhere(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad options, 0 on --help
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if args.verbose and not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command != "serve":  # the server logs incidents to its own log; a command keeps them off the terminal
        route_incidents_to_file()
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception:  # a bug of ours: one sentence and the incident id, the traceback goes to the log file
        incident = record_incident(f"mock-remd {args.command}")
        print(f"mock-remd {args.command}: внутренняя ошибка (инцидент {incident.id}); "
              f"подробности в {_incident_log_path() or 'журнале'}", file=sys.stderr)
        return 2


_INCIDENT_LOG = "incidents.log"


def _incident_log_path() -> str:
    handler = next((h for h in logging.getLogger(INCIDENT_LOGGER).handlers if isinstance(h, logging.FileHandler)), None)
    return handler.baseFilename if handler is not None else ""


def route_incidents_to_file() -> None:
    """Send incident records (with tracebacks) to ``.mock-remd/incidents.log`` (or the temp folder), not stderr."""
    logger = logging.getLogger(INCIDENT_LOGGER)
    if any(isinstance(h, logging.FileHandler) for h in logger.handlers):
        return
    for folder in (Path(".mock-remd"), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(folder / _INCIDENT_LOG, encoding="utf-8", delay=False)
        except OSError:
            continue
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
        return
    logger.addHandler(logging.NullHandler())
    logger.propagate = False


if __name__ == "__main__":
    sys.exit(main())
