"""What the Scenarios page shows, read from the scenario engine the admin API uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mock_remd.admin.errors import ApiError
from mock_remd.catalog.user_messages import Text, render
from mock_remd.scenarios.engine import ScenarioError


@dataclass
class ScenarioView:
    """Library entries (``name``, ``description``, ``rules``, ``origin``) and active sets by scope."""

    library: list[dict[str, Any]] = field(default_factory=list)
    active: dict[str, list[str]] = field(default_factory=dict)


def _library(raw: Any) -> list[dict[str, Any]]:
    if isinstance(raw, dict):
        raw = raw.get("items") or raw.get("library") or raw.get("scenarios") or []
    out = []
    for item in raw or []:
        if isinstance(item, str):
            out.append({"name": item, "description": ""})
        elif isinstance(item, dict) and item.get("name"):
            rules = item.get("rules")
            out.append({**item, "rules": len(rules) if isinstance(rules, list) else rules})
    return out


def _active(raw: Any) -> dict[str, list[str]]:
    if isinstance(raw, list):  # [{"scope"/"system": ..., "names": [...]}] or a plain list of names
        if all(isinstance(x, str) for x in raw):
            return {"": list(raw)} if raw else {}
        return {str(x.get("scope", x.get("system", "")) or ""): list(x.get("names") or []) for x in raw
                if isinstance(x, dict)}
    if isinstance(raw, dict):
        return {("" if k in ("", "*", "global", "_global") else k): list(v or []) for k, v in raw.items()}
    return {}


def describe(engine: Any) -> ScenarioView:
    """The engine's library and active sets."""
    d = engine.describe()
    if isinstance(d, dict):
        return ScenarioView(_library(d), _active(d.get("active")))
    return ScenarioView(_library(d), {})


def error_text(exc: ApiError | ScenarioError, lang: str) -> tuple[str, list[str]]:
    """A headline and the lint messages of a refused engine call: its catalogue sentence (``error``) and
    the messages of its ``detail``, in ``lang``."""
    detail = exc.detail
    if isinstance(detail, list):
        items = [_one(x) for x in detail]
    elif detail:
        items = [_one(detail)]
    else:
        items = []
    headline = render(lang, exc.error)
    return headline, [render(lang, item) for item in items]


def _one(x: Any) -> Any:
    if isinstance(x, dict):
        if x.get("text"):
            return x["text"]  # a lint issue (or its line): rendered in the page's language by the caller
        where = x.get("path") or x.get("where") or x.get("line") or ""
        msg = x.get("message") or x.get("error") or str(x)
        return f"{where}: {msg}" if where else str(msg)
    return x if isinstance(x, Text) else str(x)
