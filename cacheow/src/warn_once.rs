//! Warnings logged once per process and cause, so that a failing disk or a
//! bad recording does not flood the log of the program being instrumented.

use std::collections::HashSet;
use std::fmt;
use std::sync::Mutex;

static WARNED: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// Logs `message` as a warning unless a warning with this `cause` was logged.
pub(crate) fn warn_once(cause: impl Into<String>, message: fmt::Arguments<'_>) {
    let first = WARNED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get_or_insert_with(HashSet::new)
        .insert(cause.into());
    // Logged outside the lock: a subscriber may do anything.
    if first {
        tracing::warn!("{message}");
    } else {
        tracing::debug!("{message}");
    }
}
