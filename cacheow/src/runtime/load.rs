//! How a runtime comes to know a function: registered when the program
//! starts, loaded at its first use (its mode, latency and outcomes, read
//! from the rows, or from the files when they changed by hand), and
//! refreshed with what other processes changed since.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use rusqlite::Connection;

use crate::model::error::Error;
use crate::model::outcome::Indexed;
use crate::model::redact::Redaction;
use crate::model::report::warn_once;
use crate::runtime::Runtime;
use crate::runtime::function::Function;
use crate::runtime::index::OutcomeIndex;
use crate::runtime::registry;
use crate::runtime::state::{FunctionState, Keeping, Sharing};
use crate::store::functions::{self, Control};
use crate::store::{Store, files, mock, outcomes};

impl Runtime {
    /// The state of a function in this runtime, loaded on its first use.
    pub(crate) fn state(&self, function: &Function) -> Arc<FunctionState> {
        let id = function.id();
        if let Some(state) = self.loaded.get(id) {
            return state;
        }
        let Ok(store) = &self.store else {
            // Memory only: the warning that the data dir is unusable was given.
            let keeping = self.keeping(function, None);
            let state = FunctionState::new(id, function.name(), Control::default(), OutcomeIndex::default(), keeping);
            return self.loaded.insert(state);
        };
        // Under the control lock until the state is in place, so that no
        // change made or refreshed meanwhile is missed.
        let mut watched = store.lock();
        if let Some(state) = self.loaded.get(id) {
            return state;
        }
        let (control, index) = self.read_function(store, &mut watched.conn, function).unwrap_or_else(|error| {
            warn_load(function.name(), &error);
            Default::default()
        });
        let state = FunctionState::new(id, function.name(), control, index, self.keeping(function, Some(store)));
        self.loaded.insert(state)
    }

    /// Where a function's state sends what it records and finds payloads.
    fn keeping(&self, function: &Function, store: Option<&Store>) -> Keeping {
        let policy = &function.meta().policy;
        let redact = policy.redact;
        let sharing = self.shared.as_ref().filter(|_| policy.shared).map(|tier| Sharing {
            tier: Arc::clone(tier),
            ttl: policy.ttl,
            tags: policy.tags,
        });
        Keeping {
            writer: store.map(Store::writer),
            outcomes_dir: store.map(|_| files::outcomes_dir(&self.data_dir, function.id())),
            budget: Arc::clone(&self.budget),
            seed: self.seed,
            redaction: (!redact.is_empty()).then(|| Redaction::of_fields(redact.iter().copied())),
            sharing,
            body_hash: function.body_hash(),
            on_change: policy.on_change,
        }
    }

    /// The loaded state of the function with this id, if it is loaded.
    pub(crate) fn loaded(&self, function_id: &str) -> Option<Arc<FunctionState>> {
        self.loaded.get(function_id)
    }

    /// A function's mode, latency and outcomes, registering it if needed.
    fn read_function(
        &self,
        store: &Store,
        conn: &mut Connection,
        function: &Function,
    ) -> Result<(Control, OutcomeIndex), Error> {
        if function.is_registered() && !functions::exists(conn, function.id())? {
            functions::register(conn, &program(), &[function.registration()], false)?;
        }
        let control = functions::control(conn, function.id())?.unwrap_or_default();
        // Without its outcomes, the function still runs in its mode.
        let index = self
            .load_index(store, conn, (function.id(), function.name()), function.body_hash())
            .unwrap_or_else(|error| {
                warn_load(function.name(), &error);
                OutcomeIndex::default()
            });
        Ok((control, index))
    }

    /// A function's outcome index. The files are the truth, and the rows
    /// index them: while the outcome folder is as it was when the rows last
    /// matched it (its stamp), the index is read from the rows; a folder
    /// changed since (files added, deleted or renamed by hand) is read again.
    fn load_index(
        &self,
        store: &Store,
        conn: &mut Connection,
        (function_id, name): (&str, &str),
        body_hash: &str,
    ) -> Result<OutcomeIndex, Error> {
        let stamp = files::stamp(&files::outcomes_dir(&self.data_dir, function_id));
        let from_rows = if stamp.is_some() && functions::files_stamp(conn, function_id)? == stamp {
            index_rows(store, function_id)?
        } else {
            None
        };
        let mut index = match from_rows {
            Some(index) => index,
            None => OutcomeIndex::of(self.index_files(conn, function_id, name, stamp.as_deref())?.into_iter()),
        };
        completed(&mut index, conn, function_id, body_hash)?;
        Ok(index)
    }

