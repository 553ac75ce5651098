//! A forked child (a test runner's worker, a pre-fork server) inherits the
//! process-wide runtime: a writer whose thread is not in it, a refresher
//! likewise, and the parent's SQLite connections, which SQLite forbids it
//! to use. So in a child, cacheow is off: its decorated functions run as
//! written, its handles do nothing, and it says so once, at its first call.
//!
//! The fork is noticed off the hot path: a handler the C library runs in
//! the child raises a flag, and calls read it where they already read
//! cacheow's state.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::model::report;

/// Raised in a child of the process that started cacheow.
static FORKED: AtomicBool = AtomicBool::new(false);

/// Watches for forks from now on: called when a runtime starts.
pub(crate) fn watch() {
    static WATCHING: Once = Once::new();
    WATCHING.call_once(register);
}

#[cfg(unix)]
#[allow(unsafe_code)] // the registration of a handler the C library runs in a forked child
fn register() {
    // SAFETY: `forked` only stores to atomics, which is all a child may
    // do before it calls `exec` or returns to Rust code.
    let failed = unsafe { libc::pthread_atfork(None, None, Some(forked)) };
    if failed != 0 {
        report::warn(format_args!(
            "cacheow cannot watch for forks (error {failed}); a forked child would need CACHEOW_ENABLE unset"
        ));
    }
}

#[cfg(not(unix))]
fn register() {}

#[cfg(unix)]
extern "C" fn forked() {
    FORKED.store(true, Ordering::Release);
}

/// Whether this process is a forked child of the one that started cacheow;
/// the first time, says that cacheow is off in it.
pub(crate) fn in_child() -> bool {
    if !FORKED.load(Ordering::Acquire) {
        return false;
    }
    static TOLD: Once = Once::new();
    TOLD.call_once(|| {
        report::warn(format_args!(
            "cacheow is off in this process (pid {}): it was forked from the one that started cacheow, whose \
             writer and database connections it cannot use; its #[cacheow] functions run as written",
            std::process::id()
        ));
    });
    true
}
