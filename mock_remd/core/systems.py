"""The systems registry (CONTRACT §4): who may call, for which organisations, and where results go."""

from __future__ import annotations

from typing import Any

from mock_remd.catalog.user_messages import Text, text
from mock_remd.core.urls import url_problem
from mock_remd.store.systems import System

DEMO_SYSTEM: dict[str, Any] = {
    "mnemonic": "demo",
    "client_entity_id": "00000000-0000-4000-8000-000000000001",
    "callback_url": "http://127.0.0.1:9090/emdr/callback",
    "document_url": "",
    "organizations": ["1.2.643.5.1.13.13.12.2.50.99999"],
    "enabled": True,
    "send_to_fremd": False,
    "require_system": False,
    "callback_soap_version": "1.1",
}

DEFAULTS: dict[str, Any] = {
    "callback_url": "",
    "document_url": "",
    "organizations": [],
    "enabled": True,
    "send_to_fremd": False,
    "require_system": False,
    "callback_soap_version": "1.1",
}

BOOL_FIELDS = ("enabled", "send_to_fremd", "require_system")


class SystemError_(ValueError):
    """A system definition is invalid; ``text`` (a catalogue :class:`Text`) names the field; ``str()`` is
    Russian, the admin API renders ``text`` in the client's language."""

    def __init__(self, message: Text) -> None:
        super().__init__(str(message))
        self.text = message


def normalize_system(data: dict[str, Any], mnemonic: str | None = None) -> System:
    """Validate and complete a system definition from the config file or the admin API."""
    if not isinstance(data, dict):
        raise SystemError_(text("system.not_object"))
    out = {**DEFAULTS, **{k: v for k, v in data.items() if v is not None}}
    if mnemonic is not None:
        if data.get("mnemonic") and data["mnemonic"] != mnemonic:
            raise SystemError_(text("system.mnemonic_mismatch", body=data["mnemonic"], path=mnemonic))
        out["mnemonic"] = mnemonic
    unknown = set(out) - set(DEFAULTS) - {"mnemonic", "client_entity_id"}
    if unknown:
        raise SystemError_(text("system.unknown_fields", fields=", ".join(sorted(unknown))))
    if not str(out.get("mnemonic") or "").strip():
        raise SystemError_(text("system.required", field="mnemonic"))
    if not str(out.get("client_entity_id") or "").strip():
        raise SystemError_(text("system.required", field="client_entity_id"))
    orgs = out["organizations"]
    if isinstance(orgs, str):
        orgs = [orgs]
    if not isinstance(orgs, list) or not all(isinstance(o, str) for o in orgs):
        raise SystemError_(text("system.organizations"))
    out["organizations"] = [o.strip() for o in orgs]
    for f in BOOL_FIELDS:
        if not isinstance(out[f], bool):
            raise SystemError_(text("system.bool", field=f, value=repr(out[f])))
    out["callback_soap_version"] = str(out["callback_soap_version"])
    if out["callback_soap_version"] not in ("1.1", "1.2"):
        raise SystemError_(text("system.soap_version", value=repr(out["callback_soap_version"])))
    for f in ("callback_url", "document_url"):
        url = str(out[f] or "")
        problem = url_problem(url) if url else None
        if problem:
            raise SystemError_(text("system.url", field=f, problem=problem, value=repr(url)))
        out[f] = url
    out["mnemonic"] = str(out["mnemonic"]).strip()
    out["client_entity_id"] = str(out["client_entity_id"]).strip()
    return System(**out)
