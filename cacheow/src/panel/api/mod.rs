//! The JSON API: the Python cacheow's endpoints, with its request and
//! response shapes, and the outcome management it lacks.

mod json;

use std::sync::OnceLock;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::on;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use self::json::{CallJson, DetailJson, FunctionJson, OutcomeJson, RebuiltJson};
use super::Panel;
use super::openapi;
use super::problem::Problem;
use super::requests::{self, Function, JsonBody, ManualRequest, OutcomeId, PAGE, body_loc};
use super::routes::{self, Answer, Operation, QueryParam, Verb};
use crate::model::mock::MockOutcome;
use crate::model::mode::Mode;

/// The most outcomes one page may ask for.
const MAX_PAGE: u64 = 500;

const MUTATIONS: &[&str] = &["404", "413", "422"];

/// Every operation of the JSON API, once: the router and the OpenAPI
/// document are both made from it.
static OPERATIONS: [Operation; 19] = [
    Operation {
        verb: Verb::Get,
        path: "/api/health",
        id: "health",
        summary: "Liveness",
        query: &[],
        body: None,
        answer: Answer::Schema("Status"),
        errors: &[],
        handler: |method| on(method, health),
    },
    Operation {
        verb: Verb::Get,
        path: "/api/functions",
        id: "listFunctions",
        summary: "Every registered function",
        query: &[],
        body: None,
        answer: Answer::ListOf("FunctionSummary"),
        errors: &[],
        handler: |method| on(method, functions),
    },
    Operation {
        verb: Verb::Get,
        path: "/api/functions/{function_id}",
        id: "getFunction",
        summary: "A function: stats, latency, its newest outcomes, recent calls and mock weights",
        query: &[],
        body: None,
        answer: Answer::Schema("FunctionDetail"),
        errors: &["404"],
        handler: |method| on(method, function),
    },
    Operation {
        verb: Verb::Post,
        path: "/api/functions/{function_id}/mode",
        id: "setMode",
        summary: "Set the mode",
        query: &[],
        body: Some("SetModeRequest"),
        answer: Answer::Schema("ModeSet"),
        errors: MUTATIONS,
        handler: |method| on(method, set_mode),
    },
    Operation {
        verb: Verb::Post,
        path: "/api/functions/{function_id}/latency",
        id: "setLatency",
        summary: "Set the artificial latency of replays",
        query: &[],
        body: Some("SetLatencyRequest"),
        answer: Answer::Schema("LatencySet"),
        errors: MUTATIONS,
        handler: |method| on(method, set_latency),
    },
    Operation {
        verb: Verb::Post,
        path: "/api/functions/{function_id}/mock-outcomes",
        id: "setMockOutcomes",
        summary: "Replace the mock weights: once set, only listed outcomes replay in mock mode",
        query: &[],
        body: Some("SetMockOutcomesRequest"),
        answer: Answer::Schema("Status"),
        errors: MUTATIONS,
        handler: |method| on(method, set_mock_outcomes),
    },
    Operation {
        verb: Verb::Get,
        path: "/api/functions/{function_id}/outcomes",
        id: "listOutcomes",
        summary: "A page of outcomes, newest first",
        query: &[
            QueryParam { name: "offset", minimum: 0, maximum: None, default: 0 },
            QueryParam { name: "limit", minimum: 1, maximum: Some(MAX_PAGE), default: PAGE },
        ],
        body: None,
        answer: Answer::Schema("OutcomePage"),
        errors: &["404", "422"],
        handler: |method| on(method, outcomes),
    },
    Operation {
        verb: Verb::Delete,
        path: "/api/functions/{function_id}/outcomes",
        id: "deleteOutcomes",
        summary: "Delete every outcome, files included",
        query: &[],
        body: None,
        answer: Answer::Schema("Deleted"),
        errors: &["404"],
        handler: |method| on(method, delete_outcomes),
    },
    Operation {
        verb: Verb::Post,
        path: "/api/functions/{function_id}/outcomes/manual",
        id: "addManualOutcome",
        summary: "Add an outcome by hand",
        query: &[],
        body: Some("ManualOutcomeRequest"),
        answer: Answer::Schema("OutcomeAdded"),
        errors: MUTATIONS,
        handler: |method| on(method, add_manual_outcome),
    },
    Operation {
        verb: Verb::Get,
        path: "/api/functions/{function_id}/outcomes/{outcome_id}",
        id: "getOutcome",
        summary: "An outcome's file",
        query: &[],
        body: None,
        answer: Answer::Schema("OutcomeFile"),
        errors: &["404"],
        handler: |method| on(method, outcome),
    },
    Operation {
        verb: Verb::Put,
        path: "/api/functions/{function_id}/outcomes/{outcome_id}",
        id: "replaceOutcome",
        summary: "Replace an outcome's file, checked first; it keeps its id and count",
        query: &[],
        body: Some("OutcomeFile"),
        answer: Answer::Schema("OutcomeFile"),
        errors: MUTATIONS,
        handler: |method| on(method, replace_outcome),
    },
    Operation {
        verb: Verb::Delete,
        path: "/api/functions/{function_id}/outcomes/{outcome_id}",
        id: "deleteOutcome",
        summary: "Delete an outcome and its file",
        query: &[],
        body: None,
        answer: Answer::Schema("Status"),
        errors: &["404"],
        handler: |method| on(method, delete_outcome),
    },
    Operation {
        verb: Verb::Post,
        path: "/api/functions/{function_id}/rebuild-index",
        id: "rebuildIndex",
        summary: "Rebuild the function's outcome index from its files",
        query: &[],
        body: None,
        answer: Answer::Schema("Rebuilt"),
        errors: &["404"],
        handler: |method| on(method, rebuild_index),
    },
    Operation {
        verb: Verb::Post,
        path: "/api/rebuild-index",
        id: "rebuildAllIndexes",
        summary: "Rebuild the outcome index of every function from the files alone",
        query: &[],
        body: None,
        answer: Answer::Schema("RebuiltAll"),
        errors: &[],
        handler: |method| on(method, rebuild_all),
    },
    Operation {
        verb: Verb::Post,
        path: "/api/functions/{function_id}/retention",
        id: "setRetention",
        summary: "Cap the outcomes kept (null: no cap); the oldest go first",
        query: &[],
        body: Some("SetRetentionRequest"),
        answer: Answer::Schema("RetentionSet"),
        errors: MUTATIONS,
        handler: |method| on(method, set_retention),
    },
    Operation {
        verb: Verb::Post,
        path: "/api/tags/{tag}/clear",
        id: "clearTag",
        summary: "Delete every outcome of the functions with this tag",
        query: &[],
        body: None,
        answer: Answer::Schema("Deleted"),
        errors: &[],
        handler: |method| on(method, clear_tag),
    },
    Operation {
        verb: Verb::Post,
        path: "/api/functions/{function_id}/invalidate",
        id: "invalidate",
        summary: "Delete a function's outcomes for these arguments, as its outcomes show them",
        query: &[],
        body: Some("InvalidateRequest"),
        answer: Answer::Schema("Deleted"),
        errors: MUTATIONS,
        handler: |method| on(method, invalidate),
    },
    Operation {
        verb: Verb::Post,
        path: "/api/functions/{function_id}/cleanup-expired",
        id: "cleanupExpired",
        summary: "Delete a function's outcomes last recorded longer ago than its ttl",
        query: &[],
        body: None,
        answer: Answer::Schema("Deleted"),
        errors: &["404"],
        handler: |method| on(method, cleanup_expired),
    },
    Operation {
        verb: Verb::Get,
        path: "/api/openapi.json",
        id: "openapi",
        summary: "This document",
        query: &[],
        body: None,
        answer: Answer::AnyJson,
        errors: &[],
        handler: |method| on(method, openapi_document),
    },
];

