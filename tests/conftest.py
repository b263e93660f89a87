"""Shared test fixtures: where the official material lives (``../shared``), skipping when absent."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MOCK_REMD_SHARED_DIR", ROOT.parent / "shared"))


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"official material not found at {path} (set MOCK_REMD_SHARED_DIR to the shared/ folder)")
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return _need(SHARED)


@pytest.fixture(scope="session")
def packs_dir() -> Path:
    return _need(SHARED / "packs")


@pytest.fixture(scope="session")
def published_packs_dir() -> Path:
    """The 95 packs republished by the 1C SEMD validator (``<kind>/``, variants ``<kind>_1``)."""
    return _need(SHARED / "packs-published")


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return _need(SHARED / "examples")


@pytest.fixture(scope="session")
def nsi_export_dir() -> Path:
    return _need(SHARED / "data" / "nsi")


@pytest.fixture(scope="session")
def valid_119_bytes(examples_dir: Path) -> bytes:
    return (examples_dir / "consultation-119-valid.xml").read_bytes()


# ---- servers and sinks -------------------------------------------------------------------------
DEMO_CLIENT = "00000000-0000-4000-8000-000000000001"
DEMO_ORG = "1.2.643.5.1.13.13.12.2.50.99999"


@pytest.fixture
def sink():
    """A real HTTP callback receiver on a free port."""
    from mock_remd.client.sink import CallbackSink

    s = CallbackSink().start()
    yield s
    s.stop()


def start_server(systems: list[dict], **overrides):
    """The tests' in-process server (``ThreadedServer`` on a free port, in-memory SQLite, validation and
    signatures off, fast retries) with ``systems``; ``overrides`` are settings. Started; the caller stops it."""
    from mock_remd.config import Settings
    from mock_remd.server.threaded import ThreadedServer

    values = {"db_url": "sqlite://", "port": 0, "validation": "none", "signatures": "off",
              "callback_backoff": "0.05,0.05,0.05", "systems": systems, **overrides}
    return ThreadedServer(Settings.load(values, environ={})).start()


@pytest.fixture
def make_server(sink):
    """Factory: a server (:func:`start_server`) whose demo system calls back to ``sink``; stopped after the test."""
    started = []

    def factory(**overrides):
        systems = overrides.pop(
            "systems",
            [{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": sink.url,
              "document_url": sink.document_url, "organizations": [DEMO_ORG]}],
        )
        srv = start_server(systems, **overrides)
        started.append(srv)
        return srv

    yield factory
    for srv in started:
        srv.stop()


@contextlib.contextmanager
def unbound_app(**overrides):
    """The whole WSGI app of a server that is never bound (no socket, no background loops), for answers
    that need neither: ``app.admin.test_client()`` (Flask) for the admin API, ``werkzeug.test.Client(app)``
    for the SOAP endpoint. ``overrides`` are settings."""
    from mock_remd.config import Settings
    from mock_remd.server.threaded import ThreadedServer

    srv = ThreadedServer(Settings.load({"db_url": "sqlite://", "port": 0, **overrides}, environ={}), background=False)
    try:
        yield srv.app
    finally:
        srv.runtime.stop()


@pytest.fixture
def make_app():
    """Factory: :func:`unbound_app` for one test."""
    with contextlib.ExitStack() as stack:
        yield lambda **overrides: stack.enter_context(unbound_app(**overrides))


@pytest.fixture(scope="module")
def scenario_server():
    """One in-process server driven by tests/scenario_harness.py, per test module."""
    from scenario_harness import running_mock

    with running_mock() as h:
        yield h


@pytest.fixture
def mock(scenario_server):
    """The module's scenario server, reset to a clean registry before each test."""
    scenario_server.reset()
    return scenario_server


# ---- a PKI made by OpenSSL's GOST engine (another toolchain than ours) ------------------------------
@pytest.fixture(scope="session")
def openssl_pki(tmp_path_factory):
    """CAs, doctors and organisations issued by ``openssl req``/``ca`` (see tests/_openssl_pki.py), once per run."""
    from _openssl_pki import build, gost_engine_available

    if not gost_engine_available():
        pytest.skip("openssl with the GOST engine is not available (Debian package libengine-gost-openssl)")
    return build(tmp_path_factory.mktemp("openssl-pki"))


# ---- slow tests (soak, the full trials of a probe) ---------------------------------------------
def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run the tests marked slow (make slow, make soak; MOCK_REMD_RUN_SLOW=1 does the same)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow") or os.environ.get("MOCK_REMD_RUN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow (make slow, make soak)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
