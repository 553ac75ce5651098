//! [`Db`]: the persisted control state of every function (modes,
//! latencies, outcomes), and the functions' states in this process, kept in
//! step with it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::Connection;

use crate::files::{self, CorruptFile};
use crate::function::Function;
use crate::index::OutcomeIndex;
use crate::mock::{self, MockOutcome};
use crate::sqlite::{self, Control, Registration};
use crate::state::FunctionState;
use crate::warn_once::warn_once;
use crate::writer::{States, Writer};
use crate::{Error, Mode, Stats, ids};

mod catalog;
mod manage;
#[cfg(feature = "cli")]
mod transfer;

#[cfg(feature = "server")]
pub(crate) use catalog::{CallRow, FunctionRow, OutcomeRow};
pub use manage::Rebuilt;

/// The longest artificial latency cacheow accepts.
pub const MAX_LATENCY: Duration = Duration::from_secs(3600);

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
    data_dir: PathBuf,
    storage: Option<Storage>,
    states: Arc<States>,
    seed: Option<u64>,
}

struct Storage {
    control: Mutex<ControlConnection>,
    writer: Writer,
}

/// The connection for control operations and refreshes. Both run under its
/// lock, so a refresh never applies a mode older than one just set.
struct ControlConnection {
    conn: Connection,
    data_version: i64,
    outcome_seq: i64,
}

impl Db {
    /// Opens the data dir; on failure, warns and keeps everything in memory.
    pub(crate) fn open(data_dir: &Path, seed: Option<u64>) -> Db {
        let states = Arc::new(States::default());
        let storage = match Storage::open(data_dir, Arc::clone(&states)) {
            Ok(storage) => Some(storage),
            Err(error) => {
                tracing::warn!("{error}");
                None
            }
        };
        Db { data_dir: data_dir.to_path_buf(), storage, states, seed }
    }

    /// The data dir.
    #[cfg(feature = "server")]
    pub(crate) fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Sets the mode of the function with this id.
    pub fn set_mode(&self, function_id: &str, mode: Mode) -> Result<(), Error> {
        self.update(function_id, |conn| sqlite::set_mode(conn, function_id, mode), |state| state.set_mode(mode))
    }

    /// The mode of the function with this id.
    pub fn mode(&self, function_id: &str) -> Result<Mode, Error> {
        self.control(function_id).map(|control| control.mode)
    }

    /// Sets the artificial latency of the function with this id.
    pub fn set_latency(&self, function_id: &str, latency: Duration) -> Result<(), Error> {
        if latency > MAX_LATENCY {
            return Err(Error::InvalidLatency { latency });
        }
        self.update(
            function_id,
            |conn| sqlite::set_latency(conn, function_id, latency),
            |state| state.set_latency(latency),
        )
    }

    /// The artificial latency of the function with this id.
    pub fn latency(&self, function_id: &str) -> Result<Duration, Error> {
        self.control(function_id).map(|control| control.latency)
    }

    fn control(&self, function_id: &str) -> Result<Control, Error> {
        check_id(function_id)?;
        if let Some(state) = self.loaded(function_id) {
            return Ok(Control { mode: state.mode(), latency: state.latency(), generation: state.generation() });
        }
        let control = self.lock()?;
        sqlite::control(&control.conn, function_id)?.ok_or_else(|| unknown(function_id))
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
        let control = self.lock()?;
        if !write(&control.conn)? {
            return Err(unknown(function_id));
        }
        if let Some(state) = self.loaded(function_id) {
            apply(&state);
        }
        Ok(())
    }

    /// Replaces the mock configuration of the function with this id.
    pub fn set_mock_outcomes(
        &self,
        function_id: &str,
        outcomes: impl IntoIterator<Item = MockOutcome>,
    ) -> Result<(), Error> {
        check_id(function_id)?;
        let entries = mock::entries(function_id, outcomes)?;
        let mut control = self.lock()?;
        if !sqlite::function_exists(&control.conn, function_id)? {
            return Err(unknown(function_id));
        }
        let known: HashSet<u64> = match self.loaded(function_id) {
            Some(state) => entries.keys().filter(|id| state.index().get(**id).is_some()).copied().collect(),
            None => sqlite::outcome_rows(&control.conn, function_id)?.into_iter().map(|row| row.id).collect(),
        };
        if let Some(id) = entries.keys().find(|id| !known.contains(id)) {
            return Err(Error::UnknownOutcome { function_id: function_id.to_owned(), outcome_id: ids::id_hex(*id) });
        }
        sqlite::set_mock_entries(&mut control.conn, function_id, &entries)?;
        if let Some(state) = self.loaded(function_id) {
            state.index_mut().set_mock_entries(entries);
        }
        Ok(())
    }

    /// The mock configuration of the function with this id.
    pub fn mock_outcomes(&self, function_id: &str) -> Result<Vec<MockOutcome>, Error> {
        check_id(function_id)?;
        let control = self.lock()?;
        let mut outcomes: Vec<MockOutcome> = sqlite::mock_entries(&control.conn, function_id)?
            .into_iter()
            .map(|(id, entry)| MockOutcome::from_entry(id, entry))
            .collect();
        outcomes.sort_by(|a, b| a.outcome_id.cmp(&b.outcome_id));
        Ok(outcomes)
    }

