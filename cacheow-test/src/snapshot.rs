//! The outcomes a test recorded or replayed, in call order, for insta.

use std::time::Duration;

use cacheow::__harness::{OutcomeKind, Payload, Recorded};
use cacheow::Function;
use serde::Serialize;
use serde_json::Value;

/// One call, as a snapshot shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    function: String,
    args: Value,
    outcome: &'static str,
    value: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_type: Option<String>,
    /// Volatile: redacted by `assert_outcomes_snapshot!`.
    duration_ms: f64,
}

impl Entry {
    pub(crate) fn new(function: &Function, args: &str, outcome: &Recorded, duration: Duration) -> Entry {
        let value = match &outcome.payload {
            Payload::Json(json) => serde_json::from_str(json).unwrap_or(Value::Null),
            Payload::Ron(ron) => serde_json::json!({ "ron": &**ron }),
        };
        Entry {
            function: function.name().to_owned(),
            args: serde_json::from_str(args).unwrap_or(Value::Null),
            outcome: match outcome.kind {
                OutcomeKind::Error => "error",
                _ => "return",
            },
            value,
            error_type: outcome.error_type.as_deref().map(str::to_owned),
            duration_ms: duration.as_micros() as f64 / 1000.0,
        }
    }
}
