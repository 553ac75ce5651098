//! The handle's cache-policy methods: outcomes by their arguments, expiry,
//! calls in flight and tags (cachu's `invalidate`, cachier's
//! `clear_being_calculated` and `cleanup_stale`). Off means off here too:
//! with cacheow off, they do nothing and return `Ok(0)`.

use std::path::PathBuf;

use crate::manager::current_runtime;
use crate::model::error::Error;
use crate::runtime::function::Function;
use crate::runtime::lease;

impl Function {
    /// The folder of the function's outcome files in the data dir; `None`
    /// when cacheow is off.
    pub fn dir(&self) -> Option<PathBuf> {
        current_runtime().map(|runtime| runtime.outcomes_dir(self.id()))
    }

    /// Deletes the outcomes recorded for these arguments, files included,
    /// and says how many. The arguments are given as outcomes show them:
    ///
    /// ```no_run
    /// # use cacheow::cacheow;
    /// #[cacheow]
    /// fn fetch_user(id: u32) -> String { format!("user {id}") }
    ///
    /// # fn main() -> Result<(), cacheow::Error> {
    /// let removed = cacheow::handle!(fetch_user).invalidate(serde_json::json!({"id": 3}))?;
    /// # let _ = removed;
    /// # Ok(()) }
    /// ```
    pub fn invalidate(&self, args: serde_json::Value) -> Result<usize, Error> {
        self.loaded(0, |runtime| runtime.invalidate(self.id(), &args))
    }

    /// Deletes the outcomes older than the function's `ttl` (counted from
    /// when each was last recorded), and says how many; none for a function
    /// without one.
    pub fn cleanup_expired(&self) -> Result<usize, Error> {
        self.loaded(0, |runtime| runtime.cleanup_expired(self.id()))
    }

    /// Forgets the calls marked in flight in this process, so that calls
    /// waiting for them call the function themselves (cachier's
    /// `clear_being_calculated`), and deletes the lock files of
    /// `dedupe = "processes"` that no running call holds (a crash releases
    /// its lock, but leaves its file); how many marks and files.
    pub fn clear_in_flight(&self) -> Result<usize, Error> {
        let Some((_, state)) = self.state() else { return Ok(0) };
        let files = state.outcomes_dir().map_or(0, |dir| lease::clear(&lease::dir_of(dir)));
        Ok(state.in_flight().clear() + files)
    }
}

/// Deletes the outcomes of every function tagged `tag`
/// (`#[cacheow(tags("users"))]`) in the data dir, whichever program
/// registered it, and says how many.
///
/// ```no_run
/// # fn main() -> Result<(), cacheow::Error> {
/// let deleted = cacheow::clear_tag("users")?;
/// # let _ = deleted;
/// # Ok(()) }
/// ```
pub fn clear_tag(tag: &str) -> Result<usize, Error> {
    current_runtime().map_or(Ok(0), |runtime| runtime.clear_tag(tag))
}
