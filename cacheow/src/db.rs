//! [`Db`]: the documented way to control functions by id, kept for the
//! code written against it. A façade over the runtime: each change takes
//! effect on the next call in this process, and within 100 ms in every
//! other process that shares the data dir.

use std::sync::Arc;
use std::time::Duration;

use crate::model::error::Error;
use crate::model::manual::ManualOutcome;
use crate::model::mock::MockOutcome;
use crate::model::mode::Mode;
use crate::runtime::Runtime;
use crate::runtime::manage::Rebuilt;

/// The data dir's database of modes, latencies and outcomes.
///
/// Changes made here take effect on the next call in this process, and
/// within 100 ms in every other process that shares the data dir.
///
/// ```no_run
/// # fn main() -> Result<(), cacheow::Error> {
/// let manager = cacheow::manager().expect("run with CACHEOW_ENABLE=1");
/// manager.db().set_mode("0123456789abcdef", cacheow::Mode::Mock)?;
/// # Ok(()) }
/// ```
pub struct Db {
    runtime: Arc<Runtime>,
}

impl Db {
    pub(crate) fn new(runtime: Arc<Runtime>) -> Db {
        Db { runtime }
    }

    /// Sets the mode of the function with this id.
    pub fn set_mode(&self, function_id: &str, mode: Mode) -> Result<(), Error> {
        self.runtime.set_mode(function_id, mode)
    }

    /// The mode of the function with this id.
    pub fn mode(&self, function_id: &str) -> Result<Mode, Error> {
        self.runtime.mode(function_id)
    }

    /// Sets the artificial latency of the function with this id; at most
    /// [`MAX_LATENCY`](crate::MAX_LATENCY).
    pub fn set_latency(&self, function_id: &str, latency: Duration) -> Result<(), Error> {
        self.runtime.set_latency(function_id, latency)
    }

    /// The artificial latency of the function with this id.
    pub fn latency(&self, function_id: &str) -> Result<Duration, Error> {
        self.runtime.latency(function_id)
    }

    /// Replaces the mock configuration of the function with this id.
    pub fn set_mock_outcomes(
        &self,
        function_id: &str,
        outcomes: impl IntoIterator<Item = MockOutcome>,
    ) -> Result<(), Error> {
        self.runtime.set_mock_outcomes(function_id, outcomes)
    }

    /// The mock configuration of the function with this id.
    pub fn mock_outcomes(&self, function_id: &str) -> Result<Vec<MockOutcome>, Error> {
        self.runtime.mock_outcomes(function_id)
    }

    /// Adds an outcome by hand; its id.
    pub fn add_manual_outcome(&self, function_id: &str, manual: ManualOutcome) -> Result<String, Error> {
        self.runtime.add_manual_outcome(function_id, manual)
    }

    /// The text of an outcome's file.
    pub fn outcome_text(&self, function_id: &str, outcome_id: &str) -> Result<String, Error> {
        self.runtime.outcome_text(function_id, outcome_id)
    }

    /// Replaces an outcome with `text`, which must read as an outcome file
    /// and fit the function's return type. It keeps its count, and its id
    /// unless its `args` changed: then it takes the id of what it now holds,
    /// and its file is renamed.
    pub fn replace_outcome(&self, function_id: &str, outcome_id: &str, text: &str) -> Result<(), Error> {
        self.runtime.replace_outcome(function_id, outcome_id, text).map(drop)
    }

    /// Deletes an outcome: its file, its row and its mock entry.
    pub fn delete_outcome(&self, function_id: &str, outcome_id: &str) -> Result<(), Error> {
        self.runtime.delete_outcome(function_id, outcome_id)
    }

    /// Rebuilds a function's outcome rows from its files alone. A file that
    /// does not parse, or (once the function ran in this process) does not
    /// fit its return type, is left out with a warning, and marked corrupt
    /// in the database with its path and the error.
    pub fn rebuild_index(&self, function_id: &str) -> Result<Rebuilt, Error> {
        self.runtime.rebuild_index(function_id)
    }

    /// Rebuilds the index of every function the data dir has files or rows
    /// for: after the database was deleted, or files were copied in. A
    /// function no program registered here is registered from its files.
    pub fn rebuild_all(&self) -> Result<Vec<(String, Rebuilt)>, Error> {
        self.runtime.rebuild_all()
    }

    /// Caps how many outcomes a function keeps (`None`: no cap), dropping
    /// the oldest beyond it now.
    pub fn set_max_outcomes(&self, function_id: &str, max: Option<u64>) -> Result<(), Error> {
        self.runtime.set_max_outcomes(function_id, max)
    }

    /// A function's cap on stored outcomes, if it has one.
    pub fn max_outcomes(&self, function_id: &str) -> Result<Option<u64>, Error> {
        self.runtime.max_outcomes(function_id)
    }
}
