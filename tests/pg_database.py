"""The tests' PostgreSQL: the server named by ``MOCK_REMD_TEST_PG_URL`` (``.ci/run`` starts a throwaway
cluster and sets it) and a fresh database of its own per use, dropped afterwards. Without a reachable
server the tests that need it skip with the reason."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest

PG_URL = os.environ.get("MOCK_REMD_TEST_PG_URL", "")


def pg_admin_url() -> str:
    """The PostgreSQL URL of the tests, or skip."""
    if not PG_URL:
        pytest.skip("no PostgreSQL: set MOCK_REMD_TEST_PG_URL (e.g. postgresql://postgres@127.0.0.1:55432/postgres)")
    try:
        import psycopg
    except ImportError:
        pytest.skip("psycopg is not installed (pip install 'mock-remd[postgres]')")
    try:
        with psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3):
            pass
    except Exception as exc:  # not reachable
        pytest.skip(f"PostgreSQL at {PG_URL} not reachable: {exc}")
    return PG_URL


@contextlib.contextmanager
def fresh_database(prefix: str = "mock_remd_test") -> Iterator[str]:
    """An empty database of its own on the tests' PostgreSQL (or skip), dropped afterwards; yields its URL."""
    import psycopg

    admin = pg_admin_url()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    plain = admin.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def database_url(backend: str, tmp_path, prefix: str = "mock_remd_test") -> Iterator[str]:
    """A store URL for ``backend`` ("sqlite": a file in ``tmp_path``; "postgres": a fresh database)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    with fresh_database(prefix) as url:
        yield url