pub(super) fn routes() -> Router<Panel> {
    routes::router(&OPERATIONS)
}

async fn openapi_document() -> Json<&'static Value> {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    Json(DOCUMENT.get_or_init(|| openapi::document(&OPERATIONS)))
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

// Answers are serialized here, while the rows they borrow from live.

async fn functions(State(panel): State<Panel>) -> Result<Response, Problem> {
    let functions = panel.blocking(|panel| Ok(panel.runtime.functions()?)).await?;
    Ok(Json(functions.iter().map(FunctionJson::from).collect::<Vec<_>>()).into_response())
}

async fn function(State(panel): State<Panel>, Function(row): Function) -> Result<Response, Problem> {
    let (recordings, tier) = panel
        .blocking(move |panel| {
            let recordings = panel.runtime.recordings(&row.id, 0, PAGE)?;
            Ok((recordings, panel.tier(&row)))
        })
        .await?;
    let recordings = recordings.ok_or_else(Problem::function_not_found)?;
    let function = &recordings.function;
    let detail = DetailJson {
        function: FunctionJson::from(function),
        latency_ms: function.latency_ms(),
        config: json!({ "max_outcomes": function.max_outcomes }),
        corrupt_files: &recordings.corrupt,
        outcomes: recordings.outcomes.iter().map(OutcomeJson::from).collect(),
        outcomes_total: function.outcomes,
        recent_calls: recordings.calls.iter().map(|call| CallJson::new(&function.id, call)).collect(),
        mock_outcomes: &recordings.mock_outcomes,
        shared: tier,
    };
    Ok(Json(detail).into_response())
}