    /// Reads a function's outcome files, merges in the counts of the
    /// database, makes its rows match the files, and notes the folder's
    /// stamp as it was before the files were read.
    fn index_files(
        &self,
        conn: &mut Connection,
        function_id: &str,
        name: &str,
        stamp: Option<&str>,
    ) -> Result<Vec<Indexed>, Error> {
        // Rows before files: a row is committed after its file is written,
        // so every row read here has its file, unless someone deleted it.
        let histories = outcomes::histories(conn, function_id)?;
        let loaded = read_outcome_files(&self.data_dir, function_id)?;
        files::warn_corrupt(name, &loaded.corrupt);
        let on_disk: HashSet<u64> = loaded.outcomes.iter().map(|outcome| outcome.id).collect();
        let corrupt: HashSet<u64> =
            loaded.corrupt.iter().filter_map(|file| files::outcome_file_id(&file.path)).collect();
        let missing_rows: Vec<_> =
            loaded.outcomes.iter().filter(|outcome| !histories.contains_key(&outcome.id)).collect();
        let missing_files: Vec<u64> =
            histories.keys().filter(|id| !on_disk.contains(id) && !corrupt.contains(id)).copied().collect();
        outcomes::reconcile(conn, function_id, &missing_rows, &missing_files)?;
        // A corrupt file or a young temporary one: read the folder again
        // next time, to see it fixed or gone.
        let settled = loaded.corrupt.is_empty() && !loaded.unsettled;
        functions::set_files_stamp(conn, function_id, stamp.filter(|_| settled))?;
        Ok(loaded
            .outcomes
            .into_iter()
            .map(|outcome| match histories.get(&outcome.id) {
                Some(history) => {
                    outcome.with_history(history.count, history.last_seen_ms, history.last_recorded_ms).indexed()
                }
                None => outcome.indexed(),
            })
            .collect())
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
                match self.load_index(store, &mut watched.conn, (state.id, state.name), state.body_hash()) {
                    Ok(index) => state.reload(index, control.generation),
                    Err(error) => warn_load(state.name, &error),
                }
            } else {
                state.set_mock_entries(entries.remove(state.id).unwrap_or_default());
            }
        }
        // New rows of other processes: their files were written first.
        let (added, newest) = outcomes::added_since(&watched.conn, watched.outcome_seq)?;
        for added in added {
            if let Some(state) = states.iter().find(|state| state.id == added.function_id) {
                state.take_in(added.indexed, added.body_hash.as_deref());
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

/// A function's index, from its rows, read in two halves (by id) on two
/// threads and connections, then put in an index sized for them all;
/// `None` when a row did not read.
fn index_rows(store: &Store, function_id: &str) -> Result<Option<OutcomeIndex>, Error> {
    let halves = std::thread::scope(|scope| {
        let readers = [outcomes::IdHalf::Lower, outcomes::IdHalf::Upper].map(|half| {
            scope.spawn(move || {
                let mut chunks = Vec::new();
                let read = store.read(|conn| outcomes::indexed(conn, function_id, half, |chunk| chunks.push(chunk)))?;
                Ok(read.then_some(chunks))
            })
        });
        readers.map(|reader| reader.join().unwrap_or_else(|_| Err(panicked_reader())))
    });
    let mut chunks = Vec::new();
    for half in halves {
        let Some(half) = half? else { return Ok(None) };
        chunks.extend(half);
    }
    let mut index = OutcomeIndex::with_capacity(chunks.iter().map(Vec::len).sum());
    for chunk in chunks {
        chunk.into_iter().for_each(|row| index.load(row));
    }
    Ok(Some(index))
}

fn panicked_reader() -> Error {
    Error::StorageUnavailable {
        path: std::path::PathBuf::new(),
        reason: "the thread that read the outcome rows panicked; please report it".to_owned(),
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

/// Completes an index of a function's outcomes with what only the database
/// says of them: its mock entries, and which outcomes another body of the
/// function (of hash other than `body_hash`) recorded.
pub(crate) fn completed(
    index: &mut OutcomeIndex,
    conn: &Connection,
    function_id: &str,
    body_hash: &str,
) -> Result<(), Error> {
    index.set_mock_entries(mock::entries(conn, function_id)?);
    index.set_other_bodies(outcomes::other_bodies(conn, function_id, body_hash)?);
    Ok(())
}
