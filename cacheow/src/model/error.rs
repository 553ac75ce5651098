//! The error type of every fallible cacheow operation.

use std::path::PathBuf;
use std::time::Duration;

/// What went wrong in a cacheow operation, and how to fix it.
///
/// Errors only come from the control API (`set_mode`, `outcomes`, ...). A
/// decorated function never returns one: a failure inside cacheow during a
/// call logs a `tracing` warning and the function returns its real result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// cacheow is not enabled in this process. The handles' methods no
    /// longer return it: with cacheow off they do nothing and return `Ok`.
    #[error(
        "cacheow is disabled: set CACHEOW_ENABLE=1 (and keep the `instrument` feature of cacheow, on by default) \
         to record, cache and mock"
    )]
    Disabled,

    /// The text is not a function id.
    #[error("`{id}` is not a function id: ids are 16 lowercase hex characters, as `handle!(f).id()` gives")]
    InvalidId {
        /// The text given as an id.
        id: String,
    },

    /// No decorated function with this id was ever registered in the data dir.
    #[error(
        "no #[cacheow] function has the id `{id}`: run the program that defines it once with CACHEOW_ENABLE=1 \
         so that it is registered, or take the id from `handle!(f).id()`"
    )]
    UnknownFunction {
        /// The id that was looked up.
        id: String,
    },

    /// No outcome with this id is recorded for the function.
    #[error("function `{function_id}` has no outcome `{outcome_id}`")]
    UnknownOutcome {
        /// The function's id.
        function_id: String,
        /// The outcome id that was looked up.
        outcome_id: String,
    },

    /// An outcome given by hand (a manual outcome, an edited outcome file)
    /// that cacheow cannot read.
    #[error("this is not a valid outcome: {reason}")]
    InvalidOutcome {
        /// What is wrong with it.
        reason: String,
    },

    /// `get::<R>` or `set` with an `R` that is not the function's return type.
    #[error("`{function}` returns `{returns}`, not `{asked}`: ask for `{returns}`")]
    WrongType {
        /// The function's path.
        function: String,
        /// Its return type, as its calls in this process showed it.
        returns: &'static str,
        /// The type asked for.
        asked: &'static str,
    },

    /// The text is not a mode.
    #[error("unknown mode `{0}`: expected `default`, `cache` or `mock`")]
    InvalidMode(String),

    /// A mock weight that is not a positive number.
    #[error(
        "a mock weight of {weight} is not valid: weights are positive numbers; disable an outcome with `enabled: false`"
    )]
    InvalidWeight {
        /// The weight that was given.
        weight: f64,
    },

    /// A cap of no outcomes at all.
    #[error("a cap of 0 outcomes would keep nothing: give at least 1, or no cap (`None`)")]
    InvalidRetention,

    /// An artificial latency longer than cacheow accepts.
    #[error("a latency of {latency:?} is too long: the most cacheow accepts is {max:?}", max = crate::model::latency::MAX_LATENCY)]
    InvalidLatency {
        /// The latency that was asked for.
        latency: Duration,
    },

    /// The data dir could not be used, so nothing can be read or persisted.
    #[error(
        "cacheow's data dir {path} is unavailable ({reason}); calls still work but nothing is persisted. \
         Point CACHEOW_DATA_DIR at a writable directory"
    )]
    StorageUnavailable {
        /// The data dir.
        path: PathBuf,
        /// Why it could not be used.
        reason: String,
    },

    /// The data dir holds a database that cacheow did not make, or that a
    /// newer cacheow made: it is left as it is.
    #[error(
        "{path} holds {reason}; cacheow leaves it as it is. Point CACHEOW_DATA_DIR (or --data-dir) at another \
         directory"
    )]
    IncompatibleDataDir {
        /// The data dir.
        path: PathBuf,
        /// What it holds.
        reason: String,
    },

    /// A file of the data dir could not be read or written.
    #[error("cacheow could not {action} {path}: {source}")]
    Io {
        /// What cacheow was doing.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// The control panel could not start.
    #[error("cacheow's control panel cannot serve {address}: {reason}")]
    PanelUnavailable {
        /// The host and port it was to listen on.
        address: String,
        /// Why it cannot, and what to do.
        reason: String,
    },

    /// Not everything recorded reached the disk.
    #[error("cacheow could not make everything it recorded durable: {reason}")]
    NotFlushed {
        /// What did not reach the disk, and why.
        reason: String,
    },

    /// The shared tier (Redis) could not do what was asked.
    #[error("cacheow's shared tier at {url} failed: {reason}")]
    SharedUnavailable {
        /// Its URL, without the password.
        url: String,
        /// What went wrong, and what to do.
        reason: String,
    },

    /// An upload of a function whose outcomes are kept local.
    #[error("`{function}` is `#[cacheow(shared = false)]`: its outcomes stay in the data dir")]
    NotShared {
        /// The function's path.
        function: String,
    },

    /// A shared-tier command, without `CACHEOW_REDIS_URL`.
    #[error(
        "cacheow has no shared tier: CACHEOW_REDIS_URL is not set. Set it to the team's Redis: redis://host:6379/0"
    )]
    NoSharedTier,

    /// The SQLite database of the data dir failed.
    #[error("cacheow's database failed: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    /// Whether the database failed for want of room on its disk.
    pub(crate) fn is_disk_full(&self) -> bool {
        let Error::Database(error) = self else { return false };
        error
            .downcast_ref::<rusqlite::Error>()
            .and_then(rusqlite::Error::sqlite_error_code)
            .is_some_and(|code| code == rusqlite::ErrorCode::DiskFull)
    }
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        Error::Database(Box::new(error))
    }
}
