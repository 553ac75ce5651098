//! Outcomes managed by hand: added, read, replaced, deleted, capped, and
//! the index rebuilt from the files. Every change reaches the loaded state
//! of this runtime at once, and other processes through the generation they
//! watch. The files are the truth: each is changed before its row.

use std::path::PathBuf;

use rusqlite::Connection;

use crate::model::codec::CodecError;
use crate::model::error::Error;
use crate::model::manual::ManualOutcome;
use crate::model::outcome::Outcome;
use crate::model::time::now_millis;
use crate::model::{ids, kind::FunctionKind};
use crate::runtime::index::OutcomeIndex;
use crate::runtime::load::read_outcome_files;
use crate::runtime::registry;
use crate::runtime::{Runtime, check_id, unknown};
use crate::store::files::{self, CorruptFile};
use crate::store::functions::{self, Registration};
use crate::store::{outcomes, retention};

/// What rebuilding a function's index from its files found.
#[derive(Debug, Default, Clone, PartialEq)]
#[non_exhaustive]
pub struct Rebuilt {
    /// How many outcomes the index now holds.
    pub indexed: usize,
    /// The files that were left out, and why.
    pub corrupt: Vec<CorruptFile>,
}

impl Runtime {
    /// Adds an outcome by hand; its id. Once the function ran in this
    /// process, an outcome that does not fit its return type is refused.
    pub(crate) fn add_manual_outcome(&self, function_id: &str, manual: ManualOutcome) -> Result<String, Error> {
        let outcome = manual.into_outcome(now_millis())?;
        fits(function_id, &outcome).map_err(|error| Error::InvalidOutcome {
            reason: format!("it does not fit the function's return type: {error}"),
        })?;
        let watched = self.lock()?;
        let name = registered_name(&watched.conn, function_id)?;
        let stamps =
            self.changing_files(function_id, || files::write_outcome(&self.data_dir, &name, function_id, &outcome))?;
        // A new row, which other processes find without reloading.
        outcomes::insert(&watched.conn, function_id, &outcome, 1)?;
        functions::advance_files_stamp(&watched.conn, function_id, stamps.0.as_deref(), stamps.1.as_deref())?;
        if let Some(state) = self.loaded(function_id) {
            state.index_mut().insert(outcome.indexed());
        }
        Ok(outcome.id_hex())
    }

    /// The text of an outcome's file.
    pub(crate) fn outcome_text(&self, function_id: &str, outcome_id: &str) -> Result<String, Error> {
        let file = self.store()?.read(|conn| self.outcome_file(conn, function_id, outcome_id))?;
        std::fs::read_to_string(&file.path).map_err(|_| unknown_outcome(function_id, outcome_id))
    }

    /// Replaces an outcome with `text`, which must read as an outcome file
    /// and fit the function's return type; its id. It keeps its count, and
    /// its id unless its arguments changed: then it takes the id of what it
    /// now holds (its file is renamed), so that a call with the old
    /// arguments records anew, rather than count as this outcome again.
    pub(crate) fn replace_outcome(&self, function_id: &str, outcome_id: &str, text: &str) -> Result<String, Error> {
        self.catch_up();
        let mut watched = self.lock()?;
        let file = self.outcome_file(&watched.conn, function_id, outcome_id)?;
        let Ok(old) = files::read_outcome(&file.path, file.id) else {
            return Err(unknown_outcome(function_id, outcome_id));
        };
        let edited = files::parse(file.id, text).map_err(|reason| Error::InvalidOutcome { reason })?.outcome;
        fits(function_id, &edited).map_err(|error| Error::InvalidOutcome {
            reason: format!("it does not fit the function's return type: {error}"),
        })?;
        let outcome = if edited.arg_key == old.arg_key { edited } else { edited.reidentified() };
        let stamps = self.changing_files(function_id, || {
            files::write_outcome(&self.data_dir, &file.function_name, function_id, &outcome)?;
            if outcome.id != file.id {
                files::remove_outcome(&self.data_dir, function_id, file.id)?;
            }
            Ok(())
        })?;
        outcomes::replace(&mut watched.conn, function_id, file.id, &outcome, stamps)?;
        let id = outcome.id_hex();
        self.change_loaded(&watched.conn, function_id, |index| {
            let outcome = match index.get(file.id, old.arg_key) {
                Some(old) => outcome.with_history(old.count(), old.last_recorded_ms(), old.last_recorded_ms()),
                None => outcome,
            };
            index.remove(file.id, old.arg_key);
            index.insert(outcome.indexed());
            let mut entries = index.mock_entries().clone();
            if let Some(entry) = entries.remove(&file.id) {
                entries.insert(id_of(&id), entry);
            }
            index.set_mock_entries(entries);
        })?;
        Ok(id)
    }

