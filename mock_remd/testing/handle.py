"""The objects the pytest fixtures hand out: :class:`Remd` (one mock-remd) and :class:`CallbackInbox`.

They work without pytest too: ``Remd(url, sink=CallbackSink().start())`` drives any running server.
"""

from __future__ import annotations

from typing import Any

import requests

from mock_remd.catalog.user_messages import network_failure
from mock_remd.client.admin_client import AdminClient, AdminError
from mock_remd.client.answers import SyncAnswer, post_envelope
from mock_remd.client.sink import CallbackResult, CallbackSink, CallbackTimeout
from mock_remd.domain.model import RegisterRequest, normalize_message_id
from mock_remd.soap.builders import register_envelope

DEMO_SYSTEM = "demo"
DEMO_CLIENT_ENTITY_ID = "00000000-0000-4000-8000-000000000001"
DEMO_ORGANIZATION = "1.2.643.5.1.13.13.12.2.50.99999"


class RegisterRejected(AssertionError):
    """``Remd.register`` got a synchronous error (or a Fault) where acceptance was expected."""

    def __init__(self, answer: SyncAnswer) -> None:
        self.answer = answer
        super().__init__(f"registerDocument was not accepted: {answer.describe()}")


class CallbackInbox:
    """The callbacks the mock sent to a :class:`CallbackSink`, as seen from the system under test.

    ``url`` is the address the mock calls (it may differ from where the sink listens, e.g. a sink
    bound to 0.0.0.0 announced as the CI job's address).
    """

    def __init__(self, sink: CallbackSink, url: str | None = None, admin: AdminClient | None = None) -> None:
        self.sink = sink
        self.url = url or sink.url
        self.admin = admin

    @property
    def results(self) -> list[CallbackResult]:
        """Every callback received (acknowledged with 2xx) so far, oldest first."""
        return list(self.sink.results)

    def clear(self) -> None:
        """Forget what was received."""
        self.sink.clear()

    def wait_for(self, message_id: str, timeout: float = 10.0) -> CallbackResult:
        """The parsed ``registerDocumentResult`` answering ``message_id`` (``status``, ``emdr_id``,
        ``errors`` [{code, message}], ``relates_to``, ``raw``); ``TimeoutError`` naming what the mock
        tried when none arrived within ``timeout`` seconds."""
        try:
            return self.sink.wait_for(message_id, timeout)
        except CallbackTimeout as exc:
            raise TimeoutError(f"{exc.sentence}. {self._delivery_hint(message_id)}") from None

    def wait_count(self, n: int, timeout: float = 10.0) -> list[CallbackResult]:
        """Wait until ``n`` callbacks arrived; returns them all."""
        return self.sink.wait_count(n, timeout)

    def _delivery_hint(self, message_id: str) -> str:
        if self.admin is None:
            return ""
        try:
            deliveries = self.admin.callbacks(relates_to=normalize_message_id(message_id))
            journal = self.admin.requests(message_id=normalize_message_id(message_id))
        except requests.RequestException as exc:  # one sentence naming the address, never the library's words
            return f"(admin API not reachable to explain: {network_failure('en', exc, self.admin.base_url)})"
        except AdminError as exc:
            return f"(admin API refused to explain: {exc.sentence})"
        if not journal:
            return "The mock has no request with this MessageID in its journal."
        entry = journal[0]
        if entry.get("sync_status") != "success":
            return f"The request was answered synchronously with {entry.get('sync_status')}: {entry.get('errors')}."
        if not deliveries:
            return "The mock has not queued a callback for it yet (still processing, or a scenario skips it)."
        d = deliveries[0]
        attempts = d.get("attempts") or []
        last = attempts[-1] if attempts else {}
        return (f"Delivery {d.get('id')} to {d.get('url')} is {d.get('status')} after {len(attempts)} attempt(s)"
                + (f"; last: HTTP {last.get('http_status')} {last.get('error') or ''}".rstrip() if last else "")
                + f". The sink listens at {self.url}.")


