"""``mock-remd`` command line: one module per subcommand (``cmd_<name>.py`` with ``register``)."""

from __future__ import annotations

import argparse
import importlib
import sys

#: subcommand modules, in the order ``--help`` lists them; each has ``register(subparsers)``
COMMANDS = ("serve", "validate", "send", "generate", "sign", "scenarios", "nsi", "wait")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every available subcommand."""
    parser = argparse.ArgumentParser(prog="mock-remd", description="Offline mock of the regional REMD (ЕМИАС МО)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"mock_remd.cli.cmd_{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"mock_remd.cli.cmd_{name}":
                continue
            raise
        module.register(sub)
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
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
