"""The OpenAPI 3 document of the admin API."""

from __future__ import annotations

from typing import Any

from mock_remd import __version__
from mock_remd.domain.actions import openapi_schemas as scenario_schemas

_ERR = {"$ref": "#/components/responses/Error"}


def _list(item_ref: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"$ref": item_ref}}, "total": {"type": "integer"}},
    }


def _op(summary: str, *, params: list[dict] | None = None, body: dict | None = None, ok: dict | None = None,
        status: str = "200") -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {status: {"description": "OK"}, "4XX": _ERR}}
    if ok:
        op["responses"][status]["content"] = {"application/json": {"schema": ok}}
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = {"required": True, "content": body}
    return op


def _q(name: str, desc: str, typ: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": desc, "schema": {"type": typ}}


def _p(name: str, typ: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": typ}}


def _kinds_list() -> dict[str, Any]:
    schema = _list("#/components/schemas/Kind")
    schema["properties"]["version"] = {"type": "string", "description": "NSI 1520 version of the catalog"}
    schema["properties"]["source"] = {"type": "string"}
    return schema


KIND_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "code": {"type": "string"}, "name": {"type": "string"}, "format": {"type": "string", "enum": ["CDA", "PDF/A-1"]},
        "start_date": {"type": "string", "format": "date", "nullable": True},
        "end_date": {"type": "string", "format": "date", "nullable": True},
        "template_ids": {"type": "array", "items": {"type": "string"}},
        "patient_info": {"type": "string"}, "mo_sign": {"type": "boolean"}, "series_required": {"type": "boolean"},
        "implementation_guide": {"type": "string"}, "git_link": {"type": "string"},
        "pack": {"type": "array", "nullable": True, "items": {"type": "object", "properties": {
            "edition": {"type": "string"}, "template_id": {"type": "string"}, "directory": {"type": "string"},
            "hash": {"type": "string"}}}},
    },
}
PACK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "kind": {"type": "string"}, "edition": {"type": "string"}, "template_id": {"type": "string"},
        "template_ids": {"type": "array", "items": {"type": "string"}},
        "files": {"type": "array", "items": {"type": "string"}}, "hash": {"type": "string"},
        "example": {"type": "object", "nullable": True, "description": "the shipped example's self-check",
                    "properties": {"file": {"type": "string"}, "passed": {"type": "boolean"},
                                   "findings": {"type": "array", "items": {"type": "string"}}}},
        "directory": {"type": "string"}, "source": {"type": "string"}, "installed_at": {"type": "string"},
    },
}


