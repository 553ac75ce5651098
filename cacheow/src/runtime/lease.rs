//! In-flight dedupe across processes (`dedupe = "processes"`): a call that
//! runs holds an exclusive lock on a file named by its key, beside the
//! function's outcomes, until its outcome is in the database. Another
//! process's call of the same key finds the lock taken and waits, holding
//! nothing, until its own index shows the outcome, or the lock is free.
//!
//! The lock is the kernel's (`flock`): it is released when the process that
//! holds it ends, crashed or not, so liveness never rests on a pid (two
//! containers sharing the volume may both be pid 1). It holds between
//! processes of one machine, and of containers sharing its kernel; a
//! network file system may not honour it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::model::ids;
use crate::store::shared::Shared;

/// The lock of one key, held while this lives.
#[derive(Debug)]
pub(crate) struct Lease {
    _file: File,
    /// With a shared tier, the key's mark there too: calls on other
    /// machines wait for it as other processes wait for the lock.
    _mark: Option<Box<Mark>>,
}

/// This process's in-flight mark of a key in the shared tier (Redis),
/// released when dropped; it expires by itself if the process crashes.
pub(crate) struct Mark {
    shared: Arc<Shared>,
    function_id: &'static str,
    function_name: &'static str,
    arg_key: u128,
}

impl std::fmt::Debug for Mark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mark").field("function_id", &self.function_id).finish_non_exhaustive()
    }
}

impl Drop for Mark {
    fn drop(&mut self) {
        self.shared.release(self.function_id, self.function_name, self.arg_key);
    }
}

impl Lease {
    /// The lease, once the key's mark in the shared tier is taken too;
    /// `Claim::Elsewhere` when a call on another machine holds it. When
    /// Redis does not answer within its budget, the call runs.
    pub(crate) fn marked(
        self,
        shared: &Arc<Shared>,
        function: (&'static str, &'static str),
        arg_key: u128,
        life: Duration,
    ) -> Claim {
        let (function_id, function_name) = function;
        if !shared.reachable() {
            return Claim::Held(self);
        }
        if !shared.mark(function_id, arg_key, life) {
            return Claim::Elsewhere;
        }
        let mark = Mark { shared: Arc::clone(shared), function_id, function_name, arg_key };
        Claim::Held(Lease { _mark: Some(Box::new(mark)), ..self })
    }
}

/// Where a call stands with the other processes of the data dir.
#[derive(Debug)]
pub(crate) enum Claim {
    /// Not deduplicated across processes: not asked, or no lock can be
    /// taken here (the folder cannot be made, no `flock`).
    None,
    /// It holds the key's lock: it runs, and publishes its outcome first.
    Held(Lease),
    /// Another process's call of the key holds it: this one waits for it.
    Elsewhere,
}

/// The folder of a function's locks: beside its outcomes folder.
pub(crate) fn dir_of(outcomes_dir: &Path) -> PathBuf {
    outcomes_dir.with_file_name("in-flight")
}

/// Takes the lock of `arg_key` in `dir`, without waiting.
pub(crate) fn try_take(dir: &Path, arg_key: u128) -> Claim {
    if std::fs::create_dir_all(dir).is_err() {
        return Claim::None;
    }
    let path = dir.join(format!("{}.lock", ids::arg_key_hex(arg_key)));
    let Ok(file) = File::options().create(true).truncate(false).write(true).open(&path) else {
        return Claim::None;
    };
    match lock(&file) {
        Some(true) => Claim::Held(Lease { _file: file, _mark: None }),
        Some(false) => Claim::Elsewhere,
        None => Claim::None,
    }
}

/// `Some(true)` when locked, `Some(false)` when another holds the lock.
#[cfg(unix)]
#[allow(unsafe_code)] // one call of flock(2), which std offers only from Rust 1.89
fn lock(file: &File) -> Option<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the call's duration; flock reads nothing else.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Some(true);
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::EWOULDBLOCK) => Some(false),
        _ => None,
    }
}

#[cfg(not(unix))]
fn lock(_file: &File) -> Option<bool> {
    None
}

/// Deletes the lock files no call holds; how many.
pub(crate) fn clear(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut cleared = 0;
    for path in entries.flatten().map(|entry| entry.path()) {
        let Ok(file) = File::options().write(true).open(&path) else { continue };
        if lock(&file) == Some(true) && std::fs::remove_file(&path).is_ok() {
            cleared += 1;
        }
    }
    cleared
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_busy_for_others_until_dropped() {
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        let Claim::Held(lease) = try_take(dir.path(), 7) else { panic!("the first call takes it") };
        // flock locks belong to the open file: another open is another holder.
        assert!(matches!(try_take(dir.path(), 7), Claim::Elsewhere));
        assert!(matches!(try_take(dir.path(), 8), Claim::Held(_)), "another key");
        assert_eq!(clear(dir.path()), 1, "only the free one");
        drop(lease);
        assert!(matches!(try_take(dir.path(), 7), Claim::Held(_)));
    }
}
