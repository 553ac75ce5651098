//! The JSON API: the Python cacheow's endpoints, with its request and
//! response shapes, and the outcome management it lacks.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Panel;
use super::problem::{Loc, Problem};
use crate::catalog::{self, CallRow, FunctionRow, OutcomeRow};
use crate::db::ManualOutcome;
use crate::outcome::{OutcomeKind, Payload};
use crate::{Error, MAX_LATENCY, MockOutcome, Mode, ids};

/// Outcomes and calls in a function's detail: the first page.
pub(super) const PAGE: u64 = 50;
/// The most outcomes one page may ask for.
const MAX_PAGE: u64 = 500;

pub(super) fn routes() -> Router<Panel> {
    const FUNCTION: &str = "/api/functions/{function_id}";
    Router::new()
        .route("/api/health", get(health))
        .route("/api/functions", get(functions))
        .route(FUNCTION, get(function))
        .route(&format!("{FUNCTION}/mode"), post(set_mode))
        .route(&format!("{FUNCTION}/latency"), post(set_latency))
        .route(&format!("{FUNCTION}/mock-outcomes"), post(set_mock_outcomes))
        .route(&format!("{FUNCTION}/outcomes"), get(outcomes).delete(delete_outcomes))
        .route(&format!("{FUNCTION}/outcomes/manual"), post(add_manual_outcome))
        .route(&format!("{FUNCTION}/outcomes/{{outcome_id}}"), get(outcome).put(replace_outcome).delete(delete_outcome))
        .route(&format!("{FUNCTION}/rebuild-index"), post(rebuild_index))
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn functions(State(panel): State<Panel>) -> Result<Json<Vec<FunctionJson>>, Problem> {
    let rows = panel.db.read(catalog::functions)?;
    Ok(Json(rows.iter().map(FunctionJson::from).collect()))
}

async fn function(State(panel): State<Panel>, Path(function_id): Path<String>) -> Result<Json<DetailJson>, Problem> {
    let row = function_row(&panel, &function_id)?;
    let (total, outcomes) = panel.db.read(|conn| catalog::outcomes(conn, &row.id, 0, PAGE))?;
    let calls = panel.db.read(|conn| catalog::recent_calls(conn, &row.id, PAGE))?;
    let mock_outcomes = panel.db.mock_outcomes(&row.id)?;
    let detail = DetailJson {
        function: FunctionJson::from(&row),
        latency_ms: row.latency_ms,
        config: json!({}),
        outcomes: outcomes.iter().map(OutcomeJson::from).collect(),
        outcomes_total: total,
        recent_calls: calls.iter().map(|call| CallJson::new(&row.id, call)).collect(),
        mock_outcomes,
    };
    Ok(Json(detail))
}

#[derive(Deserialize)]
struct ModeRequest {
    mode: String,
}

async fn set_mode(
    State(panel): State<Panel>,
    Path(function_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, Problem> {
    let row = function_row(&panel, &function_id)?;
    let request: ModeRequest = read_json(body)?;
    let mode: Mode =
        request.mode.parse().map_err(|error: Error| Problem::invalid(loc(&["mode"]), error.to_string()))?;
    panel.db.set_mode(&row.id, mode)?;
    Ok(Json(json!({ "status": "ok", "mode": mode.as_str() })))
}

#[derive(Deserialize)]
struct LatencyRequest {
    latency_ms: f64,
}

async fn set_latency(
    State(panel): State<Panel>,
    Path(function_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, Problem> {
    let row = function_row(&panel, &function_id)?;
    let request: LatencyRequest = read_json(body)?;
    let latency = latency(request.latency_ms).map_err(|message| Problem::invalid(loc(&["latency_ms"]), message))?;
    panel.db.set_latency(&row.id, latency)?;
    Ok(Json(json!({ "status": "ok", "latency_ms": request.latency_ms })))
}

/// A latency in milliseconds, checked.
pub(super) fn latency(ms: f64) -> Result<std::time::Duration, String> {
    let max = MAX_LATENCY.as_millis();
    if !(0.0..=max as f64).contains(&ms) {
        return Err(format!("latency_ms must be from 0 to {max} (an hour), not {ms}"));
    }
    Ok(std::time::Duration::from_secs_f64(ms / 1000.0))
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
    Path(function_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, Problem> {
    let row = function_row(&panel, &function_id)?;
    let request: MockOutcomesRequest = read_json(body)?;
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
    save_mock_outcomes(&panel, &row.id, entries)?;
    Ok(Json(json!({ "status": "ok" })))
}

/// Replaces the mock configuration; a bad entry is named by its position.
pub(super) fn save_mock_outcomes(panel: &Panel, function_id: &str, entries: Vec<MockOutcome>) -> Result<(), Problem> {
    let at = |i: usize, field: &str| vec![json!("body"), json!("entries"), json!(i), json!(field)];
    if let Some(i) = entries.iter().position(|entry| !(entry.weight.is_finite() && entry.weight > 0.0)) {
        return Err(Problem::invalid(at(i, "weight"), Error::InvalidWeight { weight: entries[i].weight }.to_string()));
    }
    let ids: Vec<String> = entries.iter().map(|entry| entry.outcome_id.clone()).collect();
    panel.db.set_mock_outcomes(function_id, entries).map_err(|error| match &error {
        Error::UnknownOutcome { outcome_id, .. } => {
            let i = ids.iter().position(|id| id == outcome_id).unwrap_or_default();
            Problem::invalid(at(i, "outcome_id"), error.to_string())
        }
        _ => Problem::from(error),
    })
}

/// `POST .../outcomes/manual`, as the Python cacheow takes it, with the
/// arguments the outcome answers besides.
#[derive(Deserialize)]
pub(super) struct ManualRequest {
    pub(super) outcome_type: OutcomeType,
    #[serde(default)]
    pub(super) value: Value,
    #[serde(default)]
    pub(super) exception_message: Option<String>,
    /// A label: never resolved to a type.
    #[serde(default = "value_error")]
    pub(super) exception_type: String,
    #[serde(default)]
    pub(super) is_mock_only: bool,
    /// The arguments it answers, as the outcomes' `args` show them: a cache
    /// hit for those. Without them it answers in mock mode only.
    #[serde(default)]
    pub(super) args: Value,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum OutcomeType {
    Return,
    Exception,
}

fn value_error() -> String {
    "ValueError".to_owned()
}

impl ManualRequest {
    pub(super) fn into_manual(self) -> ManualOutcome {
        let canonical = |value: &Value| Payload::Json(crate::fixture::canonical_json(value).into());
        let (kind, payload, error_type) = match self.outcome_type {
            OutcomeType::Return => (OutcomeKind::Return, canonical(&self.value), None),
            OutcomeType::Exception => {
                // The error value when given (a serde error type), else the
                // message, which io and anyhow errors replay from.
                let value = match self.value {
                    Value::Null => Value::String(self.exception_message.unwrap_or_else(|| "manual exception".into())),
                    value => value,
                };
                (OutcomeKind::Error, canonical(&value), Some(self.exception_type))
            }
        };
        ManualOutcome {
            kind,
            payload,
            error_type,
            args: crate::fixture::canonical_json(&self.args),
            mock_only: self.is_mock_only,
        }
    }
}

async fn add_manual_outcome(
    State(panel): State<Panel>,
    Path(function_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, Problem> {
    let row = function_row(&panel, &function_id)?;
    let request: ManualRequest = read_json(body)?;
    let outcome_id = panel.db.add_manual_outcome(&row.id, request.into_manual())?;
    Ok(Json(json!({ "status": "ok", "outcome_id": outcome_id })))
}

async fn rebuild_index(State(panel): State<Panel>, Path(function_id): Path<String>) -> Result<Json<Value>, Problem> {
    let row = function_row(&panel, &function_id)?;
    let rebuilt = panel.db.rebuild_index(&row.id)?;
    let corrupt: Vec<Value> = rebuilt
        .corrupt
        .iter()
        .map(|file| json!({ "path": file.path.display().to_string(), "error": file.error }))
        .collect();
    Ok(Json(json!({ "indexed": rebuilt.indexed, "corrupt": corrupt })))
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
    Path(function_id): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<Value>, Problem> {
    let row = function_row(&panel, &function_id)?;
    let Query(query) = query.map_err(|rejection| Problem::invalid(vec![json!("query")], rejection.body_text()))?;
    if !(1..=MAX_PAGE).contains(&query.limit) {
        return Err(Problem::invalid(
            vec![json!("query"), json!("limit")],
            format!("limit must be from 1 to {MAX_PAGE}"),
        ));
    }
    let (total, page) = panel.db.read(|conn| catalog::outcomes(conn, &row.id, query.offset, query.limit))?;
    let outcomes: Vec<OutcomeJson> = page.iter().map(OutcomeJson::from).collect();
    Ok(Json(json!({ "total": total, "offset": query.offset, "limit": query.limit, "outcomes": outcomes })))
}

async fn delete_outcomes(State(panel): State<Panel>, Path(function_id): Path<String>) -> Result<Json<Value>, Problem> {
    let row = function_row(&panel, &function_id)?;
    let deleted = panel.db.delete_outcomes(&row.id)?;
    Ok(Json(json!({ "status": "ok", "deleted": deleted })))
}

/// An outcome's file, as JSON; a file that is not JSON (a bad hand edit) as
/// its text, so that it can be seen and fixed.
async fn outcome(State(panel): State<Panel>, Path((function_id, outcome_id)): Path<(String, String)>) -> Response {
    let text = function_row(&panel, &function_id).and_then(|row| Ok(panel.db.outcome_text(&row.id, &outcome_id)?));
    match text {
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(file) => Json(file).into_response(),
            Err(_) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response(),
        },
        Err(problem) => problem.into_response(),
    }
}

/// Replaces an outcome with the file in the body, as `GET` gives it.
async fn replace_outcome(
    State(panel): State<Panel>,
    Path((function_id, outcome_id)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, Problem> {
    let row = function_row(&panel, &function_id)?;
    let file: serde_json::Map<String, Value> = read_json(body)?;
    let text = Value::Object(file).to_string();
    panel.db.replace_outcome(&row.id, &outcome_id, &text)?;
    let saved = panel.db.outcome_text(&row.id, &outcome_id)?;
    Ok(Json(serde_json::from_str(&saved).unwrap_or(Value::Null)))
}

async fn delete_outcome(
    State(panel): State<Panel>,
    Path((function_id, outcome_id)): Path<(String, String)>,
) -> Result<Json<Value>, Problem> {
    let row = function_row(&panel, &function_id)?;
    panel.db.delete_outcome(&row.id, &outcome_id)?;
    Ok(Json(json!({ "status": "ok" })))
}

/// The function with this id; 404 for an id that is not one.
pub(super) fn function_row(panel: &Panel, function_id: &str) -> Result<FunctionRow, Problem> {
    if !ids::is_id(function_id) {
        return Err(Problem::function_not_found());
    }
    panel.db.read(|conn| catalog::function(conn, function_id))?.ok_or_else(Problem::function_not_found)
}

/// The body as JSON of type `T`; 422 naming what is wrong.
fn read_json<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, Problem> {
    let body = body.map_err(|rejection| Problem::from_rejection(&rejection))?;
    if body.is_empty() {
        return Err(Problem::invalid(loc(&[]), "the body is missing: send a JSON object"));
    }
    serde_json::from_slice(&body).map_err(|error| Problem::invalid(loc(&[]), format!("invalid body: {error}")))
}

fn loc(path: &[&str]) -> Loc {
    std::iter::once("body").chain(path.iter().copied()).map(|part| json!(part)).collect()
}

/// A function in `GET /api/functions`, as the Python cacheow lists it.
#[derive(Serialize)]
struct FunctionJson {
    id: String,
    name: String,
    qualname: String,
    module: String,
    source_file: String,
    signature: String,
    kind: String,
    mode: String,
    stats: StatsJson,
    /// No longer in the program that registered it.
    stale: bool,
}

#[derive(Serialize)]
struct StatsJson {
    total_calls: i64,
    cache_hits: i64,
    cache_misses: i64,
    mock_calls: i64,
    exceptions: i64,
    average_duration_ms: f64,
    /// Seconds since the Unix epoch.
    last_called_at: Option<f64>,
}

impl From<&FunctionRow> for FunctionJson {
    fn from(row: &FunctionRow) -> Self {
        let stats = &row.stats;
        let qualname =
            row.qualified_name.strip_prefix(&format!("{}::", row.module_path)).unwrap_or(&row.qualified_name);
        FunctionJson {
            id: row.id.clone(),
            name: row.name.clone(),
            qualname: qualname.to_owned(),
            module: row.module_path.clone(),
            source_file: row.source.clone(),
            signature: row.signature.clone(),
            kind: row.kind.clone(),
            mode: row.mode.clone(),
            stats: StatsJson {
                total_calls: stats.total_calls,
                cache_hits: stats.cache_hits,
                cache_misses: stats.cache_misses,
                mock_calls: stats.mock_calls,
                exceptions: stats.errors,
                average_duration_ms: stats.average_duration_ms(),
                last_called_at: stats.last_called_at_ms.map(seconds),
            },
            stale: row.stale,
        }
    }
}

#[derive(Serialize)]
struct DetailJson {
    #[serde(flatten)]
    function: FunctionJson,
    latency_ms: f64,
    config: Value,
    /// The newest outcomes; `GET .../outcomes` pages through the rest.
    outcomes: Vec<OutcomeJson>,
    outcomes_total: u64,
    recent_calls: Vec<CallJson>,
    mock_outcomes: Vec<MockOutcome>,
}

/// An outcome in a function's detail, as the Python cacheow lists it.
#[derive(Serialize)]
struct OutcomeJson {
    id: String,
    /// `success` or `exception`.
    kind: &'static str,
    preview: String,
    /// `null` for a manual outcome that answers no particular arguments.
    arg_key: Option<String>,
    arg_preview: String,
    /// Seconds since the Unix epoch.
    timestamp: f64,
    is_manual: bool,
    is_mock_only: bool,
    count: i64,
    duration_ms: f64,
    error_type: Option<String>,
}

impl From<&OutcomeRow> for OutcomeJson {
    fn from(row: &OutcomeRow) -> Self {
        let any_args = row.manual && row.args == "null";
        OutcomeJson {
            id: row.id.clone(),
            kind: if row.kind == OutcomeKind::Error.as_str() { "exception" } else { "success" },
            preview: row.value_preview.clone(),
            arg_key: (!any_args).then(|| row.arg_key.clone()),
            arg_preview: if any_args { "(manual)".to_owned() } else { crate::outcome::preview(&row.args, 200) },
            timestamp: seconds(row.recorded_at_ms),
            is_manual: row.manual,
            is_mock_only: row.mock_only,
            count: row.count,
            duration_ms: row.duration_ms,
            error_type: row.error_type.clone(),
        }
    }
}

/// A recent call, as the Python cacheow's `call_events`.
#[derive(Serialize)]
struct CallJson {
    id: i64,
    function_id: String,
    arg_key: String,
    arg_preview: Option<String>,
    mode: &'static str,
    /// `default`, `cache_hit`, `cache_miss`, `mock` or `error`.
    outcome: &'static str,
    duration_ms: f64,
    outcome_id: Option<String>,
    timestamp: f64,
}

impl CallJson {
    fn new(function_id: &str, call: &CallRow) -> CallJson {
        let error = call.outcome_kind.as_deref() == Some(OutcomeKind::Error.as_str());
        let (mode, outcome) = match call.event.as_str() {
            "hit" => ("cache", "cache_hit"),
            "miss" => ("cache", if error { "error" } else { "cache_miss" }),
            "mock" => ("mock", "mock"),
            _ => ("default", if error { "error" } else { "default" }),
        };
        CallJson {
            id: call.id,
            function_id: function_id.to_owned(),
            arg_key: call.arg_key.clone(),
            arg_preview: None,
            mode,
            outcome,
            duration_ms: call.duration_ms,
            outcome_id: call.outcome_id.clone(),
            timestamp: seconds(call.at_ms),
        }
    }
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}
