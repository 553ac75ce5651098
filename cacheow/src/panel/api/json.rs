//! The JSON API's answers, in the Python cacheow's shapes.

use serde::Serialize;
use serde_json::Value;

use super::super::Panel;
use crate::model::event::CallEvent;
use crate::model::mock::MockOutcome;
use crate::model::mode::Mode;
use crate::model::outcome::preview;
use crate::runtime::manage::Rebuilt;
use crate::store::calls::{CallRow, CallTotals};
use crate::store::files::CorruptFile;
use crate::store::functions::FunctionRow;
use crate::store::outcomes::OutcomeRow;
use crate::store::shared::TierView;

/// What a rebuild did; the paths of corrupt files within the data dir,
/// so that the client learns nothing of the machine.
#[derive(Serialize)]
pub(super) struct RebuiltJson<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    indexed: usize,
    corrupt: Vec<CorruptFile>,
}

impl<'a> RebuiltJson<'a> {
    pub(super) fn new(panel: &Panel, id: Option<&'a str>, rebuilt: &Rebuilt) -> RebuiltJson<'a> {
        let data_dir = panel.runtime.data_dir();
        RebuiltJson {
            id,
            indexed: rebuilt.indexed,
            corrupt: rebuilt.corrupt.iter().map(|file| file.within(data_dir)).collect(),
        }
    }
}

/// A function in `GET /api/functions`, as the Python cacheow lists it.
#[derive(Serialize)]
pub(super) struct FunctionJson<'a> {
    id: &'a str,
    name: &'a str,
    qualname: &'a str,
    module: &'a str,
    source_file: &'a str,
    signature: &'a str,
    kind: &'static str,
    mode: Mode,
    stats: StatsJson,
    /// No longer in the program that registered it.
    stale: bool,
}

/// A function's stats, with the Python cacheow's names.
#[derive(Serialize)]
struct StatsJson {
    total_calls: u64,
    cache_hits: u64,
    cache_misses: u64,
    mock_calls: u64,
    exceptions: u64,
    average_duration_ms: f64,
    /// Seconds since the Unix epoch.
    last_called_at: Option<f64>,
}

impl From<&CallTotals> for StatsJson {
    fn from(totals: &CallTotals) -> Self {
        let counts = &totals.counts;
        StatsJson {
            total_calls: counts.total_calls,
            cache_hits: counts.cache_hits,
            cache_misses: counts.cache_misses,
            mock_calls: counts.mock_calls,
            exceptions: counts.errors,
            average_duration_ms: totals.average_duration_ms(),
            last_called_at: totals.last_call_ms.map(seconds),
        }
    }
}

impl<'a> From<&'a FunctionRow> for FunctionJson<'a> {
    fn from(row: &'a FunctionRow) -> Self {
        FunctionJson {
            id: &row.id,
            name: &row.name,
            qualname: row.qualname(),
            module: &row.module_path,
            source_file: &row.source,
            signature: &row.signature,
            kind: row.kind.as_str(),
            mode: row.mode,
            stats: StatsJson::from(&row.totals),
            stale: row.stale,
        }
    }
}

#[derive(Serialize)]
pub(super) struct DetailJson<'a> {
    #[serde(flatten)]
    pub(super) function: FunctionJson<'a>,
    pub(super) latency_ms: f64,
    /// `max_outcomes`: the cap on stored outcomes, or `null`.
    pub(super) config: Value,
    /// The outcome files the last rebuild left out, and why.
    pub(super) corrupt_files: &'a [CorruptFile],
    /// The newest outcomes; `GET .../outcomes` pages through the rest.
    pub(super) outcomes: Vec<OutcomeJson<'a>>,
    pub(super) outcomes_total: u64,
    pub(super) recent_calls: Vec<CallJson<'a>>,
    pub(super) mock_outcomes: &'a [MockOutcome],
    /// The shared tier (Redis): its URL without the password, the
    /// connection's state, and how many of the function's outcomes it
    /// holds; `null` when none is set.
    pub(super) shared: Option<TierView>,
}

/// An outcome in a function's detail, as the Python cacheow lists it.
#[derive(Serialize)]
pub(super) struct OutcomeJson<'a> {
    id: &'a str,
    /// `success` or `exception`.
    kind: &'static str,
    preview: &'a str,
    /// `null` for a manual outcome that answers no particular arguments.
    arg_key: Option<&'a str>,
    arg_preview: String,
    /// Seconds since the Unix epoch.
    timestamp: f64,
    is_manual: bool,
    is_mock_only: bool,
    /// The items of a sequence its caller dropped before the end: never a
    /// cache hit.
    is_partial: bool,
    /// Recorded by another body of the function (drift).
    body_changed: bool,
    count: u64,
    duration_ms: f64,
    error_type: Option<&'a str>,
}

impl<'a> From<&'a OutcomeRow> for OutcomeJson<'a> {
    fn from(row: &'a OutcomeRow) -> Self {
        let any_args = row.answers_any_args();
        OutcomeJson {
            id: &row.id,
            kind: if row.kind.failed() { "exception" } else { "success" },
            preview: &row.value_preview,
            arg_key: (!any_args).then_some(row.arg_key.as_str()),
            arg_preview: if any_args { "(manual)".to_owned() } else { preview(&row.args, 200) },
            timestamp: seconds(row.recorded_at_ms),
            is_manual: row.manual,
            is_mock_only: row.mock_only,
            is_partial: row.partial,
            body_changed: row.body_changed,
            count: row.count,
            duration_ms: row.duration_ms,
            error_type: row.error_type.as_deref(),
        }
    }
}

/// A recent call, as the Python cacheow's `call_events`.
#[derive(Serialize)]
pub(super) struct CallJson<'a> {
    id: i64,
    function_id: &'a str,
    arg_key: &'a str,
    arg_preview: Option<String>,
    mode: Mode,
    /// `default`, `cache_hit`, `cache_miss`, `mock` or `error`.
    outcome: &'static str,
    /// What the call did, as [`CallStatus`](crate::CallStatus) says:
    /// `hit`, `stale_hit`, `miss`, `recorded`, `not_recorded`, `mock`,
    /// `bypassed` or `waited`.
    status: &'static str,
    duration_ms: f64,
    outcome_id: Option<&'a str>,
    timestamp: f64,
}

impl<'a> CallJson<'a> {
    pub(super) fn new(function_id: &'a str, call: &'a CallRow) -> CallJson<'a> {
        let (mode, outcome) = match call.event {
            CallEvent::Hit => (Mode::Cache, "cache_hit"),
            CallEvent::Miss => (Mode::Cache, if call.failed() { "error" } else { "cache_miss" }),
            CallEvent::Mock => (Mode::Mock, "mock"),
            CallEvent::Recorded => (Mode::Default, if call.failed() { "error" } else { "default" }),
        };
        CallJson {
            id: call.id,
            function_id,
            arg_key: &call.arg_key,
            arg_preview: None,
            mode,
            outcome,
            status: call.status().as_str(),
            duration_ms: call.duration_ms,
            outcome_id: call.outcome_id.as_deref(),
            timestamp: seconds(call.at_ms),
        }
    }
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}
