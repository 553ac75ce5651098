//! The control methods of a decorated function's handle, [`Function`]:
//! each goes to the runtime of the calling thread (one bound to it by
//! [`Manager::bind`](crate::Manager::bind), else the process-wide one).

use std::sync::Arc;
use std::time::Duration;

use crate::manager::current_runtime;
use crate::model::error::Error;
use crate::model::event::Stats;
use crate::model::manual::ManualOutcome;
use crate::model::mock::MockOutcome;
use crate::model::mode::Mode;
use crate::model::outcome::OutcomeInfo;
use crate::runtime::Runtime;
use crate::runtime::function::Function;
use crate::runtime::manage::Rebuilt;
use crate::runtime::state::FunctionState;

impl Function {
    /// The current mode; [`Mode::Default`] when cacheow is off.
    pub fn mode(&self) -> Mode {
        self.state().map(|(_, state)| state.mode()).unwrap_or_default()
    }

    /// Switches the mode, from the next call on, in this and every process
    /// that shares the data dir.
    pub fn set_mode(&self, mode: Mode) -> Result<(), Error> {
        current_runtime()?.set_mode(self.id(), mode)
    }

    /// The artificial latency added to replayed calls (cache hits, mocks).
    pub fn latency(&self) -> Duration {
        self.state().map(|(_, state)| state.latency()).unwrap_or_default()
    }

    /// Sets the artificial latency added to replayed calls, to mimic the
    /// real function's. In an `async` function it does not block the executor.
    pub fn set_latency(&self, latency: Duration) -> Result<(), Error> {
        current_runtime()?.set_latency(self.id(), latency)
    }

    /// The recorded outcomes, oldest first.
    pub fn outcomes(&self) -> Result<Vec<OutcomeInfo>, Error> {
        Ok(self.state()?.1.outcome_infos())
    }

    /// Replaces how the recorded outcomes take part in mock mode.
    pub fn set_mock_outcomes(&self, outcomes: impl IntoIterator<Item = MockOutcome>) -> Result<(), Error> {
        self.state()?.0.set_mock_outcomes(self.id(), outcomes)
    }

    /// How the recorded outcomes take part in mock mode, as configured.
    pub fn mock_outcomes(&self) -> Result<Vec<MockOutcome>, Error> {
        current_runtime()?.mock_outcomes(self.id())
    }

    /// The call counts of the function, over every process.
    pub fn stats(&self) -> Result<Stats, Error> {
        current_runtime()?.stats(self.id())
    }

    /// Adds an outcome by hand; its id. Once the function ran in this
    /// process, an outcome that does not fit its return type is refused.
    ///
    /// ```no_run
    /// # #[cacheow::cacheow] fn forecast(city: String) -> String { city }
    /// # fn main() -> Result<(), cacheow::Error> {
    /// use cacheow::{ManualOutcome, Mode};
    ///
    /// let f = cacheow::handle!(forecast);
    /// f.add_manual_outcome(ManualOutcome::returns("hail"))?;
    /// f.set_mode(Mode::Mock)?;
    /// # Ok(()) }
    /// ```
    pub fn add_manual_outcome(&self, outcome: ManualOutcome) -> Result<String, Error> {
        self.state()?.0.add_manual_outcome(self.id(), outcome)
    }

    /// Deletes one outcome: its file, its row and its mock entry.
    pub fn delete_outcome(&self, outcome_id: &str) -> Result<(), Error> {
        self.state()?.0.delete_outcome(self.id(), outcome_id)
    }

    /// Rebuilds the function's index from its outcome files alone: after
    /// editing, copying or deleting them by hand. A file that does not
    /// parse, or no longer fits the return type, is left out and reported.
    pub fn rebuild_index(&self) -> Result<Rebuilt, Error> {
        self.state()?.0.rebuild_index(self.id())
    }

    /// Caps how many outcomes the function keeps (`None`: no cap): past it,
    /// the outcomes seen longest ago are dropped.
    pub fn set_max_outcomes(&self, max: Option<u64>) -> Result<(), Error> {
        self.state()?.0.set_max_outcomes(self.id(), max)
    }

    /// The function's cap on stored outcomes, if it has one.
    pub fn max_outcomes(&self) -> Result<Option<u64>, Error> {
        current_runtime()?.max_outcomes(self.id())
    }

    /// Deletes every recorded outcome of the function.
    pub fn clear(&self) -> Result<(), Error> {
        self.state()?.0.delete_outcomes(self.id()).map(drop)
    }

    /// The runtime of this thread, and the function's state there: loaded
    /// first, so that the function is registered.
    fn state(&self) -> Result<(Arc<Runtime>, Arc<FunctionState>), Error> {
        let runtime = current_runtime()?;
        let state = runtime.state(self);
        Ok((runtime, state))
    }
}