class Remd:
    """One mock-remd instance under test: addresses, admin client, callback inbox, helpers."""

    def __init__(self, url: str, callbacks: CallbackInbox | CallbackSink, *, admin: AdminClient | None = None,
                 system: str = DEMO_SYSTEM, internal: bool = False) -> None:
        self.url = url.rstrip("/")
        self.admin = admin or AdminClient(self.url)
        self.callbacks = callbacks if isinstance(callbacks, CallbackInbox) else CallbackInbox(callbacks, admin=self.admin)
        self.system = system
        #: True when the server runs in this process (pytest's ``remd_server``), False for ``--remd-url``
        self.internal = internal
        self._http = requests.Session()
        self._http.trust_env = False

    # ---- addresses -----------------------------------------------------------------------------
    @property
    def soap_url(self) -> str:
        """The REMD SOAP endpoint (``POST``)."""
        return self.url + "/port/emdr"

    @property
    def wsdl_url(self) -> str:
        """The WSDL, consumable by zeep."""
        return self.soap_url + "?wsdl"

    @property
    def client_entity_id(self) -> str:
        """clientEntityId of the demo system."""
        return DEMO_CLIENT_ENTITY_ID

    @property
    def organization(self) -> str:
        """OID of the demo system's organisation."""
        return DEMO_ORGANIZATION

    # ---- state ---------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to a clean registry: journal, registry, deliveries, active scenarios, received callbacks.

        In-process server: also systems (re-seeded from its settings). External server: systems stay,
        the demo system's callback is pointed at :attr:`callbacks`.
        """
        self.admin.reset(all=self.internal)
        if not self.internal:
            try:
                self.admin.clear_scenarios()
            except AdminError as exc:
                if exc.status not in (404, 501):
                    raise
            self.point_callbacks(self.system)
        self.callbacks.clear()

    def point_callbacks(self, mnemonic: str = DEMO_SYSTEM) -> None:
        """Send ``mnemonic``'s result callbacks to :attr:`callbacks` (no-op when there is no such system)."""
        current = self.admin.system(mnemonic)
        if current is not None and current.get("callback_url") != self.callbacks.url:
            self.admin.put_system(mnemonic, current, callback_url=self.callbacks.url)

    def use_scenario(self, *names: str, system: str | None = None) -> Any:
        """Activate scenarios by name for this test (the next reset deactivates them)."""
        flat: list[str] = []
        for n in names:
            flat.extend([n] if isinstance(n, str) else list(n))
        return self.admin.use_scenario(flat, system=system)

    # ---- sending -------------------------------------------------------------------------------
    def post(self, envelope: bytes, version: str = "1.2") -> SyncAnswer:
        """POST a SOAP envelope to the endpoint; the parsed synchronous answer."""
        return post_envelope(self.soap_url, envelope, version=version, session=self._http)

    def register(self, doc: Any, *, version: str = "1.2", check: bool = True) -> str:
        """Send a generated document (``generate(...)``), a :class:`RegisterRequest` or a ready envelope
        (bytes) and return its MessageID, to pass to ``callbacks.wait_for``.

        With ``check`` (default) a synchronous error raises :class:`RegisterRejected`.
        """
        request: RegisterRequest | None = getattr(doc, "request", None)
        if isinstance(doc, RegisterRequest):
            request = doc
        if isinstance(doc, bytes):
            envelope, message_id = doc, _message_id_of(doc)
        elif request is not None:
            message_id = request.message_id or _new_message_id()
            envelope = register_envelope(request, version=version, message_id=message_id)
        else:
            raise TypeError(f"register() takes a generated document, a RegisterRequest or bytes, not {type(doc)!r}")
        answer = self.post(envelope, version)
        if check and not answer.accepted:
            raise RegisterRejected(answer)
        return normalize_message_id(message_id)

    def document(self, local_uid: str) -> dict[str, Any] | None:
        """The registry entry of ``local_uid`` (status, emdr_id, errors, layers), or None."""
        return self.admin.document(local_uid)


def _new_message_id() -> str:
    import uuid

    return str(uuid.uuid4())


def _message_id_of(envelope: bytes) -> str:
    from mock_remd.xmlsafe import local_name, parse_bytes

    root = parse_bytes(envelope, max_bytes=64 * 1024 * 1024)
    for el in root.iter():
        if isinstance(el.tag, str) and local_name(el) == "MessageID":
            return (el.text or "").strip()
    return ""