def openapi_document(server_url: str) -> dict[str, Any]:
    """The OpenAPI document, with ``server_url`` as its server."""
    paging = [_q("limit", "at most this many (≤ 1000)", "integer"), _q("offset", "skip this many", "integer")]
    json_body = {"application/json": {"schema": {"type": "object"}}}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "mock-remd admin API",
            "version": __version__,
            "description": "Control and inspect the REMD mock: systems, journal, registry, callbacks, scenarios.",
        },
        "servers": [{"url": server_url}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Error": {
                    "description": "error: one sentence in Russian, or English for Accept-Language: en",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
            },
            "schemas": {
                "Kind": KIND_SCHEMA,
                "Pack": PACK_SCHEMA,
                "Error": {"type": "object", "properties": {
                    "error": {"type": "string", "description": "one sentence in the language of Accept-Language "
                                                               "(Russian by default, English for en)"},
                    "detail": {"description": "what the sentence refers to (a parameter, lint issues, an id)"}}},
                "System": {
                    "type": "object",
                    "required": ["client_entity_id"],
                    "properties": {
                        "mnemonic": {"type": "string"},
                        "client_entity_id": {"type": "string"},
                        "callback_url": {"type": "string"},
                        "document_url": {"type": "string"},
                        "organizations": {"type": "array", "items": {"type": "string"}},
                        "enabled": {"type": "boolean"},
                        "send_to_fremd": {"type": "boolean"},
                        "require_system": {"type": "boolean"},
                        "callback_soap_version": {"type": "string", "enum": ["1.1", "1.2"]},
                    },
                },
                "Request": {"type": "object", "properties": {k: {} for k in (
                    "message_id", "operation", "received_at", "system", "local_uid", "kind", "sync_status", "errors")}},
                "Document": {"type": "object", "properties": {k: {} for k in (
                    "local_uid", "emdr_id", "status", "kind", "organization", "registration_date_time", "errors",
                    "layers")}},
                "DocumentDetail": {"allOf": [{"$ref": "#/components/schemas/Document"}, {
                    "type": "object",
                    "properties": {
                        "attempts": {"type": "array", "items": {"$ref": "#/components/schemas/Document"}},
                        "callbacks": {"type": "array", "items": {"$ref": "#/components/schemas/Delivery"}},
                        "versions": {"type": "array", "description": "the registered version chain, oldest first",
                                     "items": {"$ref": "#/components/schemas/Version"}},
                        "associations": {"type": "array", "description": "links this document carries",
                                         "items": {"$ref": "#/components/schemas/Association"}},
                        "linked_from": {"type": "array", "description": "links of other documents to this one",
                                        "items": {"$ref": "#/components/schemas/Association"}},
                    }}]},
                "Version": {"type": "object", "properties": {
                    "local_uid": {"type": "string"}, "emdr_id": {"type": "string", "nullable": True},
                    "version_number": {"type": "integer", "nullable": True}, "status": {"type": "string"},
                    "registration_date_time": {"type": "string", "nullable": True}, "current": {"type": "boolean"}}},
                "Association": {"type": "object", "properties": {
                    "target": {"type": "string", "description": "as sent: emdrId or localUid"},
                    "type": {"type": "string", "description": "as sent"},
                    "type_name": {"type": "string", "description": "the type's name where known, else empty"},
                    "version": {"type": "boolean", "nullable": True, "description": "the link to the replaced version"},
                    "target_local_uid": {"type": "string", "nullable": True},
                    "target_emdr_id": {"type": "string", "nullable": True},
                    "target_version_number": {"type": "integer", "nullable": True},
                    "recorded": {"type": "boolean", "description": "false: asked for by a request not registered"},
                    "local_uid": {"type": "string", "description": "linked_from only: the linking document"},
                    "version_number": {"type": "integer", "nullable": True,
                                       "description": "linked_from only: its versionNumber"}}},
                "Delivery": {"type": "object", "properties": {k: {} for k in (
                    "id", "relates_to", "url", "status", "attempts", "due_at", "body")}},
                **conformance_schemas(),
                **scenario_schemas(),
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            "/health": {"get": {**_op("liveness", ok={"type": "object"}), "security": []}},
            "/ready": {"get": {**_op("readiness: 200 once the store and the callback sender run, 503 before",
                                     ok={"type": "object"}), "security": []}},
            "/_admin/openapi.json": {"get": _op("this document")},
            "/_admin/reset": {"post": _op("empty journal, registry and deliveries",
                                          params=[_q("all", "also systems and scenarios", "boolean")])},
            "/_admin/systems": {"get": _op("systems", ok=_list("#/components/schemas/System"))},
            "/_admin/systems/{mnemonic}": {
                "parameters": [_p("mnemonic")],
                "get": _op("one system", ok={"$ref": "#/components/schemas/System"}),
                "put": _op("create or replace a system", body={"application/json": {
                    "schema": {"$ref": "#/components/schemas/System"}}}),
                "delete": _op("delete a system"),
            },
            "/_admin/requests": {"get": _op("journal, newest first", params=paging + [
                _q("message_id", "without urn:uuid:, any case"), _q("local_uid", ""), _q("system", ""),
                _q("explain", "why each active scenario rule did or did not match", "boolean")],
                ok=_list("#/components/schemas/Request"))},
            "/_admin/documents": {
                "get": _op("registry, newest first", params=paging + [_q("status", "pending|registered|rejected|failed"),
                                                                      _q("system", ""), _q("kind", "")],
                           ok=_list("#/components/schemas/Document")),
                "post": _op("seed documents that already exist", body=json_body, status="201"),
            },
            "/_admin/documents/{local_uid}": {"parameters": [_p("local_uid")],
                                              "get": _op("one document (by localUid or emdrId) with its layers, "
                                                         "attempts, callbacks, version chain and links",
                                                         ok={"$ref": "#/components/schemas/DocumentDetail"})},
            "/_admin/documents/{local_uid}/content": {"parameters": [_p("local_uid")],
                                                      "get": _op("the CDA bytes as received (by localUid, or by "
                                                                 "emdrId: that registered version's file)")},
            "/_admin/callbacks": {"get": _op("deliveries", params=paging + [
                _q("relates_to", "request MessageID"), _q("status", "pending|delivered|dead"), _q("local_uid", "")],
                ok=_list("#/components/schemas/Delivery"))},
            "/_admin/callbacks/{id}": {"parameters": [_p("id", "integer")], "get": _op("one delivery")},
            "/_admin/callbacks/flush": {"post": _op("send every pending delivery now (virtual clock)")},
            "/_admin/callbacks/{id}/redeliver": {"parameters": [_p("id", "integer")],
                                                 "post": _op("queue that delivery again")},
            "/_admin/kinds": {"get": _op(
                "the kind catalog (NSI 1.2.643.5.1.13.13.11.1520): every kind with its rules and installed pack "
                "editions; `version` is the dictionary version", ok=_kinds_list(),
                params=[_q("format", "CDA or PDF"), _q("open", "only kinds without an end date", "boolean"),
                        _q("pack", "only kinds with an installed pack", "boolean")])},
            "/_admin/kinds/{code}": {"parameters": [_p("code")],
                                     "get": _op("one kind of the catalog", ok={"$ref": "#/components/schemas/Kind"})},
            "/_admin/packs": {"get": _op("installed official packs (XSD + Schematron), with the layers that lack "
                                        "material", ok=_list("#/components/schemas/Pack"))},
            "/_admin/scenarios": {
                "get": _op("scenario library and active sets"),
                "post": _op("upload a scenario (YAML or JSON; the YAML text has the Scenario shape)", body={
                    "application/yaml": {"schema": {"type": "string"}},
                    "application/json": {"schema": {"$ref": "#/components/schemas/Scenario"}}},
                    status="201"),
            },
            "/_admin/scenarios/active": {
                "put": _op("activate scenarios", body={"application/json": {"schema": {
                    "type": "object", "properties": {"names": {"type": "array", "items": {"type": "string"}},
                                                     "system": {"type": "string"}}}}}),
                "delete": _op("deactivate all", params=[_q("system", "only this system's set")]),
            },
            **conformance_paths(),
        },
    }


