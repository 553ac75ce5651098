//! The composition root: [`Manager`] opens a data dir's store, builds the
//! runtime over it and starts the control panel. The process-wide one,
//! [`manager()`], starts on first use when cacheow is on and is flushed
//! when the process exits normally; tests and tools open their own.

use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::db::Db;
use crate::model::error::Error;
use crate::model::settings::Settings;
use crate::runtime::binding::{self, Binding, Rebound};
use crate::runtime::{Runtime, enable, fork};
use crate::store::shared::{Shared, SharedConfig};

static MANAGER: OnceLock<Manager> = OnceLock::new();

/// cacheow's runtime over one data dir: its settings, its database, and the
/// control panel of the process-wide one.
///
/// ```no_run
/// let manager = cacheow::manager().expect("run with CACHEOW_ENABLE=1");
/// println!("recording into {}", manager.settings().data_dir.display());
/// manager.flush();
/// ```
pub struct Manager {
    settings: Settings,
    runtime: Arc<Runtime>,
    db: Db,
    /// The control panel's address, once it was started (or not).
    panel: OnceLock<Option<std::net::SocketAddr>>,
    /// The process that opened it: a forked child has no writer to flush.
    pid: u32,
}

/// The process-wide runtime, or `None` when cacheow is off
/// (`CACHEOW_ENABLE` is not `1`, or the `instrument` feature is off).
///
/// The first call starts it: it opens the data dir, registers the program's
/// decorated functions, starts its background writer and, unless
/// `CACHEOW_START_SERVER=0`, the control panel.
pub fn manager() -> Option<&'static Manager> {
    if !enable::enabled() {
        return None;
    }
    let manager = MANAGER.get_or_init(|| Manager::open(Settings::from_env()));
    manager.panel.get_or_init(|| manager.start_panel());
    Some(manager)
}

/// The process-wide runtime, for decorated calls: what
/// `crate::runtime::Global` names.
pub(crate) fn global_runtime() -> Option<&'static Runtime> {
    manager().map(|manager| &*manager.runtime)
}

/// The runtime the calls and handles of this thread use: the one bound to
/// it, else the process-wide one; `None` when cacheow is off.
pub(crate) fn current_runtime() -> Option<Arc<Runtime>> {
    if fork::in_child() {
        return None;
    }
    binding::runtime().or_else(|| manager().map(|manager| Arc::clone(&manager.runtime)))
}

/// The longest a flush, or a normal exit, waits for Redis.
const SHARED_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

