//! `GET /api/openapi.json`: the JSON API as OpenAPI 3.1, made from the
//! operations that the router serves. The router tests check every
//! operation here against the server.

use serde_json::{Map, Value, json};

use super::routes::{Answer, Operation};

/// The OpenAPI 3.1 document of `operations`.
pub(super) fn document(operations: &[Operation]) -> Value {
    let mut paths = Map::new();
    for operation in operations {
        let item = paths.entry(operation.path).or_insert_with(|| json!({}));
        item[operation.verb.as_str()] = describe(operation);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "cacheow control panel",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Drives the #[cacheow] functions of a data dir: modes, latency, mock weights and outcomes. \
                Compatible with the Python cacheow's API. Every state-changing request needs `Content-Type: \
                application/json`; with CACHEOW_TOKEN set, every request needs `Authorization: Bearer <token>`."
        },
        "paths": paths,
        "components": { "schemas": schemas() }
    })
}

/// One operation, as the document describes it.
fn describe(operation: &Operation) -> Value {
    let mut parameters: Vec<Value> = path_parameters(operation.path).map(path_parameter).collect();
    parameters.extend(operation.query.iter().map(|param| {
        let mut schema = json!({ "type": "integer", "minimum": param.minimum, "default": param.default });
        if let Some(maximum) = param.maximum {
            schema["maximum"] = json!(maximum);
        }
        json!({ "name": param.name, "in": "query", "schema": schema })
    }));
    let content = match operation.answer {
        Answer::Schema(name) => json_of(name),
        Answer::ListOf(name) => {
            json!({ "application/json": { "schema": { "type": "array", "items": { "$ref": schema_ref(name) } } } })
        }
        Answer::AnyJson => json!({ "application/json": {} }),
    };
    let mut responses = errors(operation.errors);
    responses["200"] = json!({ "description": "OK", "content": content });
    let mut described = json!({ "summary": operation.summary, "operationId": operation.id, "responses": responses });
    if !parameters.is_empty() {
        described["parameters"] = Value::Array(parameters);
    }
    if let Some(body) = operation.body {
        described["requestBody"] = json!({ "required": true, "content": json_of(body) });
    }
    described
}

/// The names in a path's `{...}` placeholders.
fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

fn path_parameter(name: &str) -> Value {
    let mut parameter = json!({
        "name": name, "in": "path", "required": true,
        "schema": { "type": "string", "pattern": "^[0-9a-f]{16}$" }
    });
    if name == "function_id" {
        parameter["description"] = json!("The function's id, as `cacheow::handle!(f).id()` gives it.");
    }
    parameter
}

/// The error answers of `codes`, and of those any request may meet: the
/// access rules and a failing storage.
fn errors(codes: &[&str]) -> Value {
    let always = ["401", "403", "503"];
    let errors: Map<String, Value> = codes
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
        .collect();
    Value::Object(errors)
}

fn schema_ref(name: &str) -> String {
    format!("#/components/schemas/{name}")
}

/// A JSON content of the schema `name`.
fn json_of(name: &str) -> Value {
    json!({ "application/json": { "schema": { "$ref": schema_ref(name) } } })
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
            "mock_outcomes": { "type": "array", "items": { "$ref": "#/components/schemas/MockOutcome" } },
            "shared": { "oneOf": [{ "type": "null" }, object(json!({
                "url": { "type": "string", "description": "Without its password" },
                "connection": { "type": "string", "enum": ["connecting", "connected", "unreachable", "refused the credentials"] },
                "shared": { "type": "boolean", "description": "false with `#[cacheow(shared = false)]`" },
                "outcomes": { "type": ["integer", "null"], "description": "How many Redis holds; null without an answer" },
                "pending": { "type": "integer", "description": "Pushes of this process yet to reach Redis" }
            }), &["url", "connection", "shared", "outcomes", "pending"])], "description": "The shared tier; null when CACHEOW_REDIS_URL is unset" }
        }), &["latency_ms", "config", "corrupt_files", "outcomes", "outcomes_total", "recent_calls", "mock_outcomes", "shared"])] },
        "Outcome": object(json!({
            "id": { "type": "string" }, "kind": { "type": "string", "enum": ["success", "exception"] },
            "preview": { "type": "string" }, "arg_key": { "type": ["string", "null"] }, "arg_preview": { "type": "string" },
            "timestamp": seconds, "is_manual": { "type": "boolean" }, "is_mock_only": { "type": "boolean" },
            "is_partial": { "type": "boolean" },
            "body_changed": { "type": "boolean", "description": "Recorded by another body of the function (drift)" },
            "count": { "type": "integer" }, "duration_ms": { "type": "number" }, "error_type": { "type": ["string", "null"] }
        }), &["id", "kind", "preview", "arg_key", "arg_preview", "timestamp", "is_manual", "is_mock_only", "body_changed"]),
        "OutcomePage": object(json!({
            "total": { "type": "integer" }, "offset": { "type": "integer" }, "limit": { "type": "integer" },
            "outcomes": { "type": "array", "items": { "$ref": "#/components/schemas/Outcome" } }
        }), &["total", "offset", "limit", "outcomes"]),
        "Call": object(json!({
            "id": { "type": "integer" }, "function_id": { "type": "string" }, "arg_key": { "type": "string" },
            "arg_preview": { "type": ["string", "null"] }, "mode": mode,
            "outcome": { "type": "string", "enum": ["default", "cache_hit", "cache_miss", "mock", "error"] },
            "status": { "type": "string", "enum": ["hit", "stale_hit", "miss", "recorded", "not_recorded", "mock", "bypassed", "waited", "shared_hit"] },
            "duration_ms": { "type": "number" }, "outcome_id": { "type": ["string", "null"] }, "timestamp": seconds
        }), &["id", "function_id", "mode", "outcome", "status", "timestamp"]),
        "MockOutcome": object(json!({
            "outcome_id": { "type": "string" },
            "weight": { "type": "number", "exclusiveMinimum": 0, "default": 1.0 },
            "enabled": { "type": "boolean", "default": true },
            "ignore_args": { "type": "boolean", "default": true, "description": "Replay for any arguments, not only its own" }
        }), &["outcome_id"]),
        "SetModeRequest": object(json!({ "mode": mode }), &["mode"]),
        "SetRetentionRequest": object(json!({ "max_outcomes": { "type": ["integer", "null"], "minimum": 1 } }), &["max_outcomes"]),
        "RetentionSet": object(json!({ "status": { "const": "ok" }, "max_outcomes": { "type": ["integer", "null"] } }), &["status", "max_outcomes"]),
        "InvalidateRequest": object(json!({ "args": { "description": "The arguments, as the function's outcomes show them: {\"id\": 3}" } }), &["args"]),
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
