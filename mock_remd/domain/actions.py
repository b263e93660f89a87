"""The scenario actions: one declaration of every key a scenario's ``sync:``, ``callback:`` and
``callback.fremd:`` blocks take (CONTRACT §7 and this project's extensions).

This table is the single place an action is declared. From it come the linter's keys and checks
(:mod:`mock_remd.scenarios.lint`), the OpenAPI schema of a scenario (:func:`openapi_schemas`, served by
``/_admin/openapi.json``) and the tables of docs/scenarios.md (:func:`markdown_table`; the test
``tests/test_scenario_actions.py`` holds the doc to it, ``scripts/make_scenario_docs.py`` rewrites it).
The engine carries an action as the field of the same name of :class:`~mock_remd.domain.behaviour.SyncBehaviour`
or :class:`~mock_remd.domain.behaviour.CallbackBehaviour` (the test holds the fields to the table) and
applies it in ``soap/app.py`` (synchronous) or ``core/processing.py`` (callback).

To add an action: a row here, the field in ``domain/behaviour.py``, its effect where the block is applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mock_remd.catalog import errors as E
from mock_remd.domain.behaviour import (
    DROP_MODES,
    MAX_CALLBACK_DELAY_MS,
    MAX_HTTP_STATUS,
    MAX_REPEAT,
    MAX_SYNC_DELAY_MS,
    MIN_HTTP_STATUS,
)

#: the blocks, in the order of the docs; ``callback.fremd`` is the mapping under ``callback: fremd:``
BLOCKS = ("sync", "callback", "callback.fremd")

#: what a value is: a whole number in ``low..high``, true/false, any text, one of ``choices``, a list of
#: error items ``{code, message?}`` (or bare codes), a SOAP fault ``{code, reason}``, or a nested block
KINDS = ("integer", "boolean", "text", "choice", "errors", "fault", "block")

#: a fault code a scenario may give: SOAP 1.2 Sender/Receiver, SOAP 1.1 Client/Server, with a detail
FAULT_CODE_RE = re.compile(r"^(Sender|Receiver|Client|Server)(\.[A-Za-z0-9_.-]+)?$")
#: the fault a scenario gets for the keys it leaves out (the reason: the registry's INTERNAL_ERROR sentence)
DEFAULT_FAULT = {"code": "Receiver", "reason": E.message("INTERNAL_ERROR")}
CALLBACK_STATUSES = ("success", "error")
SOAP_VERSIONS = ("1.1", "1.2")


@dataclass(frozen=True)
class Action:
    """One key of a scenario block: what it takes, what it does, where it stands in the docs."""

    block: str
    key: str
    kind: str
    #: the value column of docs/scenarios.md (markdown)
    value: str
    #: the effect column of docs/scenarios.md (markdown)
    effect: str
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()
    #: for ``kind="block"``: the nested block's name
    nested: str = ""
    #: not in CONTRACT §7: this project's addition
    extension: bool = False
    #: the action replaces the synchronous answer and excludes the other exclusive ones of its block
    exclusive: bool = False


ACTIONS: tuple[Action, ...] = (
    # ---- sync: the synchronous answer (applied in soap/app.py and core/registry.py) -----------------------
    Action("sync", "delay_ms", "integer", f"0…{MAX_SYNC_DELAY_MS}",
           "wait before answering (combines with the others, or delays the normal answer)",
           low=0, high=MAX_SYNC_DELAY_MS),
    Action("sync", "errors", "errors", "list of `{code, message?}` (or bare codes)",
           "`status=error` with those items; message from the catalogue unless given; nothing is registered, no callback",
           exclusive=True),
    Action("sync", "fault", "fault", "`{code: Sender\\|Receiver\\|Client\\|Server[.detail], reason}`",
           "a SOAP Fault in the request's SOAP version (HTTP 500, or `http_status`)", exclusive=True),
    Action("sync", "http_status", "integer", f"{MIN_HTTP_STATUS}…{MAX_HTTP_STATUS}",
           "that HTTP status with a plain-text body (with `fault`: the fault's status)",
           low=MIN_HTTP_STATUS, high=MAX_HTTP_STATUS),
    Action("sync", "drop", "choice", " \\| ".join(f"`{m}`" for m in DROP_MODES),
           "TCP RST / close without a byte / 512 random bytes then close / headers promising 4096 bytes, then close",
           choices=DROP_MODES, exclusive=True),
    # ---- callback: the result callback, registerDocument only (applied in core/processing.py) -------------
    Action("callback", "delay_ms", "integer", f"up to 24 hours ({MAX_CALLBACK_DELAY_MS})",
           "the delivery is due that much later; it lives in the outbox (survives restarts); "
           "`POST /_admin/callbacks/flush` sends it now", low=0, high=MAX_CALLBACK_DELAY_MS),
    Action("callback", "status", "choice", "`success` \\| `error`", "forces the outcome whatever validation found",
           choices=CALLBACK_STATUSES),
    Action("callback", "errors", "errors", "list of `{code, message?}`", "the error items (implies `status: error`)"),
    Action("callback", "repeat", "integer", f"1…{MAX_REPEAT}", "the callback is sent that many times",
           low=1, high=MAX_REPEAT),
    Action("callback", "repeat_interval_ms", "integer", "ms",
           "pause between the repeated copies (default 0: all at once)", low=0, high=MAX_CALLBACK_DELAY_MS,
           extension=True),
    Action("callback", "foreign_first", "boolean", "`true`",
           "first a callback meant for someone else (unknown `RelatesTo`/`relatesToMessage` and `localUid`, "
           "tried once), then the right one", extension=True),
    Action("callback", "soap_version", "choice", '`"1.1"` \\| `"1.2"`',
           "the callback's SOAP version for this document, whatever the system's `callback_soap_version`",
           choices=SOAP_VERSIONS, extension=True),
    Action("callback", "skip", "boolean", "`true`", "no callback (the document is still registered or rejected)"),
    Action("callback", "relates_to", "text", "a string",
           "`relatesToMessage` and `wsa:RelatesTo` carry it instead of the request's MessageID"),
    Action("callback", "malformed", "boolean", "`true`", "the callback body is cut short (not well-formed XML)"),
    Action("callback", "fremd", "block", "`{status, errors, delay_ms, skip}`",
           "the federal phase of the two-phase outcome (below)", nested="callback.fremd", extension=True),
    # ---- callback.fremd: the federal phase (core/processing.py two_phase) -----------------------------------
    Action("callback.fremd", "status", "choice", "`success` \\| `error`",
           "the federal outcome (`error` alone gives `VALIDATION_ERROR`)", choices=CALLBACK_STATUSES),
    Action("callback.fremd", "errors", "errors", "list of `{code, message?}`",
           "the federal error items (implies `status: error`)"),
    Action("callback.fremd", "delay_ms", "integer", f"up to 24 hours ({MAX_CALLBACK_DELAY_MS})",
           "the federal callback follows the regional one that much later (default 1 s)",
           low=0, high=MAX_CALLBACK_DELAY_MS),
    Action("callback.fremd", "skip", "boolean", "`true`", "the federal callback is never sent"),
)


def actions_of(block: str) -> tuple[Action, ...]:
    """The actions of one block, in table order."""
    return tuple(a for a in ACTIONS if a.block == block)


def keys_of(block: str) -> tuple[str, ...]:
    """The keys one block takes, in table order."""
    return tuple(a.key for a in actions_of(block))


# ---- the docs -------------------------------------------------------------------------------------------
def markdown_table(block: str) -> str:
    """The reference table of one block as docs/scenarios.md shows it."""
    rows = ["| key | value | effect |", "|---|---|---|"]
    for a in actions_of(block):
        value = f"{a.value} (**extension**)" if a.extension else a.value
        rows.append(f"| `{a.key}` | {value} | {a.effect} |")
    return "\n".join(rows) + "\n"


# ---- the OpenAPI schema ---------------------------------------------------------------------------------
_ERROR_ITEM = {"oneOf": [
    {"type": "string", "description": "a code of the REMD error classifier (NSI 1.2.643.5.1.13.13.99.2.305)"},
    {"type": "object", "required": ["code"], "additionalProperties": False,
     "properties": {"code": {"type": "string"}, "message": {"type": "string"}}},
]}
_SCHEMA_NAMES = {"sync": "ScenarioSync", "callback": "ScenarioCallback", "callback.fremd": "ScenarioFremd"}


def _plain(markdown: str) -> str:
    return markdown.replace("`", "").replace("\\|", "|").replace("**", "")


def _value_schema(a: Action) -> dict[str, Any]:
    if a.kind == "integer":
        out: dict[str, Any] = {"type": "integer", "minimum": a.low}
        if a.high is not None:
            out["maximum"] = a.high
        return out
    if a.kind == "boolean":
        return {"type": "boolean"}
    if a.kind == "text":
        return {"type": "string"}
    if a.kind == "choice":
        return {"type": "string", "enum": list(a.choices)}
    if a.kind == "errors":
        return {"type": "array", "minItems": 1, "items": _ERROR_ITEM}
    if a.kind == "fault":
        return {"type": "object", "additionalProperties": False, "properties": {
            "code": {"type": "string", "pattern": FAULT_CODE_RE.pattern, "default": DEFAULT_FAULT["code"]},
            "reason": {"type": "string", "default": DEFAULT_FAULT["reason"]}}}
    if a.kind == "block":
        return {"$ref": f"#/components/schemas/{_SCHEMA_NAMES[a.nested]}"}
    raise ValueError(f"unknown action kind {a.kind!r}")


def block_schema(block: str) -> dict[str, Any]:
    """The JSON schema of one block (every key optional, none other allowed)."""
    props = {}
    for a in actions_of(block):
        schema = _value_schema(a)
        description = _plain(a.effect) + (" (extension)" if a.extension else "")
        props[a.key] = {"allOf": [schema], "description": description} if "$ref" in schema else {
            **schema, "description": description}
    return {"type": "object", "additionalProperties": False, "properties": props}


#: the ``match:`` conditions and how the linter reads them (a value or a list, a regular expression …)
MATCH_SCHEMA: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {
    **{k: {"oneOf": [{"type": "string"}, {"type": "array", "minItems": 1, "items": {"type": "string"}}]}
       for k in ("operation", "system", "kind", "organization", "patient_snils")},
    "local_uid": {"type": "string", "description": "a regular expression, case-insensitive (re.search)"},
    "document_number": {"type": "string", "description": "a regular expression (re.search)"},
    "nth": {"type": "integer", "minimum": 1},
    "probability": {"type": "number", "minimum": 0, "maximum": 1},
    "attempt": {"oneOf": [{"type": "integer", "minimum": 1},
                          {"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 1}}]},
}}


def openapi_schemas() -> dict[str, Any]:
    """``components.schemas`` entries of a scenario file (``POST /_admin/scenarios``), from :data:`ACTIONS`."""
    return {
        "Scenario": {"type": "object", "required": ["name", "rules"], "properties": {
            "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"},
            "description": {"type": "string"}, "description_ru": {"type": "string"},
            "seed": {"type": "integer", "minimum": 0},
            "rules": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/ScenarioRule"}}}},
        "ScenarioRule": {"type": "object", "additionalProperties": False, "properties": {
            "name": {"type": "string"}, "description": {"type": "string"},
            "match": {"$ref": "#/components/schemas/ScenarioMatch"},
            "sync": {"$ref": "#/components/schemas/ScenarioSync"},
            "callback": {"$ref": "#/components/schemas/ScenarioCallback"}}},
        "ScenarioMatch": MATCH_SCHEMA,
        **{_SCHEMA_NAMES[b]: block_schema(b) for b in BLOCKS},
    }
