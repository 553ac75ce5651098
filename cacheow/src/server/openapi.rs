//! `GET /api/openapi.json`: the JSON API as OpenAPI 3.1. The router tests
//! check every operation here against the server.

use std::sync::OnceLock;

use axum::Json;
use serde_json::{Value, json};

pub(super) async fn document() -> Json<&'static Value> {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    Json(DOCUMENT.get_or_init(build))
}

fn build() -> Value {
    let function_id = json!({
        "name": "function_id", "in": "path", "required": true,
        "schema": { "type": "string", "pattern": "^[0-9a-f]{16}$" },
        "description": "The function's id, as `cacheow::handle!(f).id()` gives it."
    });
    let outcome_id = json!({
        "name": "outcome_id", "in": "path", "required": true,
        "schema": { "type": "string", "pattern": "^[0-9a-f]{16}$" }
    });
    let ok = |schema: &str| json!({ "description": "OK", "content": json_of(schema) });
    let body = |schema: &str| json!({ "required": true, "content": json_of(schema) });
    // Any request may meet the access rules and a failing storage.
    let always = ["401", "403", "503"];
    let errors = |codes: &[&str]| -> Value {
        codes
            .iter()
            .chain(&always)
            .map(|code| {
                let schema = if *code == "422" { "ValidationError" } else { "Error" };
                let description = match *code {
                    "401" => "CACHEOW_TOKEN is set, and the request does not carry it",
                    "403" => "Refused: another Host, another origin, or a write without a JSON body",
                    "404" => "Unknown function or outcome",
                    "413" => "Body over the size limit",
                    "422" => "Invalid body or query",
                    _ => "The data dir's storage failed; the panel's log says why",
                };
                ((*code).to_owned(), json!({ "description": description, "content": json_of(schema) }))
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let responses = |success: Value, codes: &[&str]| {
        let mut all = errors(codes);
        all["200"] = success;
        all
    };
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "cacheow control panel",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Drives the #[cacheow] functions of a data dir: modes, latency, mock weights and outcomes. \
                Compatible with the Python cacheow's API. Every state-changing request needs `Content-Type: \
                application/json`; with CACHEOW_TOKEN set, every request needs `Authorization: Bearer <token>`."
        },
        "paths": {
            "/api/health": { "get": { "summary": "Liveness", "operationId": "health", "responses": responses(ok("Status"), &[]) } },
            "/api/functions": { "get": {
                "summary": "Every registered function", "operationId": "listFunctions",
                "responses": responses(json!({ "description": "OK", "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/FunctionSummary" } } } } }), &[])
            } },
            "/api/functions/{function_id}": { "get": {
                "summary": "A function: stats, latency, its newest outcomes, recent calls and mock weights",
                "operationId": "getFunction", "parameters": [function_id],
                "responses": responses(ok("FunctionDetail"), &["404"])
            } },
            "/api/functions/{function_id}/mode": { "post": {
                "summary": "Set the mode", "operationId": "setMode", "parameters": [function_id],
                "requestBody": body("SetModeRequest"), "responses": responses(ok("ModeSet"), &["404", "413", "422"])
            } },
            "/api/functions/{function_id}/latency": { "post": {
                "summary": "Set the artificial latency of replays", "operationId": "setLatency", "parameters": [function_id],
                "requestBody": body("SetLatencyRequest"), "responses": responses(ok("LatencySet"), &["404", "413", "422"])
            } },
            "/api/functions/{function_id}/mock-outcomes": { "post": {
                "summary": "Replace the mock weights: once set, only listed outcomes replay in mock mode",
                "operationId": "setMockOutcomes", "parameters": [function_id],
                "requestBody": body("SetMockOutcomesRequest"), "responses": responses(ok("Status"), &["404", "413", "422"])
            } },
            "/api/functions/{function_id}/outcomes": {
                "get": {
                    "summary": "A page of outcomes, newest first", "operationId": "listOutcomes",
                    "parameters": [function_id,
                        { "name": "offset", "in": "query", "schema": { "type": "integer", "minimum": 0, "default": 0 } },
                        { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 500, "default": 50 } }],
                    "responses": responses(ok("OutcomePage"), &["404", "422"])
                },
                "delete": {
                    "summary": "Delete every outcome, files included", "operationId": "deleteOutcomes", "parameters": [function_id],
                    "responses": responses(ok("Deleted"), &["404"])
                }
            },
            "/api/functions/{function_id}/outcomes/manual": { "post": {
                "summary": "Add an outcome by hand", "operationId": "addManualOutcome", "parameters": [function_id],
                "requestBody": body("ManualOutcomeRequest"), "responses": responses(ok("OutcomeAdded"), &["404", "413", "422"])
            } },
            "/api/functions/{function_id}/outcomes/{outcome_id}": {
                "get": {
                    "summary": "An outcome's file", "operationId": "getOutcome", "parameters": [function_id, outcome_id],
                    "responses": responses(ok("OutcomeFile"), &["404"])
                },
                "put": {
                    "summary": "Replace an outcome's file, checked first; it keeps its id and count",
                    "operationId": "replaceOutcome", "parameters": [function_id, outcome_id],
                    "requestBody": body("OutcomeFile"), "responses": responses(ok("OutcomeFile"), &["404", "413", "422"])
                },
                "delete": {
                    "summary": "Delete an outcome and its file", "operationId": "deleteOutcome", "parameters": [function_id, outcome_id],
                    "responses": responses(ok("Status"), &["404"])
                }
            },
            "/api/functions/{function_id}/rebuild-index": { "post": {
                "summary": "Rebuild the function's outcome index from its files", "operationId": "rebuildIndex",
                "parameters": [function_id], "responses": responses(ok("Rebuilt"), &["404"])
            } },
            "/api/rebuild-index": { "post": {
                "summary": "Rebuild the outcome index of every function from the files alone",
                "operationId": "rebuildAllIndexes", "responses": responses(ok("RebuiltAll"), &[])
            } },
            "/api/functions/{function_id}/retention": { "post": {
                "summary": "Cap the outcomes kept (null: no cap); the oldest go first", "operationId": "setRetention",
                "parameters": [function_id], "requestBody": body("SetRetentionRequest"),
                "responses": responses(ok("RetentionSet"), &["404", "413", "422"])
            } },
            "/api/openapi.json": { "get": {
                "summary": "This document", "operationId": "openapi",
                "responses": responses(json!({ "description": "OK", "content": { "application/json": {} } }), &[])
            } }
        },
        "components": { "schemas": schemas() }
    })
}

