"""pytest plugin of mock-remd (entry point ``pytest11``; CONTRACT §9).

Fixtures:

* ``remd_server`` (session) — a mock-remd in a thread on a free port with an in-memory store and the
  callback sender running; with ``--remd-url URL`` / ``MOCK_REMD_URL`` a running instance instead.
* ``remd`` (each test) — a :class:`~mock_remd.testing.handle.Remd` reset before the test: ``.url``,
  ``.soap_url``, ``.wsdl_url``, ``.admin``, ``.use_scenario()``, ``.register(doc)`` and ``.callbacks``,
  the sink the demo system calls back to, with ``.wait_for(message_id, timeout=10)``.
* ``remd_sink`` (session) — the :class:`~mock_remd.client.sink.CallbackSink` behind ``remd.callbacks``.

Markers: ``@pytest.mark.remd_scenario("name", ...)`` activates scenarios for one test;
``@pytest.mark.remd_allow_real_hosts`` lets one test reach the real ЕГИСЗ/ЕМИАС hosts, which are
otherwise blocked for every test (ini ``remd_block_real_hosts = false`` turns the guard off).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mock_remd.testing.guard import REAL_REGISTRY_DOMAINS, RealHostGuard

_GUARD_KEY = pytest.StashKey[RealHostGuard]()


# ---- options -----------------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mock-remd", "mock-remd (REMD registry mock)")
    group.addoption("--remd-url", default=None, metavar="URL",
                    help="use a running mock-remd at URL (e.g. http://remd:8080) instead of an in-process "
                         "one; env MOCK_REMD_URL")
    group.addoption("--remd-callback-host", default=None, metavar="HOST",
                    help="with --remd-url: the address of this machine the server can call back to "
                         "(default: detected; env MOCK_REMD_CALLBACK_HOST)")
    group.addoption("--remd-callback-port", default=None, type=int, metavar="PORT",
                    help="port of the callback sink (default: a free one; env MOCK_REMD_CALLBACK_PORT)")
    group.addoption("--remd-ready-timeout", default=None, type=float, metavar="SECONDS",
                    help="with --remd-url: how long to wait for URL/ready at the start (default 60; "
                         "env MOCK_REMD_READY_TIMEOUT)")
    group.addoption("--remd-admin-token", default=None, metavar="TOKEN",
                    help="bearer token of the admin API (env MOCK_REMD_ADMIN_TOKEN)")
    parser.addini("remd_block_real_hosts", type="bool", default=True,
                  help="fail tests that try to reach the real ЕГИСЗ/ЕМИАС hosts (default true)")
    parser.addini("remd_blocked_hosts", type="linelist", default=[],
                  help="more domain suffixes the guard blocks, one per line")
    parser.addini("remd_settings", type="linelist", default=[],
                  help="settings of the in-process server, one key=value per line (e.g. signatures=off)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "remd_scenario(*names): activate mock-remd scenarios for this test")
    config.addinivalue_line("markers",
                            "remd_allow_real_hosts: let this test connect to the real ЕГИСЗ/ЕМИАС hosts")
    # spyne (under mock-remd's SOAP layer) imports the stdlib cgi module; its deprecation warning is
    # about our dependency, not the user's code, and must not show in the user's test runs
    config.addinivalue_line("filterwarnings", "ignore:'cgi' is deprecated:DeprecationWarning")
    config.addinivalue_line("filterwarnings", "ignore:_SixMetaPathImporter:ImportWarning")


def _option(config: pytest.Config, name: str, env: str) -> Any:
    value = config.getoption(name)
    if value is None:
        from mock_remd.config import environment_value  # lazily: the plugin loads in every pytest run

        value = environment_value(env)
    return value


# ---- the real-host guard -----------------------------------------------------------------------
def _guard_wanted(item: pytest.Item) -> bool:
    return bool(item.config.getini("remd_block_real_hosts")) and item.get_closest_marker("remd_allow_real_hosts") is None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[Any]:
    if not _guard_wanted(item):
        return (yield)
    domains = list(REAL_REGISTRY_DOMAINS) + list(item.config.getini("remd_blocked_hosts"))
    guard = RealHostGuard(domains).install()
    item.stash[_GUARD_KEY] = guard
    try:
        return (yield)
    finally:
        guard.uninstall()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[Any]:
    guard = item.stash.get(_GUARD_KEY, None)
    result = yield
    if guard is not None and guard.attempts:
        hosts = ", ".join(sorted(set(guard.attempts)))
        from mock_remd.testing.guard import HOW_TO_FIX

        pytest.fail(f"the test tried to reach the real registry ({hosts}). {HOW_TO_FIX}", pytrace=False)
    return result


# ---- fixtures ----------------------------------------------------------------------------------
def _server_overrides(config: pytest.Config) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for line in config.getini("remd_settings"):
        if "=" not in line:
            raise pytest.UsageError(f"remd_settings: expected key=value, got {line!r}")
        key, value = line.split("=", 1)
        out[key.strip()] = value.strip()
    return out


@pytest.fixture(scope="session")
def remd_sink(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The callback sink of the session (bound to 0.0.0.0 when the server is external)."""
    from mock_remd.client.sink import CallbackSink

    external = _option(request.config, "--remd-url", "MOCK_REMD_URL")
    port = _option(request.config, "--remd-callback-port", "MOCK_REMD_CALLBACK_PORT")
    sink = CallbackSink(host="0.0.0.0" if external else "127.0.0.1", port=int(port or 0)).start()
    yield sink
    sink.stop()


