"""Which address a mock-remd server can use to reach back to this machine (for result callbacks)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests

LOOPBACK = "127.0.0.1"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses."""
    if host in ("localhost", "localhost.localdomain", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def route_address(host: str, port: int) -> str | None:
    """The local address the kernel would use to reach ``host:port`` (no packet is sent)."""
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)
    except OSError:
        return None
    for family, _, _, _, sockaddr in infos:
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.connect(sockaddr)
                return str(s.getsockname()[0])
        except OSError:
            continue
    return None


def seen_address(base_url: str, timeout: float = 3.0) -> str | None:
    """The client address the server reports in ``GET /ready`` (``client_address``), when it does."""
    try:
        resp = requests.get(base_url.rstrip("/") + "/ready", timeout=timeout)
        value = resp.json().get("client_address")
    except (requests.RequestException, ValueError, AttributeError):
        return None
    return str(value) if value else None


def detect_callback_host(base_url: str) -> str:
    """The host a server at ``base_url`` can call back to.

    A server on a remote host (a CI service called ``remd``, a colleague's machine): the local address
    routing to it. A server on this machine's loopback: the address the server saw the request come
    from when it reports one (a container behind a published port sees the Docker gateway), else
    ``127.0.0.1`` (a server process on this machine).
    """
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if not is_loopback(host):
        return route_address(host, port) or LOOPBACK
    seen = seen_address(base_url)
    if seen and not is_loopback(seen):
        return seen
    return LOOPBACK
