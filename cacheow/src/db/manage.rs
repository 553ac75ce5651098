//! Outcomes managed by hand: added, read, replaced, deleted, and the index
//! rebuilt from the files. Every change reaches the loaded state of this
//! process at once, and other processes through the generation they watch.
//! The files are the truth: each is changed before its row.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::Connection;

use super::{Db, catalog};
use crate::files::{self, CorruptFile, Style};
use crate::index::OutcomeIndex;
use crate::outcome::{Flags, Outcome, OutcomeKind, Payload, now_millis};
use crate::{Error, ids, sqlite};

/// An outcome to add by hand.
#[derive(Debug, Clone)]
pub(crate) struct ManualOutcome {
    pub(crate) kind: OutcomeKind,
    pub(crate) payload: Payload,
    /// A label for people: never resolved to a type.
    pub(crate) error_type: Option<String>,
    /// The arguments it answers, as canonical JSON; `null` answers none in
    /// cache mode, and any in mock mode.
    pub(crate) args: String,
    pub(crate) mock_only: bool,
}

/// What rebuilding a function's index found.
#[derive(Debug, Default)]
pub(crate) struct Rebuilt {
    pub(crate) indexed: usize,
    pub(crate) corrupt: Vec<CorruptFile>,
}

impl Db {
    pub(crate) fn add_manual_outcome(&self, function_id: &str, manual: ManualOutcome) -> Result<String, Error> {
        let control = self.lock()?;
        let name = registered_name(&control.conn, function_id)?;
        let mut parts =
            vec![manual.kind.as_str(), &manual.args, manual.payload.encoding(), manual.payload.text(), "manual"];
        if manual.mock_only {
            parts.push("mock_only");
        }
        let now = now_millis();
        let outcome = Outcome {
            id: ids::outcome_id(&parts),
            kind: manual.kind,
            arg_key: ids::arg_key(&manual.args),
            args: manual.args.into(),
            payload: manual.payload,
            error_type: manual.error_type.map(Into::into),
            flags: Flags { manual: true, mock_only: manual.mock_only, partial: false },
            recorded_at_ms: now,
            duration: Duration::ZERO,
            count: AtomicU64::new(1),
            last_seen_ms: AtomicI64::new(now),
        };
        self.write_outcome_file(&name, function_id, &outcome)?;
        sqlite::insert_outcome(&control.conn, function_id, &outcome, 1)?;
        let id = outcome.id_hex();
        if let Some(state) = self.loaded(function_id) {
            state.index_mut().insert(Arc::new(outcome));
        }
        Ok(id)
    }

    /// The text of an outcome's file.
    pub(crate) fn outcome_text(&self, function_id: &str, outcome_id: &str) -> Result<String, Error> {
        let file = self.outcome_file(&self.lock()?.conn, function_id, outcome_id)?;
        std::fs::read_to_string(&file.path).map_err(|_| unknown_outcome(function_id, outcome_id))
    }

    /// Replaces an outcome with `text`, which must read as an outcome file;
    /// it keeps its id and its count.
    pub(crate) fn replace_outcome(&self, function_id: &str, outcome_id: &str, text: &str) -> Result<(), Error> {
        self.flush_writer(false);
        let mut control = self.lock()?;
        let file = self.outcome_file(&control.conn, function_id, outcome_id)?;
        if !file.path.exists() {
            return Err(unknown_outcome(function_id, outcome_id));
        }
        let outcome = files::parse(file.id, text).map_err(|reason| Error::InvalidOutcome { reason })?;
        self.write_outcome_file(&file.function_name, function_id, &outcome)?;
        sqlite::replace_outcome(&mut control.conn, function_id, &outcome)?;
        self.change_loaded(&control.conn, function_id, |index| {
            if let Some(old) = index.get(file.id) {
                outcome.count.store(old.count(), Ordering::Relaxed);
            }
            index.remove(file.id);
            index.insert(Arc::new(outcome));
        })
    }