impl Manager {
    /// A runtime over `settings.data_dir` of its own, apart from the
    /// process-wide one and whatever `CACHEOW_ENABLE` says: for tests and
    /// tools that want a data dir to themselves. It starts no control panel
    /// (see [`panel_router`](Self::panel_router)), and what it recorded is
    /// on disk when it is dropped.
    ///
    /// Decorated calls use it on the threads it is [bound](Self::bind) to.
    ///
    /// ```no_run
    /// # #[cacheow::cacheow] fn fetch(id: u32) -> u32 { id }
    /// let mut settings = cacheow::Settings::default();
    /// settings.data_dir = "target/my-test-data".into();
    /// let manager = cacheow::Manager::open(settings);
    /// let _bound = manager.bind();
    /// fetch(7); // recorded into target/my-test-data
    /// ```
    pub fn open(settings: Settings) -> Manager {
        let budget = usize::try_from(settings.payload_cache_mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
        let shared = settings.redis_url.as_ref().and_then(|url| {
            Shared::open(SharedConfig {
                url: url.clone(),
                prefix: settings.redis_prefix.clone(),
                budget: settings.redis_budget,
            })
        });
        let runtime = Runtime::open(&settings.data_dir, settings.seed, budget, shared);
        let db = Db::new(Arc::clone(&runtime));
        Manager { settings, runtime, db, panel: OnceLock::new(), pid: std::process::id() }
    }

    /// The runtime, for the layers above it (the CLI's commands).
    pub(crate) fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Makes the decorated calls made on this thread, and the methods of
    /// their handles, use this manager's data dir until the guard drops,
    /// as `insta`'s `Settings::bind_to_scope` does for its settings. A
    /// `#[cacheow_test]` scope entered on the thread still comes first.
    pub fn bind(&self) -> Bound {
        Bound { _rebound: binding::bind(Binding::Runtime(Arc::clone(&self.runtime))), _thread: PhantomData }
    }

    /// Starts the control panel when the settings ask for it.
    fn start_panel(&self) -> Option<std::net::SocketAddr> {
        #[cfg(feature = "server")]
        if self.settings.start_server {
            return crate::panel::start(Arc::clone(&self.runtime), &self.settings);
        }
        None
    }

    /// The control panel's routes over this manager's data dir, with the
    /// access rules of its settings: to serve the panel from an axum
    /// application of one's own, or to test it with `tower::ServiceExt`.
    /// Refused, as the panel a program starts is, for a host other machines
    /// reach without a `server_token`.
    #[cfg(feature = "server")]
    pub fn panel_router(&self) -> Result<axum::Router, Error> {
        crate::panel::router(Arc::clone(&self.runtime), &self.settings)
    }

    /// Serves the control panel over this manager's data dir on the current
    /// thread, until the process ends: what `cacheow serve` runs.
    /// `on_listen` gets its URL once it listens.
    #[cfg(feature = "server")]
    pub fn serve_panel(&self, on_listen: impl FnOnce(&str)) -> Result<(), Error> {
        crate::panel::serve(Arc::clone(&self.runtime), &self.settings, on_listen)
    }

    /// The control panel's URL, `http://127.0.0.1:8765/`; `None` when it
    /// is off (`CACHEOW_START_SERVER=0`), could not start (a warning said
    /// why), or this manager was [opened](Self::open) apart.
    pub fn panel_url(&self) -> Option<String> {
        #[cfg(feature = "server")]
        if let Some(Some(address)) = self.panel.get() {
            return Some(crate::panel::url(*address));
        }
        None
    }

    /// The settings cacheow started with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The database of modes, latencies and outcomes.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Blocks until every outcome recorded so far is durable on disk, and,
    /// with a shared tier, has reached Redis (for a few seconds at most,
    /// and not at all while Redis is unreachable).
    ///
    /// Recording is batched on a background thread; a normal exit flushes
    /// too, so calling this is only needed before reading the data dir from
    /// elsewhere while the program still runs.
    pub fn flush(&self) {
        // What failed was warned of once, where it failed: a data dir that
        // did not open, an outcome the writer could not write, a writer
        // that stopped or did not finish in time.
        let _ = self.try_flush();
    }

    /// Blocks until every outcome recorded so far is durable on disk, as
    /// [`flush`](Self::flush) does, and says whether it all got there.
    ///
    /// # Errors
    ///
    /// [`Error::NotFlushed`] names what did not reach the disk: outcomes
    /// the writer could not write (a full disk), a writer that stopped, a
    /// data dir that could not be opened, or a flush that took over a
    /// minute.
    pub fn try_flush(&self) -> Result<(), Error> {
        let flushed = self.runtime.flush(true).map_err(|reason| Error::NotFlushed { reason });
        // Redis is a second tier: what does not reach it is said once, and
        // `cacheow push` sends it later. An unreachable Redis was warned of.
        if let Some(shared) = self.runtime.shared()
            && !shared.flush(SHARED_FLUSH_TIMEOUT)
            && shared.reachable()
        {
            crate::model::report::warn_once(
                "redis-unflushed",
                format_args!(
                    "cacheow: {} outcome(s) recorded here have not reached Redis at {}; they are in the data dir, \
                     and `cacheow push` sends them",
                    shared.pending(),
                    shared.url()
                ),
            );
        }
        flushed
    }
}

impl Drop for Manager {
    /// What it recorded is on disk once it is dropped, even while its
    /// refresher or a router still holds its runtime.
    fn drop(&mut self) {
        let _ = self.runtime.flush(true);
    }
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// A thread bound to a [`Manager`] by [`Manager::bind`]; unbound, back to
/// what it used before, when dropped on that same thread.
#[must_use = "the thread is unbound when this guard drops"]
pub struct Bound {
    _rebound: Rebound,
    /// A binding belongs to its thread.
    _thread: PhantomData<*const ()>,
}

impl std::fmt::Debug for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bound")
    }
}

/// A normal exit flushes what is still queued: nothing recorded is lost.
/// Quietly: what could not be written was told when it happened, and a
/// subscriber's thread-locals may be gone by now.
#[allow(unsafe_code)] // the registration of a function to run at exit
#[dtor::dtor(unsafe)]
fn flush_at_exit() {
    if let Some(manager) = MANAGER.get().filter(|manager| manager.pid == std::process::id()) {
        // Outcomes served stale are being refreshed: their new outcomes are
        // worth the wait, up to the functions' `wait`.
        crate::runtime::refresh::wait_for_all();
        let _ = manager.try_flush();
    }
}
