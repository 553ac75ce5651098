//! What each form of a function's page does, once its fields are read:
//! one function per form, which the one form route runs.

use super::Target;
use super::form::{Fields, Notice};
use crate::panel::Panel;
use crate::panel::problem::Problem;
use crate::panel::requests;

/// A form's action on the page's function.
pub(super) type Action = fn(&Panel, &Target, &Fields) -> Result<Notice, Problem>;

/// Every form, by the path it posts to below its function's page.
pub(super) const FORMS: &[(&str, Action)] = &[
    ("mode", set_mode),
    ("latency", set_latency),
    ("mock-outcomes", set_mock_outcomes),
    ("outcomes/manual", add_manual_outcome),
    ("outcomes/delete", delete_outcomes),
    ("rebuild-index", rebuild_index),
    ("retention", set_retention),
    ("outcomes/{outcome_id}/delete", delete_outcome),
];

fn set_mode(panel: &Panel, target: &Target, fields: &Fields) -> Result<Notice, Problem> {
    panel.runtime.set_mode(&target.function.id, fields.mode()?)?;
    Ok(Notice::Mode)
}

fn set_latency(panel: &Panel, target: &Target, fields: &Fields) -> Result<Notice, Problem> {
    requests::set_latency(panel, &target.function.id, fields.latency_ms()?, || Fields::loc("latency_ms"))?;
    Ok(Notice::Latency)
}

fn set_mock_outcomes(panel: &Panel, target: &Target, fields: &Fields) -> Result<Notice, Problem> {
    requests::set_mock_outcomes(panel, &target.function.id, fields.mock_outcomes()?)?;
    Ok(Notice::MockOutcomes)
}

fn add_manual_outcome(panel: &Panel, target: &Target, fields: &Fields) -> Result<Notice, Problem> {
    panel.runtime.add_manual_outcome(&target.function.id, fields.manual_outcome()?.into_manual())?;
    Ok(Notice::ManualOutcome)
}

fn delete_outcomes(panel: &Panel, target: &Target, fields: &Fields) -> Result<Notice, Problem> {
    fields.confirmed()?;
    let deleted = panel.runtime.delete_outcomes(&target.function.id)?;
    Ok(Notice::Deleted { deleted })
}

fn rebuild_index(panel: &Panel, target: &Target, _: &Fields) -> Result<Notice, Problem> {
    let rebuilt = panel.runtime.rebuild_index(&target.function.id)?;
    Ok(Notice::Rebuilt { indexed: rebuilt.indexed as u64, corrupt: rebuilt.corrupt.len() as u64 })
}

fn set_retention(panel: &Panel, target: &Target, fields: &Fields) -> Result<Notice, Problem> {
    panel.runtime.set_max_outcomes(&target.function.id, fields.max_outcomes()?)?;
    Ok(Notice::Retention)
}

fn delete_outcome(panel: &Panel, target: &Target, _: &Fields) -> Result<Notice, Problem> {
    let outcome_id = target.outcome_id.as_deref().ok_or_else(Problem::outcome_not_found)?;
    panel.runtime.delete_outcome(&target.function.id, outcome_id)?;
    Ok(Notice::OutcomeDeleted)
}
