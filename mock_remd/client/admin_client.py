"""A small client for the admin API (CONTRACT §6), for tests, CI scripts and ``mock-remd send``.

>>> admin = AdminClient("http://127.0.0.1:8080")          # doctest: +SKIP
>>> admin.reset()                                          # doctest: +SKIP
>>> admin.document("7af4fc62-3d0d-44e8-97ab-fe380ed68e6e")["status"]   # doctest: +SKIP
'registered'

Every method raises :class:`AdminError` for a 4xx/5xx answer (with the server's ``error`` and
``detail``) and ``requests.RequestException`` when the server cannot be reached.
"""

from __future__ import annotations

import json
from typing import Any

import requests

#: the keys a system definition may carry (CONTRACT §4); the server adds others when it answers
SYSTEM_KEYS = (
    "mnemonic", "client_entity_id", "callback_url", "document_url", "organizations", "enabled",
    "send_to_fremd", "require_system", "callback_soap_version",
)


class AdminError(RuntimeError):
    """The admin API answered with an error status."""

    def __init__(self, status: int, error: str, detail: Any = None, url: str = "") -> None:
        self.status = status
        self.error = error
        self.detail = detail
        self.url = url
        text = f"HTTP {status} from {url}: {self.error}" if url else f"HTTP {status}: {self.error}"
        if detail not in (None, ""):
            text += f" ({detail})"
        #: one sentence: the status, the address and the server's own error sentence (and its detail)
        self.sentence = text
        super().__init__(text)


def system_body(system: dict[str, Any]) -> dict[str, Any]:
    """``system`` reduced to the keys ``PUT /_admin/systems/{mnemonic}`` accepts."""
    return {k: v for k, v in system.items() if k in SYSTEM_KEYS}