    /// Deletes an outcome: its file, its row and its mock entry.
    pub(crate) fn delete_outcome(&self, function_id: &str, outcome_id: &str) -> Result<(), Error> {
        self.catch_up();
        let mut watched = self.lock()?;
        let file = self.outcome_file(&watched.conn, function_id, outcome_id)?;
        let arg_key = files::read_outcome(&file.path, file.id).map(|outcome| outcome.arg_key);
        let mut removed = false;
        let stamps = self.changing_files(function_id, || {
            removed = files::remove_outcome(&self.data_dir, function_id, file.id)?;
            Ok(())
        })?;
        if !removed {
            return Err(unknown_outcome(function_id, outcome_id));
        }
        outcomes::delete(&mut watched.conn, function_id, file.id, stamps)?;
        self.change_loaded(&watched.conn, function_id, |index| {
            match arg_key {
                Ok(arg_key) => index.remove(file.id, arg_key),
                Err(_) => index.remove_id(file.id),
            }
            let mut entries = index.mock_entries().clone();
            entries.remove(&file.id);
            index.set_mock_entries(entries);
        })
    }

    /// Deletes every outcome of a function: files, rows and loaded index.
    /// Returns how many there were.
    pub(crate) fn delete_outcomes(&self, function_id: &str) -> Result<u64, Error> {
        check_id(function_id)?;
        self.catch_up();
        let mut watched = self.lock()?;
        let count = functions::get(&watched.conn, function_id)?.map_or(0, |function| function.outcomes);
        files::remove_function_dir(files::outcomes_dir(&self.data_dir, function_id))?;
        outcomes::delete_all(&mut watched.conn, function_id)?;
        self.change_loaded(&watched.conn, function_id, |index| *index = OutcomeIndex::default())?;
        Ok(count)
    }

    /// Rebuilds a function's outcome rows from its files alone. A file that
    /// does not parse, or (once the function ran in this process) does not
    /// fit its return type, is left out with a warning, and marked corrupt
    /// in the database with its path and the error.
    pub(crate) fn rebuild_index(&self, function_id: &str) -> Result<Rebuilt, Error> {
        let name = {
            let mut watched = self.lock()?;
            match registered_name(&watched.conn, function_id) {
                // Files copied in, or a deleted database: the files say who.
                Err(Error::UnknownFunction { .. }) if files::function_dir(&self.data_dir, function_id).is_dir() => {
                    self.register_from_files(&mut watched.conn, function_id)?;
                    registered_name(&watched.conn, function_id)?
                }
                name => name?,
            }
        };
        self.catch_up();
        // Read before taking the lock, which the program's first calls need.
        let stamp = files::stamp(&files::outcomes_dir(&self.data_dir, function_id));
        let loaded = read_outcome_files(&self.data_dir, function_id)?;
        let loaded_unsettled = loaded.unsettled;
        let mut corrupt = loaded.corrupt;
        let mut fitting = Vec::with_capacity(loaded.outcomes.len());
        for outcome in loaded.outcomes {
            match fits(function_id, &outcome) {
                Ok(()) => fitting.push(outcome),
                Err(error) => corrupt.push(CorruptFile {
                    path: files::outcome_path(&self.data_dir, function_id, outcome.id),
                    error: format!("it no longer fits the function's return type: {error}"),
                }),
            }
        }
        files::warn_corrupt(&name, &corrupt);
        let marks: Vec<CorruptFile> = corrupt.iter().map(|file| file.within(&self.data_dir)).collect();
        let indexed = fitting.len();
        let mut watched = self.lock()?;
        outcomes::rebuild(&mut watched.conn, function_id, &fitting, &marks)?;
        let settled = corrupt.is_empty() && !loaded_unsettled;
        functions::set_files_stamp(&watched.conn, function_id, stamp.as_deref().filter(|_| settled))?;
        if let Some(state) = self.loaded(function_id) {
            let histories = outcomes::histories(&watched.conn, function_id)?;
            let fitting = fitting.into_iter().map(|outcome| match histories.get(&outcome.id) {
                Some(history) => {
                    outcome.with_history(history.count, history.last_seen_ms, history.last_recorded_ms).indexed()
                }
                None => outcome.indexed(),
            });
            let mut index = OutcomeIndex::of(fitting);
            crate::runtime::load::completed(&mut index, &watched.conn, function_id, state.body_hash())?;
            self.change_loaded(&watched.conn, function_id, |loaded| *loaded = index)?;
        }
        Ok(Rebuilt { indexed, corrupt })
    }

    /// Rebuilds the index of every function the data dir has files or rows
    /// for: after the database was deleted, or files were copied in. A
    /// function no program registered here is registered from its files.
    pub(crate) fn rebuild_all(&self) -> Result<Vec<(String, Rebuilt)>, Error> {
        let functions_dir = self.data_dir.join("functions");
        let mut function_ids: Vec<String> = match std::fs::read_dir(&functions_dir) {
            Ok(entries) => entries.flatten().filter_map(|entry| entry.file_name().into_string().ok()).collect(),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(Error::Io { action: "read", path: functions_dir, source }),
        };
        function_ids.retain(|id| ids::is_id(id));
        {
            let mut watched = self.lock()?;
            for id in &function_ids {
                if !functions::exists(&watched.conn, id)? {
                    self.register_from_files(&mut watched.conn, id)?;
                }
            }
            function_ids.extend(functions::ids(&watched.conn)?);
        }
        function_ids.sort();
        function_ids.dedup();
        function_ids.into_iter().map(|id| self.rebuild_index(&id).map(|rebuilt| (id, rebuilt))).collect()
    }