class ExternalServer:
    """A mock-remd that runs elsewhere (``--remd-url``)."""

    internal = False

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.settings = None

    def stop(self) -> None:
        """Nothing to stop: the server is not ours."""


@pytest.fixture(scope="session")
def remd_server(request: pytest.FixtureRequest, remd_sink: Any) -> Iterator[Any]:
    """The mock-remd of the session: in-process (``ThreadedServer``) or external (``--remd-url``)."""
    config = request.config
    external = _option(config, "--remd-url", "MOCK_REMD_URL")
    if external:
        from mock_remd.cli.cmd_wait import wait_ready

        timeout = float(_option(config, "--remd-ready-timeout", "MOCK_REMD_READY_TIMEOUT") or 60.0)
        ok, last = wait_ready(external, timeout, lang="en")
        if not ok:
            pytest.fail(f"mock-remd at {external} is not ready after {timeout:g} s ({last})", pytrace=False)
        server: Any = ExternalServer(external)
        yield server
        return
    from mock_remd.config import ConfigError, Settings
    from mock_remd.core.systems import DEMO_SYSTEM
    from mock_remd.server.threaded import ThreadedServer

    overrides = {**_server_overrides(config), "db_url": "sqlite://", "port": 0, "host": "127.0.0.1"}
    try:
        settings = Settings.load(overrides)
        if not settings.systems:
            settings.systems = [{**DEMO_SYSTEM, "callback_url": remd_sink.url, "document_url": remd_sink.document_url}]
        settings.check()
    except ConfigError as exc:
        raise pytest.UsageError(f"mock-remd: {exc.text('en')}") from exc
    server = ThreadedServer(settings).start()
    server.internal = True
    yield server
    server.stop()


@pytest.fixture
def remd(request: pytest.FixtureRequest, remd_server: Any, remd_sink: Any) -> Any:
    """A clean mock-remd for this test (see the module docstring)."""
    from mock_remd.client.admin_client import AdminClient
    from mock_remd.testing.handle import CallbackInbox, Remd

    config = request.config
    token = _option(config, "--remd-admin-token", "MOCK_REMD_ADMIN_TOKEN")
    if token is None and remd_server.settings is not None:
        token = remd_server.settings.admin_token or None
    admin = AdminClient(remd_server.url, token)
    if remd_server.internal:
        url = remd_sink.url
    else:
        host = _option(config, "--remd-callback-host", "MOCK_REMD_CALLBACK_HOST") or _detected_host(config, remd_server.url)
        url = f"http://{host}:{remd_sink.port}{remd_sink.path}"
    handle = Remd(remd_server.url, CallbackInbox(remd_sink, url, admin), admin=admin, internal=remd_server.internal)
    handle.reset()
    marker = request.node.get_closest_marker("remd_scenario")
    if marker is not None and marker.args:
        handle.use_scenario(*marker.args, system=marker.kwargs.get("system"))
    return handle


_DETECTED = pytest.StashKey[str]()


def _detected_host(config: pytest.Config, url: str) -> str:
    if _DETECTED not in config.stash:
        from mock_remd.client.network import detect_callback_host

        config.stash[_DETECTED] = detect_callback_host(url)
    return config.stash[_DETECTED]