#[derive(Deserialize)]
struct ModeRequest {
    mode: String,
}

async fn set_mode(
    State(panel): State<Panel>,
    Function(row): Function,
    JsonBody(request): JsonBody<ModeRequest>,
) -> Result<Json<Value>, Problem> {
    let mode: Mode = request.mode.parse().map_err(|error| Problem::from_error(error, || body_loc(&["mode"])))?;
    panel.blocking(move |panel| Ok(panel.runtime.set_mode(&row.id, mode)?)).await?;
    Ok(Json(json!({ "status": "ok", "mode": mode })))
}

#[derive(Deserialize)]
struct LatencyRequest {
    latency_ms: f64,
}

async fn set_latency(
    State(panel): State<Panel>,
    Function(row): Function,
    JsonBody(request): JsonBody<LatencyRequest>,
) -> Result<Json<Value>, Problem> {
    let ms = request.latency_ms;
    panel.blocking(move |panel| requests::set_latency(&panel, &row.id, ms, || body_loc(&["latency_ms"]))).await?;
    Ok(Json(json!({ "status": "ok", "latency_ms": request.latency_ms })))
}

#[derive(Deserialize)]
struct RetentionRequest {
    /// `null`: no cap.
    max_outcomes: Option<u64>,
}

async fn set_retention(
    State(panel): State<Panel>,
    Function(row): Function,
    JsonBody(request): JsonBody<RetentionRequest>,
) -> Result<Json<Value>, Problem> {
    let max = request.max_outcomes;
    panel
        .blocking(move |panel| {
            panel
                .runtime
                .set_max_outcomes(&row.id, max)
                .map_err(|error| Problem::from_error(error, || body_loc(&["max_outcomes"])))
        })
        .await?;
    Ok(Json(json!({ "status": "ok", "max_outcomes": request.max_outcomes })))
}

#[derive(Deserialize)]
struct MockOutcomesRequest {
    entries: Vec<MockOutcomeEntry>,
}

/// An entry of `mock-outcomes`, with the Python cacheow's defaults.
#[derive(Deserialize)]
struct MockOutcomeEntry {
    outcome_id: String,
    #[serde(default = "one")]
    weight: f64,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default = "yes")]
    ignore_args: bool,
}

fn one() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

async fn set_mock_outcomes(
    State(panel): State<Panel>,
    Function(row): Function,
    JsonBody(request): JsonBody<MockOutcomesRequest>,
) -> Result<Json<Value>, Problem> {
    let entries = request
        .entries
        .into_iter()
        .map(|entry| {
            MockOutcome::new(entry.outcome_id)
                .weight(entry.weight)
                .enabled(entry.enabled)
                .ignore_args(entry.ignore_args)
        })
        .collect();
    panel.blocking(move |panel| requests::set_mock_outcomes(&panel, &row.id, entries)).await?;
    Ok(Json(json!({ "status": "ok" })))
}

async fn add_manual_outcome(
    State(panel): State<Panel>,
    Function(row): Function,
    JsonBody(request): JsonBody<ManualRequest>,
) -> Result<Json<Value>, Problem> {
    let manual = request.into_manual();
    let outcome_id = panel.blocking(move |panel| Ok(panel.runtime.add_manual_outcome(&row.id, manual)?)).await?;
    Ok(Json(json!({ "status": "ok", "outcome_id": outcome_id })))
}

async fn rebuild_index(State(panel): State<Panel>, Function(row): Function) -> Result<Response, Problem> {
    let rebuilt = panel.blocking(move |panel| Ok(panel.runtime.rebuild_index(&row.id)?)).await?;
    Ok(Json(RebuiltJson::new(&panel, None, &rebuilt)).into_response())
}

/// Every function the data dir has files or rows for, registered from its
/// files when no program did.
async fn rebuild_all(State(panel): State<Panel>) -> Result<Json<Value>, Problem> {
    let rebuilt = panel.blocking(|panel| Ok(panel.runtime.rebuild_all()?)).await?;
    let functions: Vec<RebuiltJson<'_>> =
        rebuilt.iter().map(|(id, rebuilt)| RebuiltJson::new(&panel, Some(id), rebuilt)).collect();
    Ok(Json(json!({ "functions": functions })))
}