    /// Registers a function from what its outcome files say of it.
    pub(crate) fn register_from_files(&self, conn: &mut Connection, function_id: &str) -> Result<(), Error> {
        let qualified = files::function_named_in(&self.data_dir, function_id).unwrap_or_else(|| function_id.to_owned());
        let (module_path, name) = qualified.rsplit_once("::").unwrap_or(("", &qualified));
        let registration = Registration {
            id: function_id,
            name,
            qualified_name: &qualified,
            module_path,
            crate_name: ids::crate_of(&qualified),
            kind: FunctionKind::Unregistered,
            signature: "",
            source: String::new(),
            policy: None,
            body_hash: None,
        };
        functions::register(conn, "cacheow rebuild-index", &[registration], false)
    }

    /// Deletes what the data dir holds of functions marked stale (renamed,
    /// moved or deleted from the program that registered them): their
    /// registration, outcomes, mock weights, stats and calls. Their paths.
    pub(crate) fn prune_stale(&self) -> Result<Vec<String>, Error> {
        self.catch_up();
        let mut watched = self.lock()?;
        let stale = functions::marked_stale(&watched.conn)?;
        for (function_id, _) in &stale {
            files::remove_function_dir(files::function_dir(&self.data_dir, function_id))?;
            functions::forget(&mut watched.conn, function_id)?;
        }
        Ok(stale.into_iter().map(|(_, name)| name).collect())
    }

    /// Caps how many outcomes a function keeps (`None`: no cap), dropping
    /// the oldest beyond it now.
    pub(crate) fn set_max_outcomes(&self, function_id: &str, max: Option<u64>) -> Result<(), Error> {
        check_id(function_id)?;
        if max == Some(0) {
            return Err(Error::InvalidRetention);
        }
        self.catch_up();
        let mut watched = self.lock()?;
        if !functions::set_max_outcomes(&watched.conn, function_id, max)? {
            return Err(unknown(function_id));
        }
        let dropped = retention::trim(&mut watched.conn, &self.data_dir, function_id)?;
        if let Some(state) = self.loaded(function_id) {
            let dropped: Vec<(u64, u128)> = dropped.iter().map(|facts| (facts.id, facts.arg_key)).collect();
            state.index_mut().remove_all(&dropped);
        }
        Ok(())
    }

    /// A function's cap on stored outcomes, if it has one.
    pub(crate) fn max_outcomes(&self, function_id: &str) -> Result<Option<u64>, Error> {
        check_id(function_id)?;
        self.store()?.read(|conn| functions::max_outcomes(conn, function_id))
    }

    /// Changes a function's outcome files; the stamps of their folder
    /// before and after, for the rows that follow the change to match.
    fn changing_files(
        &self,
        function_id: &str,
        change: impl FnOnce() -> Result<(), Error>,
    ) -> Result<(Option<String>, Option<String>), Error> {
        let dir = files::outcomes_dir(&self.data_dir, function_id);
        let before = files::stamp(&dir);
        change()?;
        Ok((before, files::stamp(&dir)))
    }

    /// A registered function's outcome file, its id checked before it
    /// becomes part of a path: no `../` reaches the disk.
    fn outcome_file(&self, conn: &Connection, function_id: &str, outcome_id: &str) -> Result<OutcomeFile, Error> {
        let function_name = registered_name(conn, function_id)?;
        let id = ids::parse_id(outcome_id).ok_or_else(|| unknown_outcome(function_id, outcome_id))?;
        Ok(OutcomeFile { function_name, id, path: files::outcome_path(&self.data_dir, function_id, id) })
    }

    /// Applies a change to the function's index in this runtime, if it is
    /// loaded, at the generation the database now has: the refresher then
    /// has nothing to reload.
    fn change_loaded(
        &self,
        conn: &Connection,
        function_id: &str,
        change: impl FnOnce(&mut OutcomeIndex),
    ) -> Result<(), Error> {
        if let Some(state) = self.loaded(function_id) {
            let generation = functions::control(conn, function_id)?.map_or(0, |control| control.generation);
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

fn id_of(hex: &str) -> u64 {
    ids::parse_id(hex).unwrap_or_default()
}

/// Whether an outcome fits the return type of the function, when this
/// process knows it: once the function ran here.
fn fits(function_id: &str, outcome: &Outcome) -> Result<(), CodecError> {
    match registry::by_id(function_id).and_then(|function| function.checker()) {
        Some(checker) => checker.check(outcome.kind(), outcome.payload()),
        None => Ok(()),
    }
}

/// The path of a registered function, or `UnknownFunction`.
fn registered_name(conn: &Connection, function_id: &str) -> Result<String, Error> {
    check_id(function_id)?;
    functions::get(conn, function_id)?.map(|function| function.qualified_name).ok_or_else(|| unknown(function_id))
}

fn unknown_outcome(function_id: &str, outcome_id: &str) -> Error {
    Error::UnknownOutcome { function_id: function_id.to_owned(), outcome_id: outcome_id.to_owned() }
}