    pub(crate) fn delete_outcome(&self, function_id: &str, outcome_id: &str) -> Result<(), Error> {
        self.flush_writer(false);
        let mut control = self.lock()?;
        let file = self.outcome_file(&control.conn, function_id, outcome_id)?;
        match std::fs::remove_file(&file.path) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(unknown_outcome(function_id, outcome_id));
            }
            Err(error) => return Err(Error::Io { action: "delete", path: file.path, source: error }),
            Ok(()) => {}
        }
        sqlite::delete_outcome(&mut control.conn, function_id, outcome_id)?;
        self.change_loaded(&control.conn, function_id, |index| {
            index.remove(file.id);
            let mut entries = index.mock_entries().clone();
            entries.remove(&file.id);
            index.set_mock_entries(entries);
        })
    }

    /// Deletes every outcome of a function: files, rows and loaded index.
    /// Returns how many there were.
    pub(crate) fn delete_outcomes(&self, function_id: &str) -> Result<u64, Error> {
        super::check_id(function_id)?;
        self.flush_writer(false);
        let mut control = self.lock()?;
        let (count, _) = catalog::outcomes(&control.conn, function_id, 0, 0)?;
        let dir = files::outcomes_dir(&self.data_dir, function_id);
        match std::fs::remove_dir_all(&dir) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::Io { action: "delete", path: dir, source: error });
            }
            _ => {}
        }
        sqlite::delete_outcomes(&mut control.conn, function_id)?;
        self.change_loaded(&control.conn, function_id, |index| *index = OutcomeIndex::default())?;
        Ok(count)
    }

    /// Rebuilds a function's outcome rows from its files alone; files that
    /// cannot be read are reported, with a warning, and left out.
    pub(crate) fn rebuild_index(&self, function_id: &str) -> Result<Rebuilt, Error> {
        let name = registered_name(&self.lock()?.conn, function_id)?;
        self.flush_writer(false);
        // Read before taking the lock, which the program's first calls need.
        let loaded = files::read_outcomes(&self.data_dir, function_id).map_err(|source| Error::Io {
            action: "read",
            path: files::outcomes_dir(&self.data_dir, function_id),
            source,
        })?;
        super::warn_corrupt(&name, &loaded.corrupt);
        let indexed = loaded.outcomes.len();
        let mut control = self.lock()?;
        sqlite::rebuild_outcomes(&mut control.conn, function_id, &loaded.outcomes)?;
        if self.loaded(function_id).is_some() {
            let rows: HashMap<u64, sqlite::OutcomeRow> =
                sqlite::outcome_rows(&control.conn, function_id)?.into_iter().map(|row| (row.id, row)).collect();
            let index = super::build_index(&control.conn, function_id, loaded.outcomes, &rows)?;
            self.change_loaded(&control.conn, function_id, |loaded| *loaded = index)?;
        }
        Ok(Rebuilt { indexed, corrupt: loaded.corrupt })
    }

    /// A registered function's outcome file, its id checked before it
    /// becomes part of a path: no `../` reaches the disk.
    fn outcome_file(&self, conn: &Connection, function_id: &str, outcome_id: &str) -> Result<OutcomeFile, Error> {
        let function_name = registered_name(conn, function_id)?;
        let id = ids::parse_id(outcome_id).ok_or_else(|| unknown_outcome(function_id, outcome_id))?;
        Ok(OutcomeFile { function_name, id, path: files::outcome_path(&self.data_dir, function_id, id) })
    }

    fn write_outcome_file(&self, name: &str, function_id: &str, outcome: &Outcome) -> Result<(), Error> {
        let path = files::outcome_path(&self.data_dir, function_id, outcome.id);
        let text = files::render(name, function_id, outcome, Style::Runtime)
            .map_err(|reason| Error::InvalidOutcome { reason })?;
        std::fs::create_dir_all(files::outcomes_dir(&self.data_dir, function_id))
            .and_then(|()| files::write_atomic(&path, text.as_bytes()))
            .map_err(|source| Error::Io { action: "write", path, source })
    }

    /// Applies a change to the function's index in this process, if it is
    /// loaded, at the generation the database now has: the refresher then
    /// has nothing to reload.
    fn change_loaded(
        &self,
        conn: &Connection,
        function_id: &str,
        change: impl FnOnce(&mut OutcomeIndex),
    ) -> Result<(), Error> {
        if let Some(state) = self.loaded(function_id) {
            let generation = sqlite::control(conn, function_id)?.map_or(0, |control| control.generation);
            state.change_index(generation, change);
        }
        Ok(())
    }
}

/// An outcome's file, for a registered function.
struct OutcomeFile {
    function_name: String,
    id: u64,
    path: PathBuf,
}

/// The path of a registered function, or `UnknownFunction`.
fn registered_name(conn: &Connection, function_id: &str) -> Result<String, Error> {
    super::check_id(function_id)?;
    catalog::function(conn, function_id)?
        .map(|function| function.qualified_name)
        .ok_or_else(|| super::unknown(function_id))
}

fn unknown_outcome(function_id: &str, outcome_id: &str) -> Error {
    Error::UnknownOutcome { function_id: function_id.to_owned(), outcome_id: outcome_id.to_owned() }
}
