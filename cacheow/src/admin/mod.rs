//! What the `cacheow` command line does to a data dir, for scripts and
//! tools that do the same from Rust: list and show functions, set modes,
//! rebuild indexes, prune stale functions, and move outcomes to and from
//! fixture folders. Every answer serializes as the command's `--json`
//! output.
//!
//! ```no_run
//! # fn main() -> Result<(), cacheow::Error> {
//! let data = cacheow::admin::DataDir::open(".cacheow")?;
//! for function in data.functions()? {
//!     println!("{} is in {} mode, {} outcomes", function.path, function.mode, function.outcomes);
//! }
//! # Ok(()) }
//! ```

mod fixture_redact;
#[cfg(feature = "redis")]
mod shared;
mod transfer;

use std::path::Path;

use serde::Serialize;

use crate::manager::Manager;
use crate::model::error::Error;
use crate::model::event::Stats;
use crate::model::mock::MockOutcome;
use crate::model::mode::Mode;
use crate::model::outcome::{OutcomeKind, preview};
use crate::model::settings::Settings;
use crate::model::{ids, time};
use crate::runtime::Runtime;
use crate::store::files::{self, CorruptFile};
use crate::store::functions::FunctionRow;
use crate::store::outcomes::OutcomeRow;

pub use fixture_redact::{RedactedFixture, redact_fixtures};
#[cfg(feature = "redis")]
pub use shared::{Moved, SharedFunction, SharedStatus};
pub use transfer::Imported;

pub use crate::model::json_diff;

/// A data dir, opened apart from the process-wide runtime: what this
/// process records into the same data dir is seen here once flushed
/// ([`Manager::flush`]).
pub struct DataDir {
    manager: Manager,
}

/// A function, as `cacheow list` shows it.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct FunctionSummary {
    /// Its id.
    pub id: String,
    /// Its name, the end of its path.
    pub name: String,
    /// Its path: `app::client::Client::fetch`.
    pub path: String,
    /// `sync`, `async`, `iterator`, `stream`, or `unregistered` for a
    /// function known from its outcome files alone.
    pub kind: String,
    /// Its mode.
    pub mode: Mode,
    /// The artificial latency of its replays, in milliseconds.
    pub latency_ms: f64,
    /// The program that registered it no longer has it.
    pub stale: bool,
    /// How many outcomes it has.
    pub outcomes: u64,
    /// Its cap on stored outcomes, if it has one.
    pub max_outcomes: Option<u64>,
    /// Its `ttl`, in milliseconds, if it has one.
    pub ttl_ms: Option<u64>,
    /// Its `tags`.
    pub tags: Vec<String>,
    /// Its call counts, over every process.
    #[serde(flatten)]
    pub stats: Stats,
}

/// A function and its outcomes, as `cacheow show` shows it.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct FunctionDetail {
    /// What `cacheow list` shows of it.
    #[serde(flatten)]
    pub function: FunctionSummary,
    /// `fn fetch(&self, id: u32) -> User`.
    pub signature: String,
    /// Where it is defined: `src/client.rs:12`.
    pub source: String,
    /// The newest outcomes, up to the limit asked for.
    pub recent_outcomes: Vec<OutcomeSummary>,
    /// Its mock weights.
    pub mock_outcomes: Vec<MockOutcome>,
    /// The files the last rebuild left out, within the data dir.
    pub corrupt_files: Vec<CorruptFile>,
}

/// An outcome, with its previews.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct OutcomeSummary {
    /// Its id.
    pub id: String,
    /// A value, an error, items or a panic.
    pub kind: OutcomeKind,
    /// The arguments it answers, as canonical JSON; `(any)` for a manual
    /// outcome that answers any.
    pub args: String,
    /// Its value, cut at 200 characters.
    pub value: String,
    /// How many calls gave it.
    pub count: u64,
    /// When it was first recorded: `2026-11-21T10:04:05Z`.
    pub recorded_at: String,
    /// When the same outcome was last recorded: a ttl counts from here.
    pub last_recorded_at: String,
    /// Added by hand.
    pub manual: bool,
    /// Replayed in mock mode only.
    pub mock_only: bool,
    /// The items of a sequence its caller dropped before the end.
    pub partial: bool,
    /// Recorded by another body of the function than the one its program
    /// registered last (drift).
    pub body_changed: bool,
}

/// What a rebuild did to one function.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RebuildSummary {
    /// The function's id.
    pub id: String,
    /// Its path.
    pub path: String,
    /// How many outcomes its index now holds.
    pub indexed: usize,
    /// The files left out, within the data dir, and why.
    pub corrupt: Vec<CorruptFile>,
}

impl DataDir {
    /// Opens the data dir at `path`, creating its database if need be.
    pub fn open(path: impl AsRef<Path>) -> Result<DataDir, Error> {
        // A database cacheow did not make is refused here, with why.
        crate::store::schema::check_made_here(path.as_ref())?;
        let mut settings = Settings::from_env();
        settings.data_dir = path.as_ref().to_path_buf();
        settings.start_server = false;
        Ok(DataDir { manager: Manager::open(settings) })
    }

    fn runtime(&self) -> &Runtime {
        self.manager.runtime()
    }

    /// Every registered function, by path.
    pub fn functions(&self) -> Result<Vec<FunctionSummary>, Error> {
        Ok(self.runtime().functions()?.iter().map(summary).collect())
    }