    pub(crate) fn stats(&self, function_id: &str) -> Result<Stats, Error> {
        sqlite::stats(&self.lock()?.conn, function_id)
    }

    /// Waits until every outcome recorded so far is written; `durable` also
    /// syncs it to the disk.
    pub(crate) fn flush_writer(&self, durable: bool) -> bool {
        const TIMEOUT: Duration = Duration::from_secs(60);
        match &self.storage {
            Some(storage) => storage.writer.flush(durable, TIMEOUT),
            None => true,
        }
    }

    /// The state of a function in this process, loaded on its first use.
    pub(crate) fn load(&self, function: &Function) -> Arc<FunctionState> {
        let id = function.id();
        if let Some(state) = self.loaded(id) {
            return state;
        }
        let Some(storage) = &self.storage else {
            // Memory only: the warning that the data dir is unusable was given.
            return self.insert(FunctionState::new(
                id,
                function.name(),
                Control::default(),
                OutcomeIndex::default(),
                self.seed,
                None,
            ));
        };
        // Under the control lock until the state is in place, so that no
        // change made or refreshed meanwhile is missed.
        let mut control = storage.lock();
        if let Some(state) = self.loaded(id) {
            return state;
        }
        let (row, index) = self.read_function(&mut control.conn, function).unwrap_or_else(|error| {
            warn_load(function.name(), &error);
            Default::default()
        });
        let writer = Some(storage.writer.clone());
        self.insert(FunctionState::new(id, function.name(), row, index, self.seed, writer))
    }

    fn insert(&self, state: FunctionState) -> Arc<FunctionState> {
        let mut states = self.states.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(states.entry(state.id).or_insert_with(|| Arc::new(state)))
    }

    /// A function's mode, latency and outcomes, registering it if needed.
    fn read_function(&self, conn: &mut Connection, function: &Function) -> Result<(Control, OutcomeIndex), Error> {
        if function.is_registered() && !sqlite::function_exists(conn, function.id())? {
            sqlite::register(conn, &program(), &[registration(function)], false)?;
        }
        let row = sqlite::control(conn, function.id())?.unwrap_or_default();
        // Without its outcomes, the function still runs in its mode.
        let index = self.load_index(conn, function.id(), function.name()).unwrap_or_else(|error| {
            warn_load(function.name(), &error);
            OutcomeIndex::default()
        });
        Ok((row, index))
    }

    /// Reads a function's outcome files, merges in the counts of the
    /// database and makes its rows match the files.
    fn load_index(&self, conn: &mut Connection, function_id: &str, name: &str) -> Result<OutcomeIndex, Error> {
        // Rows before files: a row is committed after its file is written,
        // so every row read here has its file, unless someone deleted it.
        let rows: HashMap<u64, sqlite::OutcomeRow> =
            sqlite::outcome_rows(conn, function_id)?.into_iter().map(|row| (row.id, row)).collect();
        let loaded = files::read_outcomes(&self.data_dir, function_id).map_err(|source| Error::Io {
            action: "read",
            path: files::outcomes_dir(&self.data_dir, function_id),
            source,
        })?;
        warn_corrupt(name, &loaded.corrupt);
        let on_disk: HashSet<u64> = loaded.outcomes.iter().map(|outcome| outcome.id).collect();
        let corrupt: HashSet<u64> =
            loaded.corrupt.iter().filter_map(|file| file.path.file_stem()?.to_str().and_then(ids::parse_id)).collect();
        let missing_rows: Vec<_> = loaded.outcomes.iter().filter(|outcome| !rows.contains_key(&outcome.id)).collect();
        let missing_files: Vec<u64> =
            rows.keys().filter(|id| !on_disk.contains(id) && !corrupt.contains(id)).copied().collect();
        sqlite::reconcile_outcomes(conn, function_id, &missing_rows, &missing_files)?;
        build_index(conn, function_id, loaded.outcomes, &rows)
    }

    /// Takes in what other processes changed since the last refresh.
    pub(crate) fn refresh(&self) -> Result<(), Error> {
        let Some(storage) = &self.storage else { return Ok(()) };
        let mut control = storage.lock();
        let version = sqlite::data_version(&control.conn)?;
        if version == control.data_version {
            return Ok(());
        }
        let states: Vec<Arc<FunctionState>> =
            self.states.read().unwrap_or_else(|poisoned| poisoned.into_inner()).values().cloned().collect();
        let rows = sqlite::controls(&control.conn)?;
        let mut entries = sqlite::all_mock_entries(&control.conn)?;
        for state in &states {
            let Some(row) = rows.get(state.id) else { continue };
            state.apply(*row);
            if row.generation != state.generation() {
                match self.load_index(&mut control.conn, state.id, state.name) {
                    Ok(index) => state.reload(index, row.generation),
                    Err(error) => warn_load(state.name, &error),
                }
            } else {
                state.set_mock_entries(entries.remove(state.id).unwrap_or_default());
            }
        }
        let (added, newest) = sqlite::outcomes_since(&control.conn, control.outcome_seq)?;
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
        control.outcome_seq = newest;
        control.data_version = version;
        Ok(())
    }

