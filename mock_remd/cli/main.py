"""``mock-remd`` command line: one module per subcommand (``cmd_<name>.py`` with ``register``)."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from mock_remd.catalog.incidents import INCIDENT_LOGGER, record_incident
from mock_remd.catalog.user_messages import DEFAULT_LANG, say
from mock_remd.cli.common import add_common_options, lang_of
from mock_remd.cli.help_texts import CliParser, lang_of_argv, localize
from mock_remd.config import register_gost_backends

#: subcommand modules, in the order ``--help`` lists them; each has ``register(subparsers)``
COMMANDS = ("serve", "validate", "send", "generate", "sign", "scenarios", "nsi", "packs", "wait", "conformance")


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


def build_parser(lang: str = DEFAULT_LANG) -> argparse.ArgumentParser:
    """The top-level parser with every available subcommand, its help in ``lang`` (ru or en)."""
    parser = CliParser(prog="mock-remd", description="Offline mock of the regional REMD of EMIAS (Moscow region): "
                                     "the registerDocument endpoint, callbacks, validation, scenarios")
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
    localize(parser, lang)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser(lang_of_argv(sys.argv[1:] if argv is None else argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad options, 0 on --help
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    register_gost_backends()  # process-wide: the commands that build settings register them again
    if args.verbose and not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # the server logs incidents to its own log; a command keeps them (and their tracebacks) off the terminal
    with contextlib.ExitStack() as stack:
        if args.command != "serve":
            stack.enter_context(incidents_to_file())
        try:
            return int(args.func(args) or 0)
        except KeyboardInterrupt:
            return 130
        except BrokenPipeError:  # the reader went away (``| head``): stop quietly, as cat and grep do
            _drop_stdout()
            return 141
        except Exception:  # a bug of ours: one sentence and the incident id, the traceback goes to the log file
            incident = record_incident(f"mock-remd {args.command}")
            print(f"mock-remd {args.command}: " + say(lang_of(args), "cli.internal", id=incident.id,
                                                       log=_incident_log_path() or "-"), file=sys.stderr)
            return 2


_INCIDENT_LOG = "incidents.log"


def _drop_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush does not fail on the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a file descriptor (captured in tests): nothing to flush
        pass
    finally:
        os.close(devnull)


def _incident_log_path() -> str:
    handler = next((h for h in logging.getLogger(INCIDENT_LOGGER).handlers if isinstance(h, logging.FileHandler)), None)
    return handler.baseFilename if handler is not None else ""


class _LazyFileHandler(logging.FileHandler):
    """A file handler that creates its folder (else falls back to the temp folder) only when a record comes."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, encoding="utf-8", delay=True)

    def _open(self):  # type: ignore[override]
        try:
            Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
            return super()._open()
        except OSError:
            self.baseFilename = str(Path(tempfile.gettempdir()) / _INCIDENT_LOG)
            return super()._open()


@contextlib.contextmanager
def incidents_to_file() -> Iterator[None]:
    """While a command runs, incident records (with tracebacks) go to ``.mock-remd/incidents.log`` (or the
    temp folder) instead of the terminal; the logger is restored afterwards."""
    logger = logging.getLogger(INCIDENT_LOGGER)
    handler = _LazyFileHandler(Path(".mock-remd") / _INCIDENT_LOG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
        handler.close()


if __name__ == "__main__":
    sys.exit(main())
