//! The JSON API: the Python cacheow's endpoints, with its request and
//! response shapes, and the outcome management it lacks.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Panel;
use super::problem::Problem;
use super::requests::{self, Function, JsonBody, ManualRequest, OutcomeId, PAGE, body_loc};
use crate::db::{CallRow, FunctionRow, OutcomeRow};
use crate::outcome::OutcomeKind;
use crate::{MockOutcome, Mode, Rebuilt};

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
        .route("/api/rebuild-index", post(rebuild_all))
        .route(&format!("{FUNCTION}/retention"), post(set_retention))
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn functions(State(panel): State<Panel>) -> Result<Json<Vec<FunctionJson>>, Problem> {
    Ok(Json(panel.db.functions()?.iter().map(FunctionJson::from).collect()))
}

async fn function(State(panel): State<Panel>, Function(row): Function) -> Result<Json<DetailJson>, Problem> {
    let (total, outcomes) = panel.db.outcomes_page(&row.id, 0, PAGE)?;
    let calls = panel.db.recent_calls(&row.id, PAGE)?;
    let mock_outcomes = panel.db.mock_outcomes(&row.id)?;
    let corrupt_files = panel.db.corrupt_files(&row.id)?;
    Ok(Json(DetailJson {
        function: FunctionJson::from(&row),
        latency_ms: row.latency_ms,
        config: json!({ "max_outcomes": row.max_outcomes }),
        corrupt_files: corrupt_files.into_iter().map(|(path, error)| json!({ "path": path, "error": error })).collect(),
        outcomes: outcomes.iter().map(OutcomeJson::from).collect(),
        outcomes_total: total,
        recent_calls: calls.iter().map(|call| CallJson::new(&row.id, call)).collect(),
        mock_outcomes,
    }))
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
    panel.db.set_mode(&row.id, mode)?;
    Ok(Json(json!({ "status": "ok", "mode": mode.as_str() })))
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
    let latency = requests::latency(request.latency_ms)
        .map_err(|message| Problem::invalid(body_loc(&["latency_ms"]), message))?;
    panel.db.set_latency(&row.id, latency)?;
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
    panel
        .db
        .set_max_outcomes(&row.id, request.max_outcomes)
        .map_err(|error| Problem::from_error(error, || body_loc(&["max_outcomes"])))?;
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
    requests::set_mock_outcomes(&panel, &row.id, entries)?;
    Ok(Json(json!({ "status": "ok" })))
}

async fn add_manual_outcome(
    State(panel): State<Panel>,
    Function(row): Function,
    JsonBody(request): JsonBody<ManualRequest>,
) -> Result<Json<Value>, Problem> {
    let outcome_id = panel.db.add_manual_outcome(&row.id, request.into_manual())?;
    Ok(Json(json!({ "status": "ok", "outcome_id": outcome_id })))
}

async fn rebuild_index(State(panel): State<Panel>, Function(row): Function) -> Result<Json<Value>, Problem> {
    let rebuilt = panel.db.rebuild_index(&row.id)?;
    Ok(Json(rebuilt_json(&panel, &rebuilt)))
}

/// Every function the data dir has files or rows for, registered from its
/// files when no program did.
async fn rebuild_all(State(panel): State<Panel>) -> Result<Json<Value>, Problem> {
    let functions: Vec<Value> = panel
        .db
        .rebuild_all()?
        .iter()
        .map(|(id, rebuilt)| {
            let mut answer = rebuilt_json(&panel, rebuilt);
            answer["id"] = json!(id);
            answer
        })
        .collect();
    Ok(Json(json!({ "functions": functions })))
}

fn rebuilt_json(panel: &Panel, rebuilt: &Rebuilt) -> Value {
    let data_dir = panel.db.data_dir();
    // Paths within the data dir: the client learns nothing of the machine.
    let corrupt: Vec<Value> = rebuilt
        .corrupt
        .iter()
        .map(|file| {
            let path = file.path.strip_prefix(data_dir).unwrap_or(&file.path);
            json!({ "path": path.display().to_string(), "error": file.error })
        })
        .collect();
    json!({ "indexed": rebuilt.indexed, "corrupt": corrupt })
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
    let (total, page) = panel.db.outcomes_page(&row.id, query.offset, query.limit)?;
    let outcomes: Vec<OutcomeJson> = page.iter().map(OutcomeJson::from).collect();
    Ok(Json(json!({ "total": total, "offset": query.offset, "limit": query.limit, "outcomes": outcomes })))
}

async fn delete_outcomes(State(panel): State<Panel>, Function(row): Function) -> Result<Json<Value>, Problem> {
    let deleted = panel.db.delete_outcomes(&row.id)?;
    Ok(Json(json!({ "status": "ok", "deleted": deleted })))
}

/// An outcome's file, as JSON; a file that is not JSON (a bad hand edit) as
/// its text, so that it can be seen and fixed.
async fn outcome(
    State(panel): State<Panel>,
    Function(row): Function,
    OutcomeId(outcome_id): OutcomeId,
) -> Result<Response, Problem> {
    let text = panel.db.outcome_text(&row.id, &outcome_id)?;
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
    panel.db.replace_outcome(&row.id, &outcome_id, &Value::Object(file).to_string())?;
    let saved = panel.db.outcome_text(&row.id, &outcome_id)?;
    Ok(Json(serde_json::from_str(&saved).unwrap_or(Value::Null)))
}

async fn delete_outcome(
    State(panel): State<Panel>,
    Function(row): Function,
    OutcomeId(outcome_id): OutcomeId,
) -> Result<Json<Value>, Problem> {
    panel.db.delete_outcome(&row.id, &outcome_id)?;
    Ok(Json(json!({ "status": "ok" })))
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
    /// `max_outcomes`: the cap on stored outcomes, or `null`.
    config: Value,
    /// The outcome files the last rebuild left out, and why.
    corrupt_files: Vec<Value>,
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
    /// The items of a sequence its caller dropped before the end: never a
    /// cache hit.
    is_partial: bool,
    count: i64,
    duration_ms: f64,
    error_type: Option<String>,
}

impl From<&OutcomeRow> for OutcomeJson {
    fn from(row: &OutcomeRow) -> Self {
        let any_args = row.answers_any_args();
        OutcomeJson {
            id: row.id.clone(),
            kind: if failed(&row.kind) { "exception" } else { "success" },
            preview: row.value_preview.clone(),
            arg_key: (!any_args).then(|| row.arg_key.clone()),
            arg_preview: if any_args { "(manual)".to_owned() } else { crate::outcome::preview(&row.args, 200) },
            timestamp: seconds(row.recorded_at_ms),
            is_manual: row.manual,
            is_mock_only: row.mock_only,
            is_partial: row.partial,
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
        let error = call.outcome_kind.as_deref().is_some_and(failed);
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

/// An error or a panic: an exception, to the Python API.
fn failed(kind: &str) -> bool {
    kind == OutcomeKind::Error.as_str() || kind == OutcomeKind::Panic.as_str()
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}
