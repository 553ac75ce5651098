//! The mock configuration: how each recorded outcome takes part in mock mode.

use std::collections::HashMap;

use crate::model::error::Error;
use crate::model::ids;

/// How one outcome takes part in mock mode, keyed by its id in a
/// function's mock configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct MockEntry {
    /// Relative chance of being replayed; at most 0 never replays.
    pub(crate) weight: f64,
    pub(crate) enabled: bool,
    /// Replay it for any arguments, not only for those it was recorded with.
    pub(crate) ignore_args: bool,
}

/// A function's mock configuration: outcome id → entry.
pub(crate) type MockEntries = HashMap<u64, MockEntry>;

/// How one recorded outcome takes part in mock mode, as the Python
/// cacheow's `mock-outcomes` entries.
///
/// Without any entry, every outcome replays for any arguments, weighted by
/// how many calls recorded it. Once a function has entries, only the
/// outcomes they list (and enable) replay, as in the Python cacheow.
///
/// ```no_run
/// # #[cacheow::cacheow] fn fetch(id: u32) -> String { id.to_string() }
/// # fn main() -> Result<(), cacheow::Error> {
/// use cacheow::{Mode, MockOutcome};
///
/// let f = cacheow::handle!(fetch);
/// let outcomes = f.outcomes()?;
/// f.set_mock_outcomes([
///     MockOutcome::new(&outcomes[0].id).weight(3.0),
///     MockOutcome::new(&outcomes[1].id).ignore_args(false),
/// ])?;
/// f.set_mode(Mode::Mock)?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct MockOutcome {
    /// The outcome's id.
    pub outcome_id: String,
    /// Its relative chance of being replayed; above zero.
    pub weight: f64,
    /// Whether it is replayed at all.
    pub enabled: bool,
    /// Whether it is replayed for any arguments, or only for the arguments
    /// it was recorded with.
    pub ignore_args: bool,
}

impl MockOutcome {
    /// An entry with weight 1, enabled, replayed for any arguments.
    pub fn new(outcome_id: impl Into<String>) -> Self {
        MockOutcome { outcome_id: outcome_id.into(), weight: 1.0, enabled: true, ignore_args: true }
    }

    /// Sets the relative chance of being replayed.
    pub fn weight(mut self, weight: f64) -> Self {
        self.weight = weight;
        self
    }

    /// Sets whether the outcome is replayed at all.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Sets whether the outcome is replayed for any arguments.
    pub fn ignore_args(mut self, ignore_args: bool) -> Self {
        self.ignore_args = ignore_args;
        self
    }

    pub(crate) fn from_entry(id: u64, entry: MockEntry) -> Self {
        MockOutcome {
            outcome_id: ids::id_hex(id),
            weight: entry.weight,
            enabled: entry.enabled,
            ignore_args: entry.ignore_args,
        }
    }
}

/// Checks the entries and keys them by outcome id.
pub(crate) fn entries(
    function_id: &str,
    outcomes: impl IntoIterator<Item = MockOutcome>,
) -> Result<MockEntries, Error> {
    let mut entries = HashMap::new();
    for outcome in outcomes {
        let id = ids::parse_id(&outcome.outcome_id).ok_or_else(|| Error::UnknownOutcome {
            function_id: function_id.to_owned(),
            outcome_id: outcome.outcome_id.clone(),
        })?;
        // A weight is a positive number.
        if !(outcome.weight.is_finite() && outcome.weight > 0.0) {
            return Err(Error::InvalidWeight { weight: outcome.weight });
        }
        entries.insert(
            id,
            MockEntry { weight: outcome.weight, enabled: outcome.enabled, ignore_args: outcome.ignore_args },
        );
    }
    Ok(entries)
}
