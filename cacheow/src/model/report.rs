//! What cacheow tells the person running the program: its warnings, and
//! the control panel's URL.
//!
//! They go through `tracing` when a subscriber is in effect for the message
//! (global or scoped, checked per message). Most small programs install
//! none, and would see nothing: then each message is one line on stderr,
//! `cacheow: ...`, as far as `CACHEOW_LOG` (`off`, `warn`, `info`) allows.
//! Warnings of one cause are logged once, so that a failing disk or a bad
//! recording does not flood the program's log.

use std::collections::HashSet;
use std::fmt;
use std::io::Write as _;
use std::sync::{Mutex, OnceLock};

use tracing::subscriber::NoSubscriber;

use crate::model::env::{self, LogLevel};

static WARNED: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// Logs a warning.
/// The message a panic was given, as a warning or a panic outcome shows it.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(message), _) => (*message).to_owned(),
        (_, Some(message)) => message.clone(),
        _ => "a panic without a message".to_owned(),
    }
}

pub(crate) fn warn(message: fmt::Arguments<'_>) {
    if subscribed() {
        tracing::warn!("{message}");
    } else {
        fallback(LogLevel::Warn, message);
    }
}

/// Logs what a person wants to see once, such as the panel's URL.
#[cfg_attr(not(feature = "server"), allow(dead_code))] // the panel's alone, for now
pub(crate) fn info(message: fmt::Arguments<'_>) {
    if subscribed() {
        tracing::info!("{message}");
    } else {
        fallback(LogLevel::Info, message);
    }
}

/// Logs `message` as a warning unless a warning with this `cause` was
/// logged; then at debug level, for whoever asks for everything.
pub(crate) fn warn_once(cause: impl Into<String>, message: fmt::Arguments<'_>) {
    let first = WARNED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get_or_insert_with(HashSet::new)
        .insert(cause.into());
    // Logged outside the lock: a subscriber may do anything.
    if first {
        warn(message);
    } else {
        tracing::debug!("{message}");
    }
}

/// Whether a `tracing` subscriber takes this thread's messages.
fn subscribed() -> bool {
    !tracing::dispatcher::get_default(|dispatch| dispatch.is::<NoSubscriber>())
}

/// One line on stderr, when `CACHEOW_LOG` allows messages of `level`.
fn fallback(level: LogLevel, message: fmt::Arguments<'_>) {
    if level > fallback_level() {
        return;
    }
    // `cacheow could not ...` reads `cacheow: could not ...`.
    let text = message.to_string();
    let text = ["cacheow: ", "cacheow "].iter().find_map(|prefix| text.strip_prefix(prefix)).unwrap_or(&text);
    // A closed stderr loses the line, never the program.
    let _ = writeln!(std::io::stderr().lock(), "cacheow: {}", text.replace('\n', " "));
}

/// What `CACHEOW_LOG` says; a bad value is told when the settings are
/// read, and means the default meanwhile.
fn fallback_level() -> LogLevel {
    static LEVEL: OnceLock<LogLevel> = OnceLock::new();
    *LEVEL.get_or_init(|| env::log_level(&env::lookup).unwrap_or(LogLevel::Info))
}
