"""``mock-remd serve``: run the server (gunicorn, several workers)."""

from __future__ import annotations

import argparse

from mock_remd.catalog.user_messages import database_failure, say
from mock_remd.cli.common import fail, lang_of
from mock_remd.config import ConfigError, Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the REMD mock server", description="Run the REMD mock server.")
    p.add_argument("--host", help="address to listen on (MOCK_REMD_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (MOCK_REMD_PORT, default 8080)")
    p.add_argument("--config", help="YAML config file (MOCK_REMD_CONFIG)")
    p.add_argument("--db", dest="db_url", help="database URL (MOCK_REMD_DB_URL): sqlite:///file, sqlite://, postgresql://")
    p.add_argument("--scenarios", dest="scenarios_dir", help="scenario directory (MOCK_REMD_SCENARIOS_DIR)")
    p.add_argument("--packs", dest="packs_dir", help="official validation packs (MOCK_REMD_PACKS_DIR, else .mock-remd/packs when present)")
    p.add_argument("--nsi", dest="nsi_dir", help="imported dictionaries (MOCK_REMD_NSI_DIR, else .mock-remd/nsi when present)")
    p.add_argument("--workers", type=int, help="HTTP worker processes sharing the port (MOCK_REMD_WORKERS, default 1)")
    p.set_defaults(func=run)


#: setting -> the option that sets it (messages name what the user typed)
OPTIONS = {"host": "--host", "port": "--port", "config": "--config", "db_url": "--db",
           "scenarios_dir": "--scenarios", "packs_dir": "--packs", "nsi_dir": "--nsi", "workers": "--workers"}


def run(args: argparse.Namespace) -> int:
    """Start the server; exit status 2 with one sentence when it cannot start."""
    lang = lang_of(args)
    overrides = {k: getattr(args, k) for k in OPTIONS}
    try:
        settings = Settings.load(overrides, options=OPTIONS)
        settings.check()
    except ConfigError as exc:
        return fail(args, "serve", exc.text(lang))
    from mock_remd.server.gunicorn_app import ServeError, serve

    try:
        serve(settings, verbose=bool(getattr(args, "verbose", False)))  # on success this process becomes gunicorn
    except ServeError as exc:
        values = dict(exc.values)
        cause = values.pop("exc", None) or exc.__cause__
        if exc.key == "serve.db_unreachable":
            values["reason"] = database_failure(lang, cause)
        return fail(args, "serve", say(lang, exc.key, **values), exc=cause)
