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
use crate::outcome::{Flags, Outcome, now_millis};
use crate::{Error, ManualOutcome, ids, sqlite};

/// What rebuilding a function's index from its files found.
#[derive(Debug, Default, Clone, PartialEq)]
#[non_exhaustive]
pub struct Rebuilt {
    /// How many outcomes the index now holds.
    pub indexed: usize,
    /// The files that were left out, and why.
    pub corrupt: Vec<CorruptFile>,
}

impl Db {
    /// Adds an outcome by hand; its id.
    pub fn add_manual_outcome(&self, function_id: &str, manual: ManualOutcome) -> Result<String, Error> {
        let invalid = |error: crate::codec::CodecError| Error::InvalidOutcome { reason: error.to_string() };
        let payload = manual.payload.map_err(invalid)?;
        let args = manual.args.map_err(invalid)?;
        if let Some(checker) = crate::function::by_id(function_id).and_then(|function| function.checker()) {
            checker.check(manual.kind, &payload).map_err(|error| Error::InvalidOutcome {
                reason: format!("it does not fit the function's return type: {error}"),
            })?;
        }
        let control = self.lock()?;
        let name = registered_name(&control.conn, function_id)?;
        let flags = Flags { manual: true, mock_only: manual.mock_only, partial: false };
        let now = now_millis();
        let outcome = Outcome {
            id: flags.outcome_id(manual.kind, &args, &payload),
            kind: manual.kind,
            arg_key: ids::arg_key(&args),
            args: args.into(),
            payload,
            error_type: manual.error_type.map(Into::into),
            flags,
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
    pub fn outcome_text(&self, function_id: &str, outcome_id: &str) -> Result<String, Error> {
        let file = self.outcome_file(&self.lock()?.conn, function_id, outcome_id)?;
        std::fs::read_to_string(&file.path).map_err(|_| unknown_outcome(function_id, outcome_id))
    }

    /// Replaces an outcome with `text`, which must read as an outcome file;
    /// it keeps its id and its count.
    pub fn replace_outcome(&self, function_id: &str, outcome_id: &str, text: &str) -> Result<(), Error> {
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

    /// Deletes an outcome: its file, its row and its mock entry.
    pub fn delete_outcome(&self, function_id: &str, outcome_id: &str) -> Result<(), Error> {
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

    /// Rebuilds a function's outcome rows from its files alone. A file that
    /// does not parse, or (once the function ran in this process) does not
    /// fit its return type, is left out with a warning, and marked corrupt
    /// in the database with its path and the error.
    pub fn rebuild_index(&self, function_id: &str) -> Result<Rebuilt, Error> {
        let name = {
            let mut control = self.lock()?;
            match registered_name(&control.conn, function_id) {
                // Files copied in, or a deleted database: the files say who.
                Err(Error::UnknownFunction { .. }) if files::function_dir(&self.data_dir, function_id).is_dir() => {
                    self.register_from_files(&mut control.conn, function_id)?;
                    registered_name(&control.conn, function_id)?
                }
                name => name?,
            }
        };
        self.flush_writer(false);
        // Read before taking the lock, which the program's first calls need.
        let loaded = files::read_outcomes(&self.data_dir, function_id).map_err(|source| Error::Io {
            action: "read",
            path: files::outcomes_dir(&self.data_dir, function_id),
            source,
        })?;
        let (outcomes, corrupt) = self.fitting(function_id, loaded.outcomes, loaded.corrupt);
        super::warn_corrupt(&name, &corrupt);
        let marks: Vec<(String, String)> = corrupt
            .iter()
            .map(|file| {
                let path = file.path.strip_prefix(&self.data_dir).unwrap_or(&file.path);
                (path.display().to_string(), file.error.clone())
            })
            .collect();
        let indexed = outcomes.len();
        let mut control = self.lock()?;
        sqlite::rebuild_outcomes(&mut control.conn, function_id, &outcomes, &marks)?;
        if self.loaded(function_id).is_some() {
            let rows: HashMap<u64, sqlite::OutcomeRow> =
                sqlite::outcome_rows(&control.conn, function_id)?.into_iter().map(|row| (row.id, row)).collect();
            let index = super::build_index(&control.conn, function_id, outcomes, &rows)?;
            self.change_loaded(&control.conn, function_id, |loaded| *loaded = index)?;
        }
        Ok(Rebuilt { indexed, corrupt })
    }

    /// Rebuilds the index of every function the data dir has files or rows
    /// for: after the database was deleted, or files were copied in. A
    /// function no program registered here is registered from its files.
    pub fn rebuild_all(&self) -> Result<Vec<(String, Rebuilt)>, Error> {
        let functions = self.data_dir.join("functions");
        let mut function_ids: Vec<String> = match std::fs::read_dir(&functions) {
            Ok(entries) => entries.flatten().filter_map(|entry| entry.file_name().into_string().ok()).collect(),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(Error::Io { action: "read", path: functions, source }),
        };
        function_ids.retain(|id| ids::is_id(id));
        {
            let mut control = self.lock()?;
            for id in &function_ids {
                if !sqlite::function_exists(&control.conn, id)? {
                    self.register_from_files(&mut control.conn, id)?;
                }
            }
            function_ids.extend(catalog::function_ids(&control.conn)?);
        }
        function_ids.sort();
        function_ids.dedup();
        function_ids.into_iter().map(|id| self.rebuild_index(&id).map(|rebuilt| (id, rebuilt))).collect()
    }

    /// Registers a function from what its outcome files say of it.
    pub(super) fn register_from_files(&self, conn: &mut Connection, function_id: &str) -> Result<(), Error> {
        let qualified = files::function_named_in(&self.data_dir, function_id).unwrap_or_else(|| function_id.to_owned());
        let (module_path, name) = qualified.rsplit_once("::").unwrap_or(("", &qualified));
        let registration = sqlite::Registration {
            id: function_id,
            name,
            qualified_name: &qualified,
            module_path,
            crate_name: ids::crate_of(&qualified),
            kind: crate::function::FunctionKind::Unregistered.as_str(),
            signature: "",
            source: String::new(),
        };
        sqlite::register(conn, "cacheow rebuild-index", &[registration], false)
    }

    /// Splits outcomes into those that fit the function's return type, when
    /// this process knows it, and those that join the corrupt files.
    fn fitting(
        &self,
        function_id: &str,
        outcomes: Vec<Outcome>,
        mut corrupt: Vec<CorruptFile>,
    ) -> (Vec<Outcome>, Vec<CorruptFile>) {
        let Some(checker) = crate::function::by_id(function_id).and_then(|function| function.checker()) else {
            return (outcomes, corrupt);
        };
        let mut fitting = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            match checker.check(outcome.kind, &outcome.payload) {
                Ok(()) => fitting.push(outcome),
                Err(error) => corrupt.push(CorruptFile {
                    path: files::outcome_path(&self.data_dir, function_id, outcome.id),
                    error: format!("it no longer fits the function's return type: {error}"),
                }),
            }
        }
        (fitting, corrupt)
    }

    /// Deletes what the data dir holds of functions marked stale (renamed,
    /// moved or deleted from the program that registered them): their
    /// registration, outcomes, mock weights, stats and calls. Their paths.
    #[cfg(feature = "cli")]
    pub(crate) fn prune_stale(&self) -> Result<Vec<String>, Error> {
        self.flush_writer(false);
        let mut control = self.lock()?;
        let stale: Vec<(String, String)> = catalog::functions_marked_stale(&control.conn)?;
        for (function_id, _) in &stale {
            let dir = files::function_dir(&self.data_dir, function_id);
            match std::fs::remove_dir_all(&dir) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                    return Err(Error::Io { action: "delete", path: dir, source: error });
                }
                _ => {}
            }
            sqlite::forget_function(&mut control.conn, function_id)?;
        }
        Ok(stale.into_iter().map(|(_, name)| name).collect())
    }

    /// Caps how many outcomes a function keeps (`None`: no cap), dropping
    /// the oldest beyond it now.
    pub fn set_max_outcomes(&self, function_id: &str, max: Option<u64>) -> Result<(), Error> {
        super::check_id(function_id)?;
        if max == Some(0) {
            return Err(Error::InvalidRetention);
        }
        self.flush_writer(false);
        let mut control = self.lock()?;
        if !sqlite::set_max_outcomes(&control.conn, function_id, max)? {
            return Err(super::unknown(function_id));
        }
        let loaded = self.loaded(function_id);
        crate::retention::trim(&mut control.conn, &self.data_dir, function_id, loaded.as_deref()).map(drop)
    }

    /// A function's cap on stored outcomes, if it has one.
    pub fn max_outcomes(&self, function_id: &str) -> Result<Option<u64>, Error> {
        super::check_id(function_id)?;
        sqlite::max_outcomes(&self.lock()?.conn, function_id)
    }

    /// A registered function's outcome file, its id checked before it
    /// becomes part of a path: no `../` reaches the disk.
    fn outcome_file(&self, conn: &Connection, function_id: &str, outcome_id: &str) -> Result<OutcomeFile, Error> {
        let function_name = registered_name(conn, function_id)?;
        let id = ids::parse_id(outcome_id).ok_or_else(|| unknown_outcome(function_id, outcome_id))?;
        Ok(OutcomeFile { function_name, id, path: files::outcome_path(&self.data_dir, function_id, id) })
    }

    pub(super) fn write_outcome_file(&self, name: &str, function_id: &str, outcome: &Outcome) -> Result<(), Error> {
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
