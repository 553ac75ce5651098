//! The process-wide [`Manager`]: started on first use when cacheow is on,
//! flushed when the process exits normally.

use std::sync::OnceLock;
use std::time::Duration;

use crate::db::Db;
use crate::function::{self, Function};
use crate::state::FunctionState;
use crate::{Error, Settings};

/// How often other processes' changes are looked for: modes set elsewhere
/// take effect within this, well under 100 ms.
const REFRESH_EVERY: Duration = Duration::from_millis(25);

static MANAGER: OnceLock<Manager> = OnceLock::new();

/// cacheow's runtime in this process: its settings and its database.
///
/// ```no_run
/// let manager = cacheow::manager().expect("run with CACHEOW_ENABLE=1");
/// println!("recording into {}", manager.settings().data_dir.display());
/// manager.flush();
/// ```
pub struct Manager {
    settings: Settings,
    db: Db,
    /// The control panel's address, once it was started (or not).
    panel: OnceLock<Option<std::net::SocketAddr>>,
    /// The process that started it: a forked child has no writer to flush.
    pid: u32,
}

/// The runtime, or `None` when cacheow is off (`CACHEOW_ENABLE` is not `1`,
/// or the `instrument` feature is off).
///
/// The first call starts it: it opens the data dir, registers the program's
/// decorated functions and starts its background writer.
pub fn manager() -> Option<&'static Manager> {
    if !crate::enable::enabled() {
        return None;
    }
    let manager = MANAGER.get_or_init(|| Manager::start(Settings::from_env()));
    manager.panel.get_or_init(|| manager.start_panel());
    Some(manager)
}

/// Starts the runtime with `settings`, whatever the environment says; for
/// test harnesses. Fails when it already runs with other settings.
pub(crate) fn start_with(settings: Settings) -> Result<&'static Manager, Error> {
    crate::enable::force_on();
    let manager = MANAGER.get_or_init(|| Manager::start(settings.clone()));
    if manager.settings.data_dir != settings.data_dir {
        return Err(Error::StorageUnavailable {
            path: settings.data_dir,
            reason: format!("cacheow already runs with the data dir {}", manager.settings.data_dir.display()),
        });
    }
    Ok(manager)
}

impl Manager {
    fn start(settings: Settings) -> Manager {
        let db = Db::open(&settings.data_dir, settings.seed);
        db.register_all(&function::registered());
        let _ = std::thread::Builder::new().name("cacheow-refresh".to_owned()).spawn(refresh_forever);
        Manager { settings, db, panel: OnceLock::new(), pid: std::process::id() }
    }

    /// Starts the control panel when the settings ask for it.
    fn start_panel(&'static self) -> Option<std::net::SocketAddr> {
        #[cfg(feature = "server")]
        if self.settings.start_server {
            return crate::server::start(&self.db, &self.settings);
        }
        None
    }

    /// The control panel's URL, `http://127.0.0.1:8765/`; `None` when it
    /// is off (`CACHEOW_START_SERVER=0`) or could not start (a warning
    /// said why).
    pub fn panel_url(&self) -> Option<String> {
        #[cfg(feature = "server")]
        if let Some(Some(address)) = self.panel.get() {
            return Some(crate::server::url(*address));
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

    /// Blocks until every outcome recorded so far is durable on disk.
    ///
    /// Recording is batched on a background thread; a normal exit flushes
    /// too, so calling this is only needed before reading the data dir from
    /// elsewhere while the program still runs.
    pub fn flush(&self) {
        if !self.db.flush_writer(true) {
            tracing::warn!("cacheow: flushing outcomes took over a minute; some may not be on disk yet");
        }
    }

    pub(crate) fn load(&self, function: &Function) -> std::sync::Arc<FunctionState> {
        self.db.load(function)
    }
}

/// Applies other processes' changes, for as long as the process runs.
fn refresh_forever() {
    loop {
        std::thread::sleep(REFRESH_EVERY);
        // The manager is in its static by the time the first refresh runs.
        let Some(manager) = MANAGER.get() else { continue };
        // A bug here must not stop the refreshes, nor reach the program.
        let refreshed = std::panic::catch_unwind(|| manager.db.refresh());
        let error = match refreshed {
            Ok(Ok(())) => continue,
            Ok(Err(error)) => error.to_string(),
            Err(_) => "a panic in cacheow; please report it".to_owned(),
        };
        crate::warn_once::warn_once(
            "refresh",
            format_args!("cacheow could not read changes made by other processes: {error}"),
        );
    }
}

/// A normal exit flushes what is still queued: nothing recorded is lost.
#[allow(unsafe_code)] // the registration of a function to run at exit
#[dtor::dtor(unsafe)]
fn flush_at_exit() {
    if let Some(manager) = MANAGER.get().filter(|manager| manager.pid == std::process::id()) {
        manager.flush();
    }
}
