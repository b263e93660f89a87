"""A running mock plus a callback sink for the scenario tests, and raw-socket helpers.

One server per test module (starting and stopping a server costs ~0.6 s); each test gets it
reset to a clean state (``POST /_admin/reset?all=true``: journal, registry, deliveries, systems,
scenarios and active sets, the library reloaded from ``scenarios/``).
"""

from __future__ import annotations

import contextlib
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import requests
from conftest import start_server
from remd_requests import DEMO_CLIENT, DEMO_ORG, register_request

from mock_remd.client.sink import CallbackSink
from mock_remd.domain.model import RegisterRequest
from mock_remd.server.threaded import ThreadedServer
from mock_remd.soap.builders import content_type, get_item_envelope, register_envelope, search_envelope
from mock_remd.testing.handle import Remd

ALPHA_CLIENT = "00000000-0000-4000-8000-00000000a1fa"
ALPHA_ORG = "1.2.643.5.1.13.13.12.2.50.11111"
BETA_CLIENT = "00000000-0000-4000-8000-00000000be7a"
BETA_ORG = "1.2.643.5.1.13.13.12.2.50.22222"


def systems_for(sink: CallbackSink) -> list[dict[str, Any]]:
    """demo, alpha and beta, all calling back to ``sink``."""
    return [
        {"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": sink.url, "organizations": [DEMO_ORG]},
        {"mnemonic": "alpha", "client_entity_id": ALPHA_CLIENT, "callback_url": sink.url, "organizations": [ALPHA_ORG]},
        {"mnemonic": "beta", "client_entity_id": BETA_CLIENT, "callback_url": sink.url, "organizations": [BETA_ORG]},
    ]


def wait_until(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``check`` (another thread/process does the work) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)  # polling the admin API of a server doing the work in other threads


class Harness(Remd):
    """The mock under test (``mock_remd.testing.Remd``: admin client, callback inbox, reset) plus what the
    scenario tests need beyond it: the raw HTTP answers (status codes, dropped connections, 400 details)."""

    def __init__(self, server: ThreadedServer, sink: CallbackSink) -> None:
        super().__init__(server.url, sink, internal=True)
        self.server = server
        self.sink = sink
        self.http = self.admin.session

    # ---- admin ---------------------------------------------------------------------------------
    def api(self, method: str, path: str, **kw: Any) -> requests.Response:
        """One raw admin API request (``path`` below ``/_admin``), for tests that look at the status."""
        return self.http.request(method, self.url + "/_admin" + path, timeout=10, **kw)

    def upload(self, text: str, ctype: str = "application/yaml") -> requests.Response:
        return self.api("POST", "/scenarios", data=text.encode(), headers={"Content-Type": ctype})

    def activate(self, *names: str, system: str = "") -> dict[str, Any]:
        return self.admin.use_scenario(list(names), system=system or None)

    def use(self, text: str, system: str = "") -> str:
        """Upload a scenario and make it the active set; returns its name."""
        name = self.admin.upload_scenario(text)["name"]
        self.activate(name, system=system)
        return name

    def journal(self, message_id: str, explain: bool = False) -> dict[str, Any]:
        items = self.admin.call("GET", "requests", params={"message_id": message_id,
                                                           "explain": "true" if explain else None})["items"]
        assert items, f"no journal entry for {message_id}"
        return items[0]

    def deliveries(self, relates_to: str = "", **params: str) -> list[dict[str, Any]]:
        return self.admin.call("GET", "callbacks", params={"relates_to": relates_to, **params})["items"]

    def flush(self) -> int:
        return self.admin.flush()["released"]

    def processed(self, local_uid: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait until the document left ``pending`` (its callbacks, if any, are queued by then)."""
        return wait_until(lambda: (d := self.document(local_uid)) and d["status"] != "pending" and d,
                          timeout, f"processing of {local_uid}")

    # ---- SOAP (the raw answers; Remd.register/post parse them) -------------------------------------
    def send(self, req: RegisterRequest | None = None, *, timeout: float = 15.0, version: str = "1.2",
             **overrides: Any) -> tuple[requests.Response, RegisterRequest]:
        """POST a registerDocument (a valid demo request unless given); the raw answer and the request."""
        req = req or register_request(**overrides)
        return self._soap(register_envelope(req, version=version), version, timeout), req

    def search(self, criteria: dict[str, str] | None = None, client: str = DEMO_CLIENT) -> requests.Response:
        return self._soap(search_envelope(criteria or {}, client_entity_id=client))

    def get_item(self, emdr_id: str, client: str = DEMO_CLIENT) -> requests.Response:
        return self._soap(get_item_envelope(emdr_id, client_entity_id=client))

    def _soap(self, envelope: bytes, version: str = "1.2", timeout: float = 15.0) -> requests.Response:
        return self.http.post(self.soap_url, data=envelope, headers={"Content-Type": content_type(version)},
                              timeout=timeout)


def request_for(system: str, **overrides: Any) -> RegisterRequest:
    """A valid request of the demo, alpha or beta system."""
    client, org = {"demo": (DEMO_CLIENT, DEMO_ORG), "alpha": (ALPHA_CLIENT, ALPHA_ORG),
                   "beta": (BETA_CLIENT, BETA_ORG)}[system]
    return register_request(client_entity_id=client, organization=org, system=system, **overrides)


@contextlib.contextmanager
def running_mock(**settings: Any) -> Iterator[Harness]:
    """A ThreadedServer (pure protocol mock: validation off) and a sink, for one test module."""
    sink = CallbackSink().start()
    server = start_server(systems_for(sink), **settings)
    try:
        yield Harness(server, sink)
    finally:
        server.stop()
        sink.stop()


# ---- raw sockets -----------------------------------------------------------------------------------
def raw_register(host: str, port: int, req: RegisterRequest, timeout: float = 10.0) -> tuple[bytes, str]:
    """Send one registerDocument over a plain socket and read until the server closes.

    Returns (bytes received, how it ended: ``eof`` or ``reset``).
    """
    body = register_envelope(req)
    head = (
        f"POST /port/emdr HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {content_type('1.2')}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    received = b""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(head + body)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return received, "eof"
                received += chunk
        except ConnectionResetError:
            return received, "reset"


def new_message_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"