async fn clear_tag(State(panel): State<Panel>, Path(tag): Path<String>) -> Result<Json<Value>, Problem> {
    let deleted = panel.blocking(move |panel| Ok(panel.runtime.clear_tag(&tag)?)).await?;
    Ok(Json(json!({ "status": "ok", "deleted": deleted })))
}

#[derive(Deserialize)]
struct InvalidateRequest {
    args: Value,
}

async fn invalidate(
    State(panel): State<Panel>,
    Function(row): Function,
    JsonBody(request): JsonBody<InvalidateRequest>,
) -> Result<Json<Value>, Problem> {
    let deleted = panel.blocking(move |panel| Ok(panel.runtime.invalidate(&row.id, &request.args)?)).await?;
    Ok(Json(json!({ "status": "ok", "deleted": deleted })))
}

async fn cleanup_expired(State(panel): State<Panel>, Function(row): Function) -> Result<Json<Value>, Problem> {
    let deleted = panel.blocking(move |panel| Ok(panel.runtime.cleanup_expired(&row.id)?)).await?;
    Ok(Json(json!({ "status": "ok", "deleted": deleted })))
}

#[derive(Deserialize)]
struct PageQuery {
    #[serde(default)]
    offset: u64,
    #[serde(default = "page")]
    limit: u64,
}

fn page() -> u64 {
    PAGE
}

async fn outcomes(
    State(panel): State<Panel>,
    Function(row): Function,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<Value>, Problem> {
    let Query(query) = query.map_err(|rejection| Problem::invalid(vec![json!("query")], rejection.body_text()))?;
    if !(1..=MAX_PAGE).contains(&query.limit) {
        let loc = vec![json!("query"), json!("limit")];
        return Err(Problem::invalid(loc, format!("limit must be from 1 to {MAX_PAGE}")));
    }
    let (offset, limit) = (query.offset, query.limit);
    let recordings = panel.blocking(move |panel| Ok(panel.runtime.recordings(&row.id, offset, limit)?)).await?;
    let recordings = recordings.ok_or_else(Problem::function_not_found)?;
    let outcomes: Vec<OutcomeJson<'_>> = recordings.outcomes.iter().map(OutcomeJson::from).collect();
    let total = recordings.function.outcomes;
    Ok(Json(json!({ "total": total, "offset": query.offset, "limit": query.limit, "outcomes": outcomes })))
}

async fn delete_outcomes(State(panel): State<Panel>, Function(row): Function) -> Result<Json<Value>, Problem> {
    let deleted = panel.blocking(move |panel| Ok(panel.runtime.delete_outcomes(&row.id)?)).await?;
    Ok(Json(json!({ "status": "ok", "deleted": deleted })))
}

/// An outcome's file, as JSON; a file that is not JSON (a bad hand edit) as
/// its text, so that it can be seen and fixed.
async fn outcome(
    State(panel): State<Panel>,
    Function(row): Function,
    OutcomeId(outcome_id): OutcomeId,
) -> Result<Response, Problem> {
    let text = panel.blocking(move |panel| Ok(panel.runtime.outcome_text(&row.id, &outcome_id)?)).await?;
    Ok(match serde_json::from_str::<Value>(&text) {
        Ok(file) => Json(file).into_response(),
        Err(_) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response(),
    })
}

/// Replaces an outcome with the file in the body, as `GET` gives it.
async fn replace_outcome(
    State(panel): State<Panel>,
    Function(row): Function,
    OutcomeId(outcome_id): OutcomeId,
    JsonBody(file): JsonBody<serde_json::Map<String, Value>>,
) -> Result<Json<Value>, Problem> {
    let saved = panel
        .blocking(move |panel| {
            let saved_id = panel.runtime.replace_outcome(&row.id, &outcome_id, &Value::Object(file).to_string())?;
            Ok(panel.runtime.outcome_text(&row.id, &saved_id)?)
        })
        .await?;
    Ok(Json(serde_json::from_str(&saved).unwrap_or(Value::Null)))
}

async fn delete_outcome(
    State(panel): State<Panel>,
    Function(row): Function,
    OutcomeId(outcome_id): OutcomeId,
) -> Result<Json<Value>, Problem> {
    panel.blocking(move |panel| Ok(panel.runtime.delete_outcome(&row.id, &outcome_id)?)).await?;
    Ok(Json(json!({ "status": "ok" })))
}