class AdminClient:
    """The admin API of the mock at ``base_url`` (``http://127.0.0.1:8080``)."""

    def __init__(self, base_url: str, token: str | None = None, *, timeout: float = 10.0,
                 session: requests.Session | None = None, lang: str = "") -> None:
        """``lang`` (ru/en) asks the mock for its messages in that language (Accept-Language)."""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.trust_env = False  # a proxy from the environment must not see the mock's traffic
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        if lang:
            self.session.headers["Accept-Language"] = lang

    # ---- transport -----------------------------------------------------------------------------
    def call(self, method: str, path: str, *, params: dict[str, Any] | None = None, json_body: Any = None,
             data: bytes | str | None = None, headers: dict[str, str] | None = None,
             ok_404: bool = False) -> Any:
        """One request to ``/_admin{path}`` (or ``path`` when it starts with ``/``); returns decoded JSON.

        ``ok_404`` turns a 404 answer into ``None`` instead of an :class:`AdminError`.
        """
        url = self.base_url + (path if path.startswith("/") else "/_admin/" + path)
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        resp = self.session.request(method, url, params=clean, json=json_body, data=data, headers=headers,
                                    timeout=self.timeout)
        if ok_404 and resp.status_code == 404:
            return None
        if resp.status_code >= 400:
            try:
                body = resp.json()
                said, detail = body.get("error", resp.reason), body.get("detail")
            except (ValueError, AttributeError):
                said, detail = resp.reason or "error", resp.text[:500]
            raise AdminError(resp.status_code, str(said), detail, url)  # the server's own error sentence
        if not resp.content:
            return None
        ctype = resp.headers.get("Content-Type", "")
        return resp.json() if "json" in ctype else resp.content

    # ---- health --------------------------------------------------------------------------------
    def ready(self) -> bool:
        """True when ``GET /ready`` answers 200."""
        try:
            return self.session.get(self.base_url + "/ready", timeout=self.timeout).status_code == 200
        except requests.RequestException:
            return False

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3 document of the admin API."""
        return self.call("GET", "openapi.json")

    def reset(self, all: bool = False) -> dict[str, Any]:  # noqa: A002 - mirrors ?all=true
        """Empty journal, registry and deliveries (``all``: also systems and scenarios)."""
        return self.call("POST", "reset", params={"all": "true" if all else None})

    # ---- systems -------------------------------------------------------------------------------
    def systems(self) -> list[dict[str, Any]]:
        """Every registered system."""
        return self.call("GET", "systems")["items"]

    def system(self, mnemonic: str) -> dict[str, Any] | None:
        """One system by mnemonic, or None."""
        return next((s for s in self.systems() if s.get("mnemonic") == mnemonic), None)

    def put_system(self, mnemonic: str, system: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """Create or replace a system; ``system`` may be a previous answer (extra keys are dropped)."""
        body = system_body({**(system or {}), **fields})
        body["mnemonic"] = mnemonic
        return self.call("PUT", f"systems/{mnemonic}", json_body=body)

    def update_system(self, mnemonic: str, **fields: Any) -> dict[str, Any]:
        """Change some fields of an existing system (``KeyError`` when there is none)."""
        current = self.system(mnemonic)
        if current is None:
            raise KeyError(f"no system {mnemonic!r} on {self.base_url}")
        return self.put_system(mnemonic, current, **fields)

    def delete_system(self, mnemonic: str) -> dict[str, Any]:
        """Remove a system."""
        return self.call("DELETE", f"systems/{mnemonic}")

    # ---- journal and registry ------------------------------------------------------------------
    def requests(self, message_id: str | None = None, local_uid: str | None = None,
                 limit: int = 100) -> list[dict[str, Any]]:
        """The request journal, newest first."""
        return self.call("GET", "requests", params={"message_id": message_id, "local_uid": local_uid,
                                                    "limit": limit})["items"]

    def documents(self, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Registry entries (``status``: pending, registered or rejected), newest first."""
        return self.call("GET", "documents", params={"status": status, "limit": limit})["items"]

    def document(self, local_uid: str) -> dict[str, Any] | None:
        """One registry entry with its layers, attempts and callbacks; None when unknown."""
        return self.call("GET", f"documents/{local_uid}", ok_404=True)

    def document_content(self, local_uid: str) -> bytes:
        """The CDA bytes as received."""
        return self.call("GET", f"documents/{local_uid}/content")

    def seed_documents(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add documents that already exist in the registry (CONTRACT §6)."""
        return self.call("POST", "documents", json_body=items)["items"]

    # ---- callbacks -----------------------------------------------------------------------------
    def callbacks(self, relates_to: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """Result deliveries with their attempts, newest first."""
        return self.call("GET", "callbacks", params={"relates_to": relates_to, "status": status})["items"]

    def flush(self) -> dict[str, Any]:
        """Send every pending delivery now."""
        return self.call("POST", "callbacks/flush")

    def redeliver(self, delivery_id: int) -> dict[str, Any]:
        """Queue one delivery again."""
        return self.call("POST", f"callbacks/{delivery_id}/redeliver")

    # ---- scenarios -----------------------------------------------------------------------------
    def scenarios(self) -> Any:
        """The scenario library and the active set."""
        return self.call("GET", "scenarios")

    def upload_scenario(self, scenario: str | dict[str, Any]) -> Any:
        """Add (or replace by name) a scenario: YAML text or a mapping."""
        if isinstance(scenario, str):
            return self.call("POST", "scenarios", data=scenario.encode("utf-8"),
                             headers={"Content-Type": "application/yaml"})
        return self.call("POST", "scenarios", data=json.dumps(scenario, ensure_ascii=False).encode("utf-8"),
                         headers={"Content-Type": "application/json"})

    def use_scenario(self, names: str | list[str], system: str | None = None) -> Any:
        """Make ``names`` the active scenarios (for one ``system`` when given)."""
        names = [names] if isinstance(names, str) else list(names)
        body: dict[str, Any] = {"names": names}
        if system:
            body["system"] = system
        return self.call("PUT", "scenarios/active", json_body=body)

    def clear_scenarios(self, system: str | None = None) -> Any:
        """Deactivate the active scenarios."""
        return self.call("DELETE", "scenarios/active", params={"system": system})
