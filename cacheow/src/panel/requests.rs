//! What a request names and sends, checked before anything changes: the
//! function and outcome in its path, its JSON body, and the values the
//! JSON API and the pages' forms share.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::Panel;
use super::problem::{Loc, Problem};
use crate::model::error::Error;
use crate::model::ids;
use crate::model::latency::MAX_LATENCY;
use crate::model::manual::ManualOutcome;
use crate::model::mock::MockOutcome;
use crate::store::functions::FunctionRow;

/// Outcomes and calls on a page, and in a function's detail.
pub(super) const PAGE: u64 = 50;

/// The registered function the path's `{function_id}` names; 404 for any
/// other text, before it reaches the database or a path.
pub(super) struct Function(pub(super) FunctionRow);

impl FromRequestParts<Panel> for Function {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, panel: &Panel) -> Result<Self, Problem> {
        let id = path_param(parts, panel, "function_id").await.ok_or_else(Problem::function_not_found)?;
        if !ids::is_id(&id) {
            return Err(Problem::function_not_found());
        }
        let row = panel.blocking(move |panel| Ok(panel.runtime.function(&id)?)).await?;
        row.map(Function).ok_or_else(Problem::function_not_found)
    }
}

/// The outcome id in the path; the database checks it is one.
pub(super) struct OutcomeId(pub(super) String);

impl FromRequestParts<Panel> for OutcomeId {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, panel: &Panel) -> Result<Self, Problem> {
        path_param(parts, panel, "outcome_id").await.map(OutcomeId).ok_or_else(Problem::outcome_not_found)
    }
}

async fn path_param(parts: &mut Parts, panel: &Panel, name: &str) -> Option<String> {
    let Path(mut params) = Path::<HashMap<String, String>>::from_request_parts(parts, panel).await.ok()?;
    params.remove(name)
}

/// A JSON body of type `T`; 422 naming what is wrong, 413 over the limit.
pub(super) struct JsonBody<T>(pub(super) T);

impl<T: DeserializeOwned> FromRequest<Panel> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, panel: &Panel) -> Result<Self, Problem> {
        let body = axum::body::Bytes::from_request(request, panel)
            .await
            .map_err(|rejection| Problem::from_rejection(&rejection))?;
        if body.is_empty() {
            return Err(Problem::invalid(body_loc(&[]), "the body is missing: send a JSON object"));
        }
        serde_json::from_slice(&body)
            .map(JsonBody)
            .map_err(|error| Problem::invalid(body_loc(&[]), format!("invalid body: {error}")))
    }
}

/// `["body", ...path]`.
pub(super) fn body_loc(path: &[&str]) -> Loc {
    std::iter::once("body").chain(path.iter().copied()).map(|part| json!(part)).collect()
}

/// Sets a latency given in milliseconds; one the runtime refuses, or that
/// is no duration at all, is a 422 at `loc`.
pub(super) fn set_latency(panel: &Panel, function_id: &str, ms: f64, loc: impl Fn() -> Loc) -> Result<(), Problem> {
    let invalid = |loc: &dyn Fn() -> Loc| {
        let max = MAX_LATENCY.as_millis();
        Problem::invalid(loc(), format!("latency_ms must be from 0 to {max} (an hour), not {ms}"))
    };
    let latency = Duration::try_from_secs_f64(ms / 1000.0).map_err(|_| invalid(&loc))?;
    panel.runtime.set_latency(function_id, latency).map_err(|error| match error {
        Error::InvalidLatency { .. } => invalid(&loc),
        error => Problem::from_error(error, loc),
    })
}

/// Replaces the mock configuration; a bad entry is named by its position.
pub(super) fn set_mock_outcomes(panel: &Panel, function_id: &str, entries: Vec<MockOutcome>) -> Result<(), Problem> {
    let at = |i: usize, field: &str| vec![json!("body"), json!("entries"), json!(i), json!(field)];
    let position = |found: &dyn Fn(&MockOutcome) -> bool| entries.iter().position(found).unwrap_or_default();
    let Err(error) = panel.runtime.set_mock_outcomes(function_id, entries.iter().cloned()) else { return Ok(()) };
    let (i, field) = match &error {
        Error::UnknownOutcome { outcome_id, .. } => (position(&|entry| entry.outcome_id == *outcome_id), "outcome_id"),
        Error::InvalidWeight { weight } => (position(&|entry| entry.weight.to_bits() == weight.to_bits()), "weight"),
        _ => return Err(Problem::from(error)),
    };
    Err(Problem::invalid(at(i, field), error.to_string()))
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
        let manual = match self.outcome_type {
            OutcomeType::Return => ManualOutcome::returns(&self.value),
            OutcomeType::Exception => {
                // The error value when given (a serde error type), else the
                // message, which io and anyhow errors replay from.
                let value = match self.value {
                    Value::Null => Value::String(self.exception_message.unwrap_or_else(|| "manual exception".into())),
                    value => value,
                };
                ManualOutcome::error(&value).error_type(self.exception_type)
            }
        };
        let manual = manual.for_args(&self.args);
        if self.is_mock_only { manual.mock_only() } else { manual }
    }
}
