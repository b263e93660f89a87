"""``mock-remd serve``: run the server (gunicorn, several workers)."""

from __future__ import annotations

import argparse
import sys

from mock_remd.config import ConfigError, Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the REMD mock server", description="Run the REMD mock server.")
    p.add_argument("--host", help="address to listen on (MOCK_REMD_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (MOCK_REMD_PORT, default 8080)")
    p.add_argument("--config", help="YAML config file (MOCK_REMD_CONFIG)")
    p.add_argument("--db", dest="db_url", help="database URL (MOCK_REMD_DB_URL): sqlite:///file, sqlite://, postgresql://")
    p.add_argument("--scenarios", dest="scenarios_dir", help="scenario directory (MOCK_REMD_SCENARIOS_DIR)")
    p.add_argument("--packs", dest="packs_dir", help="official validation packs (MOCK_REMD_PACKS_DIR)")
    p.add_argument("--nsi", dest="nsi_dir", help="imported dictionaries (MOCK_REMD_NSI_DIR)")
    p.add_argument("--workers", type=int, help="worker processes (MOCK_REMD_WORKERS, default 2)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    overrides = {k: getattr(args, k) for k in ("host", "port", "config", "db_url", "scenarios_dir", "packs_dir",
                                               "nsi_dir", "workers")}
    try:
        settings = Settings.load(overrides)
        settings.check()
    except ConfigError as exc:
        print(f"mock-remd: {exc}", file=sys.stderr)
        return 2
    from mock_remd.server.gunicorn_app import serve

    return serve(settings)