    /// Registers every function linked into the program, and marks stale
    /// those of its crates that it no longer has.
    pub(crate) fn register_all(&self, functions: &[&'static Function]) {
        warn_shared_ids(functions);
        if self.storage.is_none() {
            return;
        }
        let registrations: Vec<Registration<'_>> = functions.iter().map(|function| registration(function)).collect();
        let result =
            self.lock().and_then(|mut control| sqlite::register(&mut control.conn, &program(), &registrations, true));
        if let Err(error) = result {
            warn_once("register", format_args!("cacheow could not register the program's functions: {error}"));
        }
    }

    fn loaded(&self, function_id: &str) -> Option<Arc<FunctionState>> {
        self.states.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(function_id).cloned()
    }

    fn lock(&self) -> Result<MutexGuard<'_, ControlConnection>, Error> {
        match &self.storage {
            Some(storage) => Ok(storage.lock()),
            None => Err(Error::StorageUnavailable {
                path: self.data_dir.clone(),
                reason: "it could not be opened when cacheow started; see the warning logged then".to_owned(),
            }),
        }
    }
}

impl Storage {
    fn open(data_dir: &Path, states: Arc<States>) -> Result<Storage, Error> {
        let unavailable = |reason: String| Error::StorageUnavailable { path: data_dir.to_path_buf(), reason };
        std::fs::create_dir_all(data_dir.join("functions")).map_err(|error| unavailable(error.to_string()))?;
        let conn = sqlite::open(data_dir).map_err(|error| unavailable(error.to_string()))?;
        let data_version = sqlite::data_version(&conn)?;
        let outcome_seq = sqlite::max_outcome_seq(&conn)?;
        let writer = Writer::spawn(data_dir.to_path_buf(), states).map_err(|error| unavailable(error.to_string()))?;
        Ok(Storage { control: Mutex::new(ControlConnection { conn, data_version, outcome_seq }), writer })
    }

    fn lock(&self) -> MutexGuard<'_, ControlConnection> {
        self.control.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
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

fn registration(function: &Function) -> Registration<'_> {
    let meta = function.meta();
    Registration {
        id: function.id(),
        name: meta.name,
        qualified_name: function.name(),
        module_path: meta.module_path,
        crate_name: ids::crate_of(function.name()),
        kind: meta.kind.as_str(),
        signature: meta.signature,
        source: format!("{}:{}", meta.file, meta.line),
    }
}

/// Two functions with one id would share their outcomes: say so. It happens
/// for methods of the same name in two impls of one generic type
/// (`impl Foo<u8>` and `impl Foo<u16>`), whose paths differ only in
/// generic arguments.
fn warn_shared_ids(functions: &[&'static Function]) {
    let mut seen: HashMap<&str, &Function> = HashMap::new();
    for function in functions {
        if let Some(other) = seen.insert(function.id(), function) {
            let (a, b) = (other.meta(), function.meta());
            warn_once(
                format!("shared-id:{}", function.id()),
                format_args!(
                    "the #[cacheow] functions at {}:{} and {}:{} are both `{}` (id {}), so they share their \
                     outcomes and mode: rename one",
                    a.file,
                    a.line,
                    b.file,
                    b.line,
                    function.name(),
                    function.id()
                ),
            );
        }
    }
}

fn warn_load(function_name: &str, error: &Error) {
    warn_once(
        format!("load:{function_name}"),
        format_args!("cacheow could not load the outcomes of `{function_name}`: {error}"),
    );
}

fn warn_corrupt(function_name: &str, corrupt: &[CorruptFile]) {
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

/// The index of outcomes read from files, with the counts of their rows
/// and the function's mock entries.
fn build_index(
    conn: &Connection,
    function_id: &str,
    outcomes: Vec<crate::outcome::Outcome>,
    rows: &HashMap<u64, sqlite::OutcomeRow>,
) -> Result<OutcomeIndex, Error> {
    let mut index = OutcomeIndex::default();
    for outcome in outcomes {
        if let Some(row) = rows.get(&outcome.id) {
            outcome.count.store(row.count, std::sync::atomic::Ordering::Relaxed);
            outcome.last_seen_ms.store(row.last_seen_ms, std::sync::atomic::Ordering::Relaxed);
        }
        index.insert(Arc::new(outcome));
    }
    index.set_mock_entries(sqlite::mock_entries(conn, function_id)?);
    Ok(index)
}

fn check_id(function_id: &str) -> Result<(), Error> {
    if ids::is_id(function_id) { Ok(()) } else { Err(Error::InvalidId { id: function_id.to_owned() }) }
}

fn unknown(function_id: &str) -> Error {
    Error::UnknownFunction { id: function_id.to_owned() }
}
