//! The control methods of a decorated function's handle, [`Function`]:
//! each goes to the runtime of the calling thread (one bound to it by
//! [`Manager::bind`](crate::Manager::bind), else the process-wide one).
//!
//! Off must mean off: a program that works with cacheow on works unchanged
//! with it off (`CACHEOW_ENABLE` unset, or a release build without the
//! `instrument` feature). Then a control method checks its input, does
//! nothing and returns `Ok`, and a query answers empty.

use std::sync::Arc;
use std::time::Duration;

use crate::manager::current_runtime;
use crate::model::error::Error;
use crate::model::event::Stats;
use crate::model::latency::MAX_LATENCY;
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
    /// that shares the data dir. With cacheow off, does nothing.
    pub fn set_mode(&self, mode: Mode) -> Result<(), Error> {
        self.control((), |runtime| runtime.set_mode(self.id(), mode))
    }

    /// The artificial latency added to replayed calls (cache hits, mocks);
    /// zero when cacheow is off.
    pub fn latency(&self) -> Duration {
        self.state().map(|(_, state)| state.latency()).unwrap_or_default()
    }

    /// Sets the artificial latency added to replayed calls, to mimic the
    /// real function's. In an `async` function it does not block the
    /// executor. With cacheow off, checks it and does nothing.
    pub fn set_latency(&self, latency: Duration) -> Result<(), Error> {
        if latency > MAX_LATENCY {
            return Err(Error::InvalidLatency { latency });
        }
        self.control((), |runtime| runtime.set_latency(self.id(), latency))
    }

    /// The recorded outcomes, oldest first; none when cacheow is off.
    pub fn outcomes(&self) -> Result<Vec<OutcomeInfo>, Error> {
        self.loaded(Vec::new(), |runtime| runtime.outcome_infos(self.id()))
    }

    /// Replaces how the recorded outcomes take part in mock mode. With
    /// cacheow off, does nothing.
    pub fn set_mock_outcomes(&self, outcomes: impl IntoIterator<Item = MockOutcome>) -> Result<(), Error> {
        self.loaded((), |runtime| runtime.set_mock_outcomes(self.id(), outcomes))
    }

    /// How the recorded outcomes take part in mock mode, as configured;
    /// none when cacheow is off.
    pub fn mock_outcomes(&self) -> Result<Vec<MockOutcome>, Error> {
        self.control(Vec::new(), |runtime| runtime.mock_outcomes(self.id()))
    }

    /// The call counts of the function, over every process; zeros when
    /// cacheow is off.
    pub fn stats(&self) -> Result<Stats, Error> {
        self.control(Stats::default(), |runtime| runtime.stats(self.id()))
    }

    /// Adds an outcome by hand; its id. Once the function ran in this
    /// process, an outcome that does not fit its return type is refused.
    /// With cacheow off, checks it, stores nothing and returns its id.
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
        match self.state() {
            Some((runtime, _)) => runtime.add_manual_outcome(self.id(), outcome),
            None => Ok(outcome.into_outcome(0)?.id_hex()),
        }
    }

    /// Deletes one outcome: its file, its row and its mock entry. With
    /// cacheow off, does nothing.
    pub fn delete_outcome(&self, outcome_id: &str) -> Result<(), Error> {
        self.loaded((), |runtime| runtime.delete_outcome(self.id(), outcome_id))
    }

    /// Rebuilds the function's index from its outcome files alone: after
    /// editing, copying or deleting them by hand. A file that does not
    /// parse, or no longer fits the return type, is left out and reported.
    /// With cacheow off, does nothing.
    pub fn rebuild_index(&self) -> Result<Rebuilt, Error> {
        self.loaded(Rebuilt::default(), |runtime| runtime.rebuild_index(self.id()))
    }

    /// Caps how many outcomes the function keeps (`None`: no cap): past it,
    /// the outcomes seen longest ago are dropped. With cacheow off, checks
    /// the cap and does nothing.
    pub fn set_max_outcomes(&self, max: Option<u64>) -> Result<(), Error> {
        if max == Some(0) {
            return Err(Error::InvalidRetention);
        }
        self.loaded((), |runtime| runtime.set_max_outcomes(self.id(), max))
    }

    /// The function's cap on stored outcomes, if it has one; none when
    /// cacheow is off.
    pub fn max_outcomes(&self) -> Result<Option<u64>, Error> {
        self.control(None, |runtime| runtime.max_outcomes(self.id()))
    }

    /// Deletes every recorded outcome of the function. With cacheow off,
    /// does nothing.
    pub fn clear(&self) -> Result<(), Error> {
        self.loaded((), |runtime| runtime.delete_outcomes(self.id()).map(drop))
    }

    /// Runs `change` on the runtime of this thread; `off` when there is none.
    fn control<T>(&self, off: T, change: impl FnOnce(&Runtime) -> Result<T, Error>) -> Result<T, Error> {
        match current_runtime() {
            Some(runtime) => change(&runtime),
            None => Ok(off),
        }
    }

    /// The same, once the function is loaded there, so that it is
    /// registered.
    pub(crate) fn loaded<T>(&self, off: T, change: impl FnOnce(&Runtime) -> Result<T, Error>) -> Result<T, Error> {
        match self.state() {
            Some((runtime, _)) => change(&runtime),
            None => Ok(off),
        }
    }

    /// The runtime of this thread, and the function's state there.
    pub(crate) fn state(&self) -> Option<(Arc<Runtime>, Arc<FunctionState>)> {
        let runtime = current_runtime()?;
        let state = runtime.state(self);
        Some((runtime, state))
    }
}