/// A JSON content of the schema `name`.
fn json_of(name: &str) -> Value {
    json!({ "application/json": { "schema": { "$ref": format!("#/components/schemas/{name}") } } })
}

fn schemas() -> Value {
    let object = |properties: Value, required: &[&str]| json!({ "type": "object", "properties": properties, "required": required });
    let mode = json!({ "type": "string", "enum": ["default", "cache", "mock"] });
    let seconds = json!({ "type": "number", "description": "Seconds since the Unix epoch" });
    json!({
        "Status": object(json!({ "status": { "const": "ok" } }), &["status"]),
        "Error": object(json!({ "detail": { "type": "string" } }), &["detail"]),
        "ValidationError": object(json!({ "detail": { "type": "array", "items": object(json!({
            "loc": { "type": "array", "items": { "type": ["string", "integer"] } },
            "msg": { "type": "string" }, "type": { "type": "string" }
        }), &["loc", "msg", "type"]) } }), &["detail"]),
        "Stats": object(json!({
            "total_calls": { "type": "integer" }, "cache_hits": { "type": "integer" },
            "cache_misses": { "type": "integer" }, "mock_calls": { "type": "integer" },
            "exceptions": { "type": "integer" }, "average_duration_ms": { "type": "number" },
            "last_called_at": { "type": ["number", "null"], "description": "Seconds since the Unix epoch" }
        }), &["total_calls", "cache_hits", "cache_misses", "mock_calls", "exceptions", "average_duration_ms", "last_called_at"]),
        "FunctionSummary": object(json!({
            "id": { "type": "string" }, "name": { "type": "string" }, "qualname": { "type": "string" },
            "module": { "type": "string" }, "source_file": { "type": "string" }, "signature": { "type": "string" },
            "kind": { "type": "string", "enum": ["sync", "async", "iterator", "stream", "unregistered"] }, "mode": mode,
            "stats": { "$ref": "#/components/schemas/Stats" },
            "stale": { "type": "boolean", "description": "No longer in the program that registered it" }
        }), &["id", "name", "qualname", "module", "source_file", "signature", "kind", "mode", "stats", "stale"]),
        "FunctionDetail": { "allOf": [{ "$ref": "#/components/schemas/FunctionSummary" }, object(json!({
            "latency_ms": { "type": "number" },
            "config": object(json!({ "max_outcomes": { "type": ["integer", "null"], "minimum": 1 } }), &["max_outcomes"]),
            "corrupt_files": { "type": "array", "items": object(json!({ "path": { "type": "string" }, "error": { "type": "string" } }), &["path", "error"]) },
            "outcomes": { "type": "array", "items": { "$ref": "#/components/schemas/Outcome" }, "description": "The newest 50" },
            "outcomes_total": { "type": "integer" },
            "recent_calls": { "type": "array", "items": { "$ref": "#/components/schemas/Call" } },
            "mock_outcomes": { "type": "array", "items": { "$ref": "#/components/schemas/MockOutcome" } }
        }), &["latency_ms", "config", "corrupt_files", "outcomes", "outcomes_total", "recent_calls", "mock_outcomes"])] },
        "Outcome": object(json!({
            "id": { "type": "string" }, "kind": { "type": "string", "enum": ["success", "exception"] },
            "preview": { "type": "string" }, "arg_key": { "type": ["string", "null"] }, "arg_preview": { "type": "string" },
            "timestamp": seconds, "is_manual": { "type": "boolean" }, "is_mock_only": { "type": "boolean" },
            "is_partial": { "type": "boolean" }, "count": { "type": "integer" }, "duration_ms": { "type": "number" }, "error_type": { "type": ["string", "null"] }
        }), &["id", "kind", "preview", "arg_key", "arg_preview", "timestamp", "is_manual", "is_mock_only"]),
        "OutcomePage": object(json!({
            "total": { "type": "integer" }, "offset": { "type": "integer" }, "limit": { "type": "integer" },
            "outcomes": { "type": "array", "items": { "$ref": "#/components/schemas/Outcome" } }
        }), &["total", "offset", "limit", "outcomes"]),
        "Call": object(json!({
            "id": { "type": "integer" }, "function_id": { "type": "string" }, "arg_key": { "type": "string" },
            "arg_preview": { "type": ["string", "null"] }, "mode": mode,
            "outcome": { "type": "string", "enum": ["default", "cache_hit", "cache_miss", "mock", "error"] },
            "duration_ms": { "type": "number" }, "outcome_id": { "type": ["string", "null"] }, "timestamp": seconds
        }), &["id", "function_id", "mode", "outcome", "timestamp"]),
        "MockOutcome": object(json!({
            "outcome_id": { "type": "string" },
            "weight": { "type": "number", "exclusiveMinimum": 0, "default": 1.0 },
            "enabled": { "type": "boolean", "default": true },
            "ignore_args": { "type": "boolean", "default": true, "description": "Replay for any arguments, not only its own" }
        }), &["outcome_id"]),
        "SetModeRequest": object(json!({ "mode": mode }), &["mode"]),
        "SetRetentionRequest": object(json!({ "max_outcomes": { "type": ["integer", "null"], "minimum": 1 } }), &["max_outcomes"]),
        "RetentionSet": object(json!({ "status": { "const": "ok" }, "max_outcomes": { "type": ["integer", "null"] } }), &["status", "max_outcomes"]),
        "ModeSet": object(json!({ "status": { "const": "ok" }, "mode": mode }), &["status", "mode"]),
        "SetLatencyRequest": object(json!({ "latency_ms": { "type": "number", "minimum": 0, "maximum": 3_600_000 } }), &["latency_ms"]),
        "LatencySet": object(json!({ "status": { "const": "ok" }, "latency_ms": { "type": "number" } }), &["status", "latency_ms"]),
        "SetMockOutcomesRequest": object(json!({ "entries": { "type": "array", "items": { "$ref": "#/components/schemas/MockOutcome" } } }), &["entries"]),
        "ManualOutcomeRequest": object(json!({
            "outcome_type": { "type": "string", "enum": ["return", "exception"] },
            "value": { "description": "The value returned, or for an exception the error value (else the message is)" },
            "exception_message": { "type": ["string", "null"] },
            "exception_type": { "type": "string", "default": "ValueError", "description": "A label: never resolved to a type" },
            "is_mock_only": { "type": "boolean", "default": false },
            "args": { "description": "The arguments it answers, as outcomes' `args` show them; without, mock mode only" }
        }), &["outcome_type"]),
        "OutcomeAdded": object(json!({ "status": { "const": "ok" }, "outcome_id": { "type": "string" } }), &["status", "outcome_id"]),
        "OutcomeFile": { "type": "object", "description": "An outcome file of the data dir: `kind`, `args`, `value` (or `value_ron`), `error_type`, ...",
            "properties": { "kind": { "type": "string", "enum": ["return", "error"] }, "args": {}, "value": {}, "value_ron": { "type": "string" } },
            "required": ["kind"] },
        "Deleted": object(json!({ "status": { "const": "ok" }, "deleted": { "type": "integer" } }), &["status", "deleted"]),
        "Rebuilt": object(json!({
            "indexed": { "type": "integer" },
            "corrupt": { "type": "array", "items": object(json!({ "path": { "type": "string" }, "error": { "type": "string" } }), &["path", "error"]) }
        }), &["indexed", "corrupt"]),
        "RebuiltAll": object(json!({
            "functions": { "type": "array", "items": { "allOf": [
                { "$ref": "#/components/schemas/Rebuilt" },
                object(json!({ "id": { "type": "string" } }), &["id"])
            ] } }
        }), &["functions"])
    })
}
