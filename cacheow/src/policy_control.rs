//! The handle's cache-policy methods: outcomes by their arguments, expiry,
//! calls in flight and tags (cachu's `invalidate`, cachier's
//! `clear_being_calculated` and `cleanup_stale`). Off means off here too:
//! with cacheow off, they do nothing and return `Ok(0)`.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::manager::current_runtime;
use crate::model::canonical::canonical_json;
use crate::model::error::Error;
use crate::model::ids;
use crate::model::outcome::OutcomeInfo;
use crate::runtime::function::Function;
use crate::runtime::registry;

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
        let arg_key = ids::arg_key_hex(ids::arg_key(&canonical_json(&args)));
        self.delete_where(|outcome| outcome.arg_key == arg_key)
    }

    /// Deletes the outcomes older than the function's `ttl` (counted from
    /// when each was last recorded), and says how many; none for a function
    /// without one.
    pub fn cleanup_expired(&self) -> Result<usize, Error> {
        let Some(ttl) = self.meta().policy.ttl else { return Ok(0) };
        let now = SystemTime::now();
        self.delete_where(|outcome| now.duration_since(outcome.last_recorded_at).unwrap_or(Duration::ZERO) > ttl)
    }

    /// Forgets the calls marked in flight, so that calls waiting for them
    /// call the function themselves (cachier's `clear_being_calculated`),
    /// and says how many there were.
    pub fn clear_in_flight(&self) -> Result<usize, Error> {
        Ok(current_runtime().map_or(0, |runtime| runtime.state(self).in_flight().clear()))
    }

    fn delete_where(&self, doomed: impl Fn(&OutcomeInfo) -> bool) -> Result<usize, Error> {
        let mut deleted = 0;
        for outcome in self.outcomes()?.iter().filter(|outcome| doomed(outcome)) {
            self.delete_outcome(&outcome.id)?;
            deleted += 1;
        }
        Ok(deleted)
    }
}

/// Deletes the outcomes of every function of this program tagged `tag`
/// (`#[cacheow(tags("users"))]`), and says how many.
///
/// ```no_run
/// # fn main() -> Result<(), cacheow::Error> {
/// let deleted = cacheow::clear_tag("users")?;
/// # let _ = deleted;
/// # Ok(()) }
/// ```
pub fn clear_tag(tag: &str) -> Result<usize, Error> {
    let mut deleted = 0;
    for function in registry::registered().into_iter().filter(|function| function.meta().policy.tags.contains(&tag)) {
        deleted += function.delete_all()?;
    }
    Ok(usize::try_from(deleted).unwrap_or(usize::MAX))
}
