//! Deleting outcomes by what the cache policy knows of them: their
//! arguments (cachu's `invalidate`), their age past the function's ttl
//! (cachier's `cleanup_stale`), or the function's tags. Each goes through
//! [`delete_outcome`](Runtime::delete_outcome): files, rows, mock entries
//! and the index of every process.

use std::time::{Duration, Instant};

use crate::model::canonical::canonical_json;
use crate::model::error::Error;
use crate::model::ids;
use crate::model::report::warn_once;
use crate::model::time::now_millis;
use crate::runtime::{Runtime, registry};
use crate::store::{functions, outcomes};

impl Runtime {
    /// Deletes a function's outcomes for these arguments (as outcomes show
    /// them: `{"id": 3}`); how many.
    pub(crate) fn invalidate(&self, function_id: &str, args: &serde_json::Value) -> Result<usize, Error> {
        let arg_key = ids::arg_key(&canonical_json(args));
        self.catch_up();
        let doomed = self.store()?.read(|conn| outcomes::ids_for_args(conn, function_id, arg_key))?;
        self.delete_each(function_id, &doomed)
    }

    /// Deletes a function's outcomes last recorded longer ago than its ttl;
    /// how many (none without a ttl).
    pub(crate) fn cleanup_expired(&self, function_id: &str) -> Result<usize, Error> {
        self.catch_up();
        let store = self.store()?;
        let Some(ttl) = store.read(|conn| functions::policy(conn, function_id))?.ttl() else { return Ok(0) };
        let before_ms = now_millis().saturating_sub(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
        let doomed = store.read(|conn| outcomes::ids_recorded_before(conn, function_id, before_ms))?;
        self.delete_each(function_id, &doomed)
    }

    /// Deletes every outcome of the functions tagged `tag`; how many.
    pub(crate) fn clear_tag(&self, tag: &str) -> Result<usize, Error> {
        let tagged = self.store()?.read(|conn| functions::tagged(conn, tag))?;
        let mut deleted = 0;
        for function_id in tagged {
            deleted += usize::try_from(self.delete_outcomes(&function_id)?).unwrap_or(usize::MAX);
        }
        Ok(deleted)
    }

    fn delete_each(&self, function_id: &str, outcome_ids: &[String]) -> Result<usize, Error> {
        for outcome_id in outcome_ids {
            self.delete_outcome(function_id, outcome_id)?;
        }
        Ok(outcome_ids.len())
    }
}

/// The functions of this program with `cleanup = "..."`: the refresher
/// deletes their expired outcomes that often, once they are used.
pub(crate) struct Cleanups {
    /// Each function's id, how often, and when it was last cleaned up.
    due: Vec<(&'static str, Duration, Option<Instant>)>,
}

impl Cleanups {
    pub(crate) fn of_this_program() -> Cleanups {
        let due = registry::registered()
            .into_iter()
            .filter_map(|function| function.meta().policy.cleanup.map(|every| (function.id(), every, None)))
            .collect();
        Cleanups { due }
    }

    /// Cleans up the functions loaded in `runtime` whose time has come.
    pub(crate) fn run(&mut self, runtime: &Runtime) {
        for (function_id, every, last) in &mut self.due {
            if last.is_some_and(|last| last.elapsed() < *every) || runtime.loaded(function_id).is_none() {
                continue;
            }
            *last = Some(Instant::now());
            if let Err(error) = runtime.cleanup_expired(function_id) {
                warn_once(
                    format!("cleanup:{function_id}"),
                    format_args!("cacheow could not delete the expired outcomes of {function_id}: {error}"),
                );
            }
        }
    }
}
