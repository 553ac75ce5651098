//! How the pages write times, durations and their own paths.

use crate::model::time;

/// `2026-11-21 10:04:05 UTC`.
pub(super) fn time(ms: i64) -> String {
    let text = time::rfc3339_seconds(ms);
    format!("{} UTC", text.replace('T', " ").trim_end_matches('Z'))
}

pub(super) fn millis(ms: f64) -> String {
    match ms {
        ms if ms < 1.0 => format!("{ms:.3} ms"),
        ms if ms < 100.0 => format!("{ms:.1} ms"),
        ms => format!("{ms:.0} ms"),
    }
}

/// A function's page.
pub(super) fn function_path(function_id: &str) -> String {
    format!("/ui/functions/{function_id}")
}

/// An outcome's page.
pub(super) fn outcome_path(function_id: &str, outcome_id: &str) -> String {
    format!("{}/outcomes/{outcome_id}", function_path(function_id))
}
