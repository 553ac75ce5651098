//! How a runtime comes to know a function: registered when the program
//! starts, loaded at its first use (its mode, latency and outcomes, read
//! from the files and reconciled with the rows), and refreshed with what
//! other processes changed since.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use rusqlite::Connection;

use crate::model::error::Error;
use crate::model::report::warn_once;
use crate::runtime::Runtime;
use crate::runtime::function::Function;
use crate::runtime::index::OutcomeIndex;
use crate::runtime::registry;
use crate::runtime::state::FunctionState;
use crate::store::files::{self, CorruptFile};
use crate::store::functions::{self, Control};
use crate::store::{mock, outcomes};

impl Runtime {
    /// The state of a function in this runtime, loaded on its first use.
    pub(crate) fn state(&self, function: &Function) -> Arc<FunctionState> {
        let id = function.id();
        if let Some(state) = self.loaded.get(id) {
            return state;
        }
        let Ok(store) = &self.store else {
            // Memory only: the warning that the data dir is unusable was given.
            let state =
                FunctionState::new(id, function.name(), Control::default(), OutcomeIndex::default(), self.seed, None);
            return self.loaded.insert(state);
        };
        // Under the control lock until the state is in place, so that no
        // change made or refreshed meanwhile is missed.
        let mut watched = store.lock();
        if let Some(state) = self.loaded.get(id) {
            return state;
        }
        let (control, index) = self.read_function(&mut watched.conn, function).unwrap_or_else(|error| {
            warn_load(function.name(), &error);
            Default::default()
        });
        let state = FunctionState::new(id, function.name(), control, index, self.seed, Some(store.writer()));
        self.loaded.insert(state)
    }

    /// The loaded state of the function with this id, if it is loaded.
    pub(crate) fn loaded(&self, function_id: &str) -> Option<Arc<FunctionState>> {
        self.loaded.get(function_id)
    }

    /// A function's mode, latency and outcomes, registering it if needed.
    fn read_function(&self, conn: &mut Connection, function: &Function) -> Result<(Control, OutcomeIndex), Error> {
        if function.is_registered() && !functions::exists(conn, function.id())? {
            functions::register(conn, &program(), &[function.registration()], false)?;
        }
        let control = functions::control(conn, function.id())?.unwrap_or_default();
        // Without its outcomes, the function still runs in its mode.
        let index = self.load_index(conn, function.id(), function.name()).unwrap_or_else(|error| {
            warn_load(function.name(), &error);
            OutcomeIndex::default()
        });
        Ok((control, index))
    }

    /// Reads a function's outcome files, merges in the counts of the
    /// database and makes its rows match the files.
    fn load_index(&self, conn: &mut Connection, function_id: &str, name: &str) -> Result<OutcomeIndex, Error> {
        // Rows before files: a row is committed after its file is written,
        // so every row read here has its file, unless someone deleted it.
        let histories = outcomes::histories(conn, function_id)?;
        let loaded = read_outcome_files(&self.data_dir, function_id)?;
        warn_corrupt(name, &loaded.corrupt);
        let on_disk: HashSet<u64> = loaded.outcomes.iter().map(|outcome| outcome.id).collect();
        let corrupt: HashSet<u64> =
            loaded.corrupt.iter().filter_map(|file| files::outcome_file_id(&file.path)).collect();
        let missing_rows: Vec<_> =
            loaded.outcomes.iter().filter(|outcome| !histories.contains_key(&outcome.id)).collect();
        let missing_files: Vec<u64> =
            histories.keys().filter(|id| !on_disk.contains(id) && !corrupt.contains(id)).copied().collect();
        outcomes::reconcile(conn, function_id, &missing_rows, &missing_files)?;
        let index = loaded.outcomes.into_iter().map(|outcome| match histories.get(&outcome.id) {
            Some(history) => outcome.with_history(history.count, history.last_seen_ms),
            None => outcome,
        });
        Ok(OutcomeIndex::of(index, mock::entries(conn, function_id)?))
    }

    /// Takes in what other processes changed since the last refresh.
    pub(crate) fn refresh(&self) -> Result<(), Error> {
        let Ok(store) = &self.store else { return Ok(()) };
        let mut watched = store.lock();
        let version = crate::store::schema::data_version(&watched.conn)?;
        if version == watched.data_version {
            return Ok(());
        }
        let states = self.loaded.all();
        let controls = functions::controls(&watched.conn)?;
        let mut entries = mock::all_entries(&watched.conn)?;
        for state in &states {
            let Some(control) = controls.get(state.id) else { continue };
            state.apply(*control);
            if control.generation != state.generation() {
                match self.load_index(&mut watched.conn, state.id, state.name) {
                    Ok(index) => state.reload(index, control.generation),
                    Err(error) => warn_load(state.name, &error),
                }
            } else {
                state.set_mock_entries(entries.remove(state.id).unwrap_or_default());
            }
        }
        let (added, newest) = outcomes::added_since(&watched.conn, watched.outcome_seq)?;
        for (function_id, id) in added {
            let Some(state) = states.iter().find(|state| state.id == function_id) else { continue };
            if state.index().get(id).is_some() {
                continue;
            }
            let path = files::outcome_path(&self.data_dir, state.id, id);
            match files::read_outcome(&path, id) {
                Ok(outcome) => state.index_mut().insert(Arc::new(outcome)),
                Err(error) => warn_corrupt(state.name, &[CorruptFile { path, error }]),
            }
        }
        // Only now: a refresh that failed halfway is tried again.
        watched.outcome_seq = newest;
        watched.data_version = version;
        Ok(())
    }

    /// Registers every function linked into the program, and marks stale
    /// those of its crates that it no longer has.
    pub(crate) fn register_all(&self, all: &[&'static Function]) {
        registry::warn_shared_ids(all);
        let Ok(store) = &self.store else { return };
        let registrations: Vec<_> = all.iter().map(|function| function.registration()).collect();
        if let Err(error) = functions::register(&mut store.lock().conn, &program(), &registrations, true) {
            warn_once("register", format_args!("cacheow could not register the program's functions: {error}"));
        }
    }
}

/// Every outcome file of a function.
pub(crate) fn read_outcome_files(data_dir: &Path, function_id: &str) -> Result<files::Loaded, Error> {
    files::read_outcomes(data_dir, function_id).map_err(|source| Error::Io {
        action: "read",
        path: files::outcomes_dir(data_dir, function_id),
        source,
    })
}

/// This program's name: its executable's, without the hash cargo gives
/// test binaries (`runtime-91f474cd054bf4f9` is `runtime`).
fn program() -> String {
    let exe = std::env::current_exe().ok();
    let stem = exe.as_deref().and_then(Path::file_stem).and_then(|stem| stem.to_str()).unwrap_or_default();
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => name.to_owned(),
        _ => stem.to_owned(),
    }
}

fn warn_load(function_name: &str, error: &Error) {
    warn_once(
        format!("load:{function_name}"),
        format_args!("cacheow could not load the outcomes of `{function_name}`: {error}"),
    );
}

pub(crate) fn warn_corrupt(function_name: &str, corrupt: &[CorruptFile]) {
    for file in corrupt {
        warn_once(
            format!("corrupt:{}", file.path.display()),
            format_args!(
                "cacheow ignores the outcome file {} of `{function_name}`, which it cannot read: {}. \
                 Fix or delete the file",
                file.path.display(),
                file.error
            ),
        );
    }
}
