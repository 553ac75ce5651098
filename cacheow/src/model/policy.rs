//! A function's cache policy, as `#[cacheow(...)]` gives it: how long its
//! outcomes stay fresh, which ones are recorded, its tags and how calls in
//! flight are shared. The options that take a function of the return type
//! are [`Rules`]; the others are known without it, in [`Policy`].

use std::time::{Duration, SystemTime};

/// What `#[cacheow(...)]` says of a function's cache policy, besides the
/// functions of its return type.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// `ttl = "10m"`: an outcome recorded longer ago is no cache hit.
    pub ttl: Option<Duration>,
    /// `serve_stale`: an expired outcome is returned at once and refreshed
    /// in the background.
    pub serve_stale: bool,
    /// `cache_errors = false`: errors and panics are returned, not recorded.
    pub cache_errors: bool,
    /// `tags("users", ...)`.
    pub tags: &'static [&'static str],
    /// `dedupe = ...`: who shares a call in flight.
    pub dedupe: Dedupe,
    /// `wait = "30s"`: the longest a deduplicated call waits.
    pub wait: Duration,
    /// `cleanup = "30m"`: how often expired outcomes are deleted.
    pub cleanup: Option<Duration>,
    /// `redact("api_key")`: argument and value fields written as `[redacted]`.
    pub redact: &'static [&'static str],
    /// `shared = false`: its outcomes stay off the shared tier (Redis).
    pub shared: bool,
    /// `on_change = ...`: what cache mode does with an outcome another body
    /// of the function recorded.
    pub on_change: OnChange,
}

/// What cache mode does with an outcome recorded by another body of the
/// function (drift): `#[cacheow(on_change = "warn" | "rerecord" | "ignore")]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnChange {
    /// Replay it, and warn once per function.
    Warn,
    /// Treat it as a miss: call the function, and record what the body of
    /// now gives.
    Rerecord,
    /// Replay it, saying nothing.
    Ignore,
}

impl Policy {
    /// No expiry, every outcome recorded, calls in flight shared in the process.
    pub const DEFAULT: Policy = Policy {
        ttl: None,
        serve_stale: false,
        cache_errors: true,
        tags: &[],
        dedupe: Dedupe::Process,
        wait: Duration::from_secs(30),
        cleanup: None,
        redact: &[],
        shared: true,
        on_change: OnChange::Warn,
    };
}

/// A function's policy as the data dir keeps it, in the `functions` table:
/// for the panel and the command line, which do not have the function.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub(crate) struct StoredPolicy {
    pub(crate) ttl_ms: Option<u64>,
    pub(crate) serve_stale: bool,
    pub(crate) cache_errors: bool,
    pub(crate) tags: Vec<String>,
    /// `false`, `process` or `processes`.
    pub(crate) dedupe: String,
    pub(crate) wait_ms: u64,
    /// Whether its outcomes go to the shared tier (`shared = false` keeps them off).
    pub(crate) shared: Option<bool>,
}

impl From<&Policy> for StoredPolicy {
    fn from(policy: &Policy) -> StoredPolicy {
        let millis = |duration: Duration| u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        StoredPolicy {
            ttl_ms: policy.ttl.map(millis),
            serve_stale: policy.serve_stale,
            cache_errors: policy.cache_errors,
            tags: policy.tags.iter().map(|tag| (*tag).to_owned()).collect(),
            dedupe: match policy.dedupe {
                Dedupe::Off => "false",
                Dedupe::Process => "process",
                Dedupe::Processes => "processes",
            }
            .to_owned(),
            wait_ms: millis(policy.wait),
            shared: Some(policy.shared),
        }
    }
}

impl StoredPolicy {
    pub(crate) fn ttl(&self) -> Option<Duration> {
        self.ttl_ms.map(Duration::from_millis)
    }
}

