//! The store: a data dir on disk. The SQLite database (registrations,
//! modes, mock weights, stats, recent calls and the index of outcomes), one
//! JSON file per outcome, the background writer, and retention.
//!
//! It takes and returns model types and plain rows; it knows nothing of
//! decorated functions or their state in memory. What it needs of the
//! runtime (the calls it tallied, where to drop what retention deletes)
//! comes in through [`writer::Activity`].

pub(crate) mod calls;
pub(crate) mod files;
pub(crate) mod fixture;
pub(crate) mod fixture_folder;
pub(crate) mod functions;
pub(crate) mod mock;
pub(crate) mod outcomes;
pub(crate) mod readers;
pub(crate) mod retention;
pub(crate) mod schema;
pub(crate) mod shared;
pub(crate) mod sql;
pub(crate) mod writer;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::Connection;

use crate::model::error::Error;
use crate::model::mock::MockOutcome;
use crate::store::calls::CallRow;
use crate::store::files::CorruptFile;
use crate::store::functions::FunctionRow;
use crate::store::outcomes::OutcomeRow;
use crate::store::readers::Readers;
use crate::store::writer::{Activity, Writer};

/// The longest a flush waits for the writer.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(60);

/// An open data dir.
pub(crate) struct Store {
    watched: Mutex<Watched>,
    readers: Readers,
    writer: Writer,
}

/// The connection for control operations and refreshes, with what the last
/// refresh saw. Both run under its lock, so that a refresh never applies a
/// mode older than one just set.
pub(crate) struct Watched {
    pub(crate) conn: Connection,
    /// SQLite's `data_version` at the last refresh.
    pub(crate) data_version: i64,
    /// The newest outcome row the last refresh saw.
    pub(crate) outcome_seq: i64,
}

impl Store {
    /// Opens the data dir, creating it and its database if need be, and
    /// starts its writer, which drains `activity`.
    pub(crate) fn open(data_dir: &Path, activity: Arc<dyn Activity>) -> Result<Store, Error> {
        let unavailable = |reason: String| Error::StorageUnavailable { path: data_dir.to_path_buf(), reason };
        schema::check_made_here(data_dir)?;
        std::fs::create_dir_all(data_dir.join("functions")).map_err(|error| unavailable(error.to_string()))?;
        let conn = schema::open(data_dir).map_err(|error| match error {
            refused @ Error::IncompatibleDataDir { .. } => refused,
            error => unavailable(error.to_string()),
        })?;
        let data_version = schema::data_version(&conn)?;
        let outcome_seq = outcomes::newest_seq(&conn)?;
        let writer = Writer::spawn(data_dir.to_path_buf(), activity).map_err(|error| unavailable(error.to_string()))?;
        let watched = Mutex::new(Watched { conn, data_version, outcome_seq });
        Ok(Store { watched, readers: Readers::new(data_dir), writer })
    }

    /// Runs `read` on a connection of its own, in one read transaction: it
    /// never waits behind the control lock, nor behind a write.
    pub(crate) fn read<T>(&self, read: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
        self.readers.read(read)
    }

    /// The control connection, for as long as the guard lives.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Watched> {
        self.watched.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The writer, for a function's state to send its new outcomes to.
    pub(crate) fn writer(&self) -> Writer {
        self.writer.clone()
    }

    /// Waits until every outcome recorded so far is written; `durable` also
    /// syncs it to the disk. An error says what did not reach it.
    pub(crate) fn flush(&self, durable: bool) -> Result<(), String> {
        self.writer.flush(durable, FLUSH_TIMEOUT)
    }

    /// What a function's page shows, in one read: its row, a page of its
    /// outcomes, its recent calls, mock weights and corrupt files. `None`
    /// for an unknown function.
    pub(crate) fn recordings(&self, function_id: &str, offset: u64, limit: u64) -> Result<Option<Recordings>, Error> {
        self.read(|conn| recordings(conn, function_id, offset, limit))
    }
}

fn recordings(conn: &Connection, function_id: &str, offset: u64, limit: u64) -> Result<Option<Recordings>, Error> {
    let Some(function) = functions::get(conn, function_id)? else { return Ok(None) };
    Ok(Some(Recordings {
        outcomes: outcomes::page(conn, function_id, offset, limit)?,
        calls: calls::recent(conn, function_id, limit)?,
        mock_outcomes: mock::outcomes(conn, function_id)?,
        corrupt: outcomes::corrupt_files(conn, function_id)?,
        function,
    }))
}

impl Drop for Store {
    /// What was recorded is on disk before the store goes, as at a normal
    /// exit; then the writer ends.
    fn drop(&mut self) {
        let _ = self.flush(true);
        self.writer.stop();
    }
}

/// What a function's page shows of its recordings.
#[derive(Debug)]
pub(crate) struct Recordings {
    /// The function, with its outcome count and stats.
    pub(crate) function: FunctionRow,
    /// A page of its outcomes, newest first.
    pub(crate) outcomes: Vec<OutcomeRow>,
    /// Its most recent calls, newest first.
    #[cfg_attr(not(feature = "server"), allow(dead_code))] // shown by the panel
    pub(crate) calls: Vec<CallRow>,
    pub(crate) mock_outcomes: Vec<MockOutcome>,
    /// The files the last rebuild left out, with their paths within the
    /// data dir.
    pub(crate) corrupt: Vec<CorruptFile>,
}