def conformance_schemas() -> dict[str, Any]:
    """Schemas of conformance runs (CONTRACT §10)."""
    text = {"type": "string"}
    step = {"type": "object", "properties": {
        "id": text, "title": text, "state": {"type": "string", "enum": ["pending", "running", "passed", "failed"]},
        "expected": text, "observed": text, "local_uid": {"type": "string", "nullable": True},
        "started_at": {"type": "string", "nullable": True}, "finished_at": {"type": "string", "nullable": True},
        "requests": {"type": "array", "items": {"type": "object"}, "description": "the step's registerDocument requests"},
        "callbacks": {"type": "array", "items": {"type": "object"}, "description": "our callbacks and the first answer to each"},
        "polls": {"type": "array", "items": {"type": "object"}, "description": "searchRegistryItem/getRegistryItem calls"},
        "document": {"type": "object", "nullable": True, "description": "status, emdr_id and validation errors"}}}
    run = {"type": "object", "properties": {
        "id": text, "system": text, "plan": text, "state": {"type": "string", "enum": ["running", "finished", "cancelled"]},
        "passed": {"type": "boolean", "nullable": True}, "created_at": text, "finished_at": {"type": "string", "nullable": True},
        "step_timeout_s": {"type": "number"}, "retry_after_s": {"type": "number"},
        "steps": {"type": "array", "items": {"$ref": "#/components/schemas/ConformanceStep"}}}}
    start = {"type": "object", "required": ["system"], "properties": {
        "system": text, "plan": {"type": "string", "default": "mis-basic"},
        "plan_yaml": {"type": "string", "description": "a plan given inline (docs/conformance.md) instead of a name"},
        "step_timeout_s": {"type": "number", "default": 120}, "retry_after_s": {"type": "number", "default": 60}}}
    return {"ConformanceStep": step, "ConformanceRun": run, "ConformanceStart": start}


def conformance_paths() -> dict[str, Any]:
    """Paths of conformance runs (CONTRACT §10)."""
    ref = {"$ref": "#/components/schemas/ConformanceRun"}
    start = _op("start a conformance run for a system (409 when it already has an active run)",
                body={"application/json": {"schema": {"$ref": "#/components/schemas/ConformanceStart"}}},
                ok=ref, status="201")
    start["responses"]["409"] = _ERR
    return {
        "/_admin/conformance/runs": {
            "post": start,
            "get": _op("conformance runs, newest first", params=[_q("system", ""), _q("state", "running|finished|cancelled"),
                                                                _q("limit", "at most this many", "integer")],
                       ok=_list("#/components/schemas/ConformanceRun")),
        },
        "/_admin/conformance/runs/{id}": {
            "parameters": [_p("id")],
            "get": _op("one run with its steps: expected and observed", ok=ref),
            "delete": _op("cancel an active run", ok=ref),
        },
        "/_admin/conformance/runs/{id}/junit": {
            "parameters": [_p("id")],
            "get": {**_op("the run as JUnit XML: one testcase per step"),
                    "responses": {"200": {"description": "JUnit XML", "content": {"application/xml": {}}}, "4XX": _ERR}},
        },
        "/_admin/conformance/plans": {"get": _op("the plans a run can use (built-in and the scenarios directory's conformance/)")},
    }