/// Who waits for a call in flight with the same key, in cache mode.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dedupe {
    /// `dedupe = false`: every call runs.
    Off,
    /// The default: threads and tasks of one process.
    Process,
    /// `dedupe = "processes"`: every process sharing the data dir.
    Processes,
}

/// The options of `#[cacheow(...)]` that are functions of the return type `R`.
#[doc(hidden)]
pub struct Rules<R> {
    /// `ttl_from = f`: the time an outcome stays fresh, from its value.
    pub ttl_from: Option<fn(&R) -> Duration>,
    /// `cache_if = f`: `false` returns the value without recording it.
    pub cache_if: Option<fn(&R) -> bool>,
    /// `validate = f`: `false` makes a recorded outcome a miss.
    pub validate: Option<fn(&Entry<'_, R>) -> bool>,
}

impl<R> Rules<R> {
    /// No rule.
    pub const NONE: Rules<R> = Rules { ttl_from: None, cache_if: None, validate: None };

    /// Whether a replay of `value`, recorded at `recorded_at` and `age`
    /// old, may be a hit, within `max_age` (the ttl, or a per-call limit).
    pub(crate) fn fresh(&self, value: &R, age: Duration, max_age: Option<Duration>) -> bool {
        let ttl = self.ttl_from.map(|ttl_of| ttl_of(value));
        let limit = match (ttl, max_age) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        limit.is_none_or(|limit| age <= limit)
    }

    /// Whether a replay's value must be judged: `ttl_from` or `validate`.
    pub(crate) fn judges_values(&self) -> bool {
        self.ttl_from.is_some() || self.validate.is_some()
    }

    /// Whether `validate` accepts the outcome.
    pub(crate) fn valid(&self, value: &R, recorded_at: SystemTime, age: Duration) -> bool {
        self.validate.is_none_or(|validate| validate(&Entry { value, recorded_at, age }))
    }

    /// Whether `cache_if` lets the value be recorded.
    pub(crate) fn keeps(&self, value: &R) -> bool {
        self.cache_if.is_none_or(|keep| keep(value))
    }
}

/// How old a cache-mode replay is, for the rules that judge it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Age {
    pub(crate) recorded_at: SystemTime,
    pub(crate) age: Duration,
    pub(crate) max_age: Option<Duration>,
}

/// What the rules make of a cache-mode replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Fresh,
    /// Older than its ttl.
    Expired,
    /// Refused by `validate`: a miss, never served stale.
    Invalid,
}

impl<R> Rules<R> {
    pub(crate) fn judge(&self, value: &R, age: &Age) -> Verdict {
        if !self.valid(value, age.recorded_at, age.age) {
            Verdict::Invalid
        } else if self.fresh(value, age.age, age.max_age) {
            Verdict::Fresh
        } else {
            Verdict::Expired
        }
    }
}

impl<R> Clone for Rules<R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for Rules<R> {}

/// A recorded outcome about to replay, as a `validate` function sees it.
///
/// ```
/// use std::time::Duration;
///
/// // A price older than an hour is fetched again, whatever the ttl says.
/// fn still_good(entry: &cacheow::Entry<'_, f64>) -> bool {
///     entry.age < Duration::from_secs(3600) && *entry.value > 0.0
/// }
/// # let _ = still_good;
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct Entry<'a, R> {
    /// The value it replays.
    pub value: &'a R,
    /// When it was last recorded.
    pub recorded_at: SystemTime,
    /// How long ago that was.
    pub age: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shorter_of_ttl_and_max_age_decides() {
        let rules = Rules::<u64> { ttl_from: Some(|n| Duration::from_secs(*n)), ..Rules::NONE };
        let age = Duration::from_secs(5);
        assert!(rules.fresh(&10, age, None));
        assert!(!rules.fresh(&4, age, None));
        assert!(!rules.fresh(&10, age, Some(Duration::from_secs(2))));
        assert!(Rules::<u64>::NONE.fresh(&0, Duration::MAX, None));
    }
}
