"""A guard against reaching the real registry (ЕГИСЗ, ЕМИАС МО) from a test run.

While :class:`RealHostGuard` is installed, resolving or connecting to a host of the real federal or
regional infrastructure raises :class:`RealRegistryAccessError` and the attempt is recorded, so that
the pytest plugin can fail the test even when the MIS code swallowed the error. Resolution is where
nearly every client (``requests``, ``urllib``, ``http.client``, ``zeep``, ``asyncio``) ends up, so
``socket.getaddrinfo`` is wrapped, along with ``socket.socket.connect``/``connect_ex`` for a
hostname given directly to a socket.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable
from typing import Any

#: domain suffixes of the real REMD/IPS/ЕМИАС hosts (a name equal to one or ending in ``.<suffix>``)
REAL_REGISTRY_DOMAINS: tuple[str, ...] = (
    "rosminzdrav.ru",       # ЕГИСЗ: ips.rosminzdrav.ru, ips-test.rosminzdrav.ru, *.egisz.rosminzdrav.ru, nsi
    "rt-eu.ru",             # the federal operator's hosts
    "mosreg.ru",            # ЕМИАС МО: *.emias.mosreg.ru
)

HOW_TO_FIX = (
    "Point the MIS at the mock instead: use the `remd` fixture's remd.url (SOAP endpoint remd.url + "
    "'/port/emdr', WSDL remd.wsdl_url) in the MIS settings under test. To allow real hosts on purpose, mark "
    "the test with @pytest.mark.remd_allow_real_hosts or set `remd_block_real_hosts = false` in the pytest ini."
)


class RealRegistryAccessError(ConnectionRefusedError):
    """A test tried to reach a host of the real registry."""


def is_real_registry_host(host: Any, domains: Iterable[str] = REAL_REGISTRY_DOMAINS) -> bool:
    """True when ``host`` (a name; IP addresses never match) belongs to one of ``domains``."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip().rstrip(".").lower()
    return any(name == d or name.endswith("." + d) for d in domains)


class RealHostGuard:
    """Install with :meth:`install` (or ``with RealHostGuard():``); :attr:`attempts` lists blocked hosts."""

    def __init__(self, domains: Iterable[str] = REAL_REGISTRY_DOMAINS) -> None:
        self.domains = tuple(d.strip().lstrip("*.").lower() for d in domains if d.strip())
        self.attempts: list[str] = []
        self._lock = threading.Lock()
        self._saved: dict[str, Any] | None = None

    def _check(self, host: Any) -> None:
        if is_real_registry_host(host, self.domains):
            name = host.decode() if isinstance(host, bytes) else str(host)
            with self._lock:
                self.attempts.append(name)
            raise RealRegistryAccessError(
                f"mock-remd guard: blocked a connection to the real registry host {name!r}. {HOW_TO_FIX}"
            )

    def install(self) -> RealHostGuard:
        """Wrap the socket functions (idempotent)."""
        if self._saved is not None:
            return self
        saved = {
            "getaddrinfo": socket.getaddrinfo,
            "connect": socket.socket.connect,
            "connect_ex": socket.socket.connect_ex,
        }
        self._saved = saved
        guard = self

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            guard._check(host)
            return saved["getaddrinfo"](host, *args, **kwargs)

        def connect(sock: socket.socket, address: Any) -> Any:
            if isinstance(address, tuple) and address:
                guard._check(address[0])
            return saved["connect"](sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> Any:
            if isinstance(address, tuple) and address:
                guard._check(address[0])
            return saved["connect_ex"](sock, address)

        socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
        socket.socket.connect = connect  # type: ignore[method-assign]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
        return self

    def uninstall(self) -> None:
        """Restore the socket functions."""
        if self._saved is None:
            return
        socket.getaddrinfo = self._saved["getaddrinfo"]  # type: ignore[assignment]
        socket.socket.connect = self._saved["connect"]  # type: ignore[method-assign]
        socket.socket.connect_ex = self._saved["connect_ex"]  # type: ignore[method-assign]
        self._saved = None

    def __enter__(self) -> RealHostGuard:
        return self.install()

    def __exit__(self, *exc: Any) -> None:
        self.uninstall()
