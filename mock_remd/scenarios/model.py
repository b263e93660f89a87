"""The compiled form of a scenario file (CONTRACT §7): scenarios, rules and their match conditions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mock_remd.domain.behaviour import Behaviour, CallbackBehaviour, SyncBehaviour

OPERATIONS = ("registerDocument", "searchRegistryItem", "getRegistryItem")


@dataclass
class Match:
    """The ``match:`` block of a rule; an empty tuple / None means "any"."""

    operation: tuple[str, ...] = ()
    system: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()
    organization: tuple[str, ...] = ()
    patient_snils: tuple[str, ...] = ()  # 11 digits each
    local_uid: re.Pattern[str] | None = None
    document_number: re.Pattern[str] | None = None
    nth: int | None = None
    probability: float | None = None
    attempt: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The conditions as written (for the admin API)."""
        out: dict[str, Any] = {}
        for name in ("operation", "system", "kind", "organization", "patient_snils", "attempt"):
            value = getattr(self, name)
            if value:
                out[name] = list(value)
        for name in ("local_uid", "document_number"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.pattern
        if self.nth is not None:
            out["nth"] = self.nth
        if self.probability is not None:
            out["probability"] = self.probability
        return out


@dataclass
class Rule:
    """One rule: conditions and the behaviour it imposes. ``number`` counts from 1 in its file."""

    number: int
    line: int | None
    match: Match
    sync: dict[str, Any] = field(default_factory=dict)
    callback: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    description: str = ""

    def behaviour(self, source: dict[str, Any]) -> Behaviour:
        """A fresh :class:`Behaviour` carrying this rule's sync and callback parts."""
        sync = {k: (list(v) if isinstance(v, list) else (dict(v) if isinstance(v, dict) else v))
                for k, v in self.sync.items()}
        callback = {k: (list(v) if isinstance(v, list) else (dict(v) if isinstance(v, dict) else v))
                    for k, v in self.callback.items()}
        return Behaviour(sync=SyncBehaviour(**sync), callback=CallbackBehaviour(**callback), source=source)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"number": self.number, "line": self.line, "match": self.match.as_dict()}
        if self.name:
            out["name"] = self.name
        if self.description:
            out["description"] = self.description
        if self.sync:
            out["sync"] = self.sync
        if self.callback:
            out["callback"] = self.callback
        return out


@dataclass
class Scenario:
    """A whole scenario file."""

    name: str
    rules: list[Rule]
    description: str = ""
    description_ru: str = ""
    seed: int | None = None
    source: str = ""
    file: str = ""

    @property
    def uses_attempts(self) -> bool:
        return any(r.match.attempt for r in self.rules)

    def summary(self) -> dict[str, Any]:
        """Name, descriptions (English, Russian) and rules (for ``GET /_admin/scenarios``)."""
        return {
            "name": self.name,
            "description": self.description,
            "description_ru": self.description_ru,
            "seed": self.seed,
            "rules": [r.as_dict() for r in self.rules],
        }
