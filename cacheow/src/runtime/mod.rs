//! The runtime: the decorated functions of this process, their state in
//! memory (mode, latency, the index of their outcomes), their calls in each
//! mode, sequences and panics, and what a thread's calls answer to (a test's
//! scope, or a runtime bound to it).
//!
//! A [`Runtime`] is a value over one data dir: the process-wide one is made
//! by the composition root (`crate::manager`), and tests make their own.
//! It keeps its state in step with its store, and other processes' changes
//! reach it through a refresher thread.

pub(crate) mod binding;
pub(crate) mod call;
pub(crate) mod call_log;
pub(crate) mod control;
pub(crate) mod enable;
pub(crate) mod fork;
pub(crate) mod function;
pub(crate) mod hook;
pub(crate) mod in_flight;
pub(crate) mod index;
pub(crate) mod invalidate;
pub(crate) mod lease;
pub(crate) mod load;
pub(crate) mod loaded;
pub(crate) mod manage;
pub(crate) mod panics;
pub(crate) mod payloads;
pub(crate) mod polled;
pub(crate) mod pull;
pub(crate) mod refresh;
pub(crate) mod registry;
pub(crate) mod request;
pub(crate) mod run;
pub(crate) mod scope;
pub(crate) mod sequence;
pub(crate) mod sink;
pub(crate) mod state;

use std::path::{Path, PathBuf};
use std::sync::{Arc, MutexGuard, Weak};
use std::time::Duration;

use crate::model::error::Error;
use crate::model::{ids, report};
use crate::runtime::loaded::Loaded;
use crate::runtime::payloads::Budget;
use crate::store::shared::Shared;
use crate::store::{Store, Watched};

/// How often other processes' changes are looked for: modes set elsewhere
/// take effect within this, well under 100 ms.
const REFRESH_EVERY: Duration = Duration::from_millis(25);

/// Where calls find the process-wide runtime, which the composition root
/// hands in and starts on first use; `None` when cacheow is off.
pub(crate) type Global = fn() -> Option<&'static Runtime>;

/// The decorated functions' state over one data dir.
pub(crate) struct Runtime {
    data_dir: PathBuf,
    /// Why there is none, when the data dir could not be opened: then
    /// everything stays in memory, and a warning said why.
    store: Result<Store, String>,
    loaded: Arc<Loaded>,
    /// The bytes of payloads its functions keep in memory.
    budget: Arc<Budget>,
    /// `CACHEOW_SEED`: mock choices are reproducible.
    seed: Option<u64>,
    /// The shared tier on Redis, while `CACHEOW_REDIS_URL` is set.
    shared: Option<Arc<Shared>>,
}

impl Runtime {
    /// The folder of a function's outcome files.
    pub(crate) fn outcomes_dir(&self, function_id: &str) -> PathBuf {
        crate::store::files::outcomes_dir(&self.data_dir, function_id)
    }

    /// Opens the data dir, registers the program's decorated functions and
    /// starts the writer and the refresher; on failure, warns and keeps
    /// everything in memory.
    pub(crate) fn open(
        data_dir: &Path,
        seed: Option<u64>,
        payload_budget_bytes: usize,
        shared: Option<Arc<Shared>>,
    ) -> Arc<Runtime> {
        let loaded = Arc::new(Loaded::default());
        let budget = Budget::new(payload_budget_bytes);
        budget.evict_through(Arc::downgrade(&loaded) as Weak<dyn payloads::Evict>);
        let store =
            Store::open(data_dir, Arc::clone(&loaded) as Arc<dyn crate::store::writer::Activity>).map_err(|error| {
                report::warn(format_args!("{error}"));
                error.to_string()
            });
        fork::watch();
        let runtime = Arc::new(Runtime { data_dir: data_dir.to_path_buf(), store, loaded, budget, seed, shared });
        runtime.register_all(&registry::registered());
        let weak = Arc::downgrade(&runtime);
        let _ = std::thread::Builder::new().name("cacheow-refresh".to_owned()).spawn(move || refresh_while_used(weak));
        runtime
    }

    /// The data dir.
    pub(crate) fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The store, or why there is none.
    pub(crate) fn store(&self) -> Result<&Store, Error> {
        self.store.as_ref().map_err(|why| Error::StorageUnavailable {
            path: self.data_dir.clone(),
            reason: format!("it could not be opened when cacheow started: {why}"),
        })
    }

    /// The store's control connection, under its lock.
    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, Watched>, Error> {
        self.store().map(Store::lock)
    }

    /// The shared tier, while one is set.
    pub(crate) fn shared(&self) -> Option<&Arc<Shared>> {
        self.shared.as_ref()
    }

    /// Waits until every outcome recorded so far is written; `durable` also
    /// syncs it to the disk. An error says what did not reach it.
    pub(crate) fn flush(&self, durable: bool) -> Result<(), String> {
        match &self.store {
            Ok(store) => store.flush(durable),
            Err(why) => Err(format!("the data dir could not be opened when cacheow started: {why}")),
        }
    }
}

impl Runtime {
    /// Lets what this process recorded so far reach the database, before
    /// reading or changing what it holds; a failure was warned about.
    pub(crate) fn catch_up(&self) {
        let _ = self.flush(false);
    }
}

/// Applies other processes' changes for as long as the runtime is used.
fn refresh_while_used(runtime: Weak<Runtime>) {
    let mut cleanups = invalidate::Cleanups::of_this_program();
    loop {
        std::thread::sleep(REFRESH_EVERY);
        let Some(runtime) = runtime.upgrade() else { return };
        // A bug here must not stop the refreshes, nor reach the program.
        let refreshed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            cleanups.run(&runtime);
            runtime.refresh()
        }));
        let error = match refreshed {
            Ok(Ok(())) => continue,
            Ok(Err(error)) => error.to_string(),
            Err(_) => "a panic in cacheow; please report it".to_owned(),
        };
        report::warn_once("refresh", format_args!("cacheow could not read changes made by other processes: {error}"));
    }
}

/// `function_id`, when it has the shape of an id: checked before it
/// reaches the database or a path.
pub(crate) fn check_id(function_id: &str) -> Result<(), Error> {
    if ids::is_id(function_id) { Ok(()) } else { Err(Error::InvalidId { id: function_id.to_owned() }) }
}

pub(crate) fn unknown(function_id: &str) -> Error {
    Error::UnknownFunction { id: function_id.to_owned() }
}