    /// A function and its newest `limit` outcomes.
    pub fn detail(&self, function_id: &str, limit: u64) -> Result<FunctionDetail, Error> {
        let recordings = self
            .runtime()
            .recordings(function_id, 0, limit)?
            .ok_or_else(|| Error::UnknownFunction { id: function_id.to_owned() })?;
        Ok(FunctionDetail {
            function: summary(&recordings.function),
            signature: recordings.function.signature,
            source: recordings.function.source,
            recent_outcomes: recordings.outcomes.iter().map(outcome_summary).collect(),
            mock_outcomes: recordings.mock_outcomes,
            corrupt_files: recordings.corrupt,
        })
    }

    /// Whether `query` is the id of a function with outcome files, which a
    /// rebuild can register though no program did.
    pub fn has_files_of(&self, query: &str) -> bool {
        ids::is_id(query) && files::function_dir(self.runtime().data_dir(), query).is_dir()
    }

    /// Sets a function's mode.
    pub fn set_mode(&self, function_id: &str, mode: Mode) -> Result<(), Error> {
        self.runtime().set_mode(function_id, mode)
    }

    /// Rebuilds the index of one function, or of every function the data
    /// dir has files or rows for.
    pub fn rebuild(&self, function_id: Option<&str>) -> Result<Vec<RebuildSummary>, Error> {
        let runtime = self.runtime();
        let rebuilt = match function_id {
            Some(id) => vec![(id.to_owned(), runtime.rebuild_index(id)?)],
            None => runtime.rebuild_all()?,
        };
        rebuilt
            .into_iter()
            .map(|(id, rebuilt)| {
                let path = runtime.function(&id)?.map(|row| row.qualified_name).unwrap_or_else(|| id.clone());
                let corrupt = rebuilt.corrupt.iter().map(|file| file.within(runtime.data_dir())).collect();
                Ok(RebuildSummary { id, path, indexed: rebuilt.indexed, corrupt })
            })
            .collect()
    }

    /// Deletes what the data dir holds of stale functions; their paths.
    pub fn prune_stale(&self) -> Result<Vec<String>, Error> {
        self.runtime().prune_stale()
    }

    /// Deletes every outcome of a function; how many.
    pub fn clear(&self, function_id: &str) -> Result<u64, Error> {
        self.runtime().delete_outcomes(function_id)
    }

    /// Deletes every outcome of the functions tagged `tag`; how many.
    pub fn clear_tag(&self, tag: &str) -> Result<usize, Error> {
        self.runtime().clear_tag(tag)
    }

    /// Deletes one outcome: its file, its row and its mock entry.
    pub fn delete_outcome(&self, function_id: &str, outcome_id: &str) -> Result<(), Error> {
        self.runtime().delete_outcome(function_id, outcome_id)
    }

    /// Deletes a function's outcomes for these arguments (as its outcomes
    /// show them); how many.
    pub fn invalidate(&self, function_id: &str, args: &serde_json::Value) -> Result<usize, Error> {
        self.runtime().invalidate(function_id, args)
    }

    /// Deletes the outcomes past their function's ttl, of one function or
    /// of every function; how many, by function id.
    pub fn cleanup_expired(&self, function_id: Option<&str>) -> Result<Vec<(String, usize)>, Error> {
        let runtime = self.runtime();
        let function_ids = match function_id {
            Some(id) => vec![id.to_owned()],
            None => runtime.functions()?.into_iter().map(|row| row.id).collect(),
        };
        function_ids.into_iter().map(|id| runtime.cleanup_expired(&id).map(|deleted| (id, deleted))).collect()
    }
}

/// What cacheow-test keeps in a fixture folder besides outcome files: the
/// body hashes (drift), and the pending changes of a review run.
pub mod fixture_files {
    pub use crate::store::fixture_folder::*;
}

/// The function id in the name of a fixture folder of cacheow-test,
/// `fetch_user-0123456789abcdef`.
pub fn fixture_function_id(folder_name: &str) -> Option<&str> {
    crate::store::fixture::function_id_of_dir(folder_name)
}

fn summary(row: &FunctionRow) -> FunctionSummary {
    FunctionSummary {
        id: row.id.clone(),
        name: row.name.clone(),
        path: row.qualified_name.clone(),
        kind: row.kind.as_str().to_owned(),
        mode: row.mode,
        latency_ms: row.latency_ms(),
        stale: row.stale,
        outcomes: row.outcomes,
        max_outcomes: row.max_outcomes,
        ttl_ms: row.policy.ttl_ms,
        tags: row.policy.tags.clone(),
        stats: row.totals.counts,
    }
}

fn outcome_summary(row: &OutcomeRow) -> OutcomeSummary {
    OutcomeSummary {
        id: row.id.clone(),
        kind: row.kind,
        args: if row.answers_any_args() { "(any)".to_owned() } else { row.args.clone() },
        value: preview(&row.value_preview, 200),
        count: row.count,
        recorded_at: time::rfc3339_seconds(row.recorded_at_ms),
        last_recorded_at: time::rfc3339_seconds(row.last_recorded_ms.max(row.recorded_at_ms)),
        manual: row.manual,
        mock_only: row.mock_only,
        partial: row.partial,
        body_changed: row.body_changed,
    }
}
