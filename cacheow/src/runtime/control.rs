//! Control of a function by id: its mode, latency and mock configuration,
//! written to the database and then to its state in memory, under the
//! control lock; and what the database says of it.

use std::time::Duration;

use rusqlite::Connection;

use crate::model::error::Error;
use crate::model::event::Stats;
use crate::model::ids;
use crate::model::latency::MAX_LATENCY;
use crate::model::mock::{self, MockOutcome};
use crate::model::mode::Mode;
use crate::model::outcome::OutcomeInfo;
use crate::runtime::state::FunctionState;
use crate::runtime::{Runtime, check_id, unknown};
use crate::store::functions::{self, Control, FunctionRow};
use crate::store::outcomes::OutcomeRow;
use crate::store::{Recordings, calls, outcomes};

impl Runtime {
    /// Sets the mode of the function with this id.
    pub(crate) fn set_mode(&self, function_id: &str, mode: Mode) -> Result<(), Error> {
        self.update(function_id, |conn| functions::set_mode(conn, function_id, mode), |state| state.set_mode(mode))
    }

    /// The mode of the function with this id.
    pub(crate) fn mode(&self, function_id: &str) -> Result<Mode, Error> {
        self.control(function_id).map(|control| control.mode)
    }

    /// Sets the artificial latency of the function with this id.
    pub(crate) fn set_latency(&self, function_id: &str, latency: Duration) -> Result<(), Error> {
        if latency > MAX_LATENCY {
            return Err(Error::InvalidLatency { latency });
        }
        self.update(
            function_id,
            |conn| functions::set_latency(conn, function_id, latency),
            |state| state.set_latency(latency),
        )
    }

    /// The artificial latency of the function with this id.
    pub(crate) fn latency(&self, function_id: &str) -> Result<Duration, Error> {
        self.control(function_id).map(|control| control.latency)
    }

    fn control(&self, function_id: &str) -> Result<Control, Error> {
        check_id(function_id)?;
        if let Some(state) = self.loaded(function_id) {
            return Ok(Control { mode: state.mode(), latency: state.latency(), generation: state.generation() });
        }
        self.store()?.read(|conn| functions::control(conn, function_id))?.ok_or_else(|| unknown(function_id))
    }

    /// Writes a change to the database, then to the loaded state, under the
    /// control lock.
    fn update(
        &self,
        function_id: &str,
        write: impl FnOnce(&Connection) -> Result<bool, Error>,
        apply: impl FnOnce(&FunctionState),
    ) -> Result<(), Error> {
        check_id(function_id)?;
        let watched = self.lock()?;
        if !write(&watched.conn)? {
            return Err(unknown(function_id));
        }
        if let Some(state) = self.loaded(function_id) {
            apply(&state);
        }
        Ok(())
    }

    /// Replaces the mock configuration of the function with this id.
    pub(crate) fn set_mock_outcomes(
        &self,
        function_id: &str,
        outcomes: impl IntoIterator<Item = MockOutcome>,
    ) -> Result<(), Error> {
        check_id(function_id)?;
        let entries = mock::entries(function_id, outcomes)?;
        // Outcomes this process recorded have their rows.
        self.catch_up();
        let mut watched = self.lock()?;
        if !functions::exists(&watched.conn, function_id)? {
            return Err(unknown(function_id));
        }
        for id in entries.keys() {
            if !outcomes::exists(&watched.conn, function_id, *id)? {
                return Err(Error::UnknownOutcome {
                    function_id: function_id.to_owned(),
                    outcome_id: ids::id_hex(*id),
                });
            }
        }
        crate::store::mock::set_entries(&mut watched.conn, function_id, &entries)?;
        if let Some(state) = self.loaded(function_id) {
            state.index_mut().set_mock_entries(entries);
        }
        Ok(())
    }

    /// The mock configuration of the function with this id, by outcome id.
    pub(crate) fn mock_outcomes(&self, function_id: &str) -> Result<Vec<MockOutcome>, Error> {
        check_id(function_id)?;
        self.store()?.read(|conn| crate::store::mock::outcomes(conn, function_id))
    }

    /// The call counts of the function with this id, over every process,
    /// this one's included.
    pub(crate) fn stats(&self, function_id: &str) -> Result<Stats, Error> {
        self.catch_up();
        self.store()?.read(|conn| calls::stats(conn, function_id))
    }

    /// Every registered function, by path.
    pub(crate) fn functions(&self) -> Result<Vec<FunctionRow>, Error> {
        self.store()?.read(functions::all)
    }

    /// The registered function with this id, if there is one.
    pub(crate) fn function(&self, function_id: &str) -> Result<Option<FunctionRow>, Error> {
        check_id(function_id)?;
        self.store()?.read(|conn| functions::get(conn, function_id))
    }

    /// The recorded outcomes of the function with this id, oldest first,
    /// this process's included.
    pub(crate) fn outcome_infos(&self, function_id: &str) -> Result<Vec<OutcomeInfo>, Error> {
        check_id(function_id)?;
        self.catch_up();
        let rows = self.store()?.read(|conn| outcomes::all(conn, function_id))?;
        Ok(rows.into_iter().map(OutcomeRow::into_info).collect())
    }

    /// What a function's page shows, in one read: `None` for an unknown id.
    pub(crate) fn recordings(&self, function_id: &str, offset: u64, limit: u64) -> Result<Option<Recordings>, Error> {
        check_id(function_id)?;
        self.store()?.recordings(function_id, offset, limit)
    }
}
