//! What the `cacheow` command line does to a data dir, with answers it can
//! print as text or JSON. Not a public API: the binary is its one user.
// The fields are the command's output, named as printed.
#![allow(missing_docs)]

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::db::{Db, FunctionRow, OutcomeRow};
use crate::{Error, MockOutcome, Mode, Rebuilt, Settings};

/// A data dir, opened for the command line.
pub struct DataDir {
    db: &'static Db,
}

/// Opens the data dir `path`, creating its database if need be.
pub fn open(path: &Path) -> Result<DataDir, Error> {
    let mut settings = Settings::from_env();
    settings.data_dir = path.to_path_buf();
    settings.start_server = false;
    let manager = crate::manager::start_with(settings)?;
    Ok(DataDir { db: manager.db() })
}

/// A function, as `cacheow list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionSummary {
    pub id: String,
    pub name: String,
    pub path: String,
    pub kind: String,
    pub mode: String,
    pub latency_ms: f64,
    pub stale: bool,
    pub outcomes: u64,
    pub max_outcomes: Option<i64>,
    pub total_calls: i64,
    pub cache_hits: i64,
    pub cache_misses: i64,
    pub mock_calls: i64,
    pub errors: i64,
}

/// A function and its outcomes, as `cacheow show` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionDetail {
    #[serde(flatten)]
    pub function: FunctionSummary,
    pub signature: String,
    pub source: String,
    /// The newest outcomes, up to the limit asked for.
    pub recent_outcomes: Vec<OutcomeSummary>,
    pub mock_outcomes: Vec<MockOutcome>,
    pub corrupt_files: Vec<CorruptSummary>,
}

/// An outcome, with its previews.
#[derive(Debug, Clone, Serialize)]
pub struct OutcomeSummary {
    pub id: String,
    pub kind: String,
    pub args: String,
    pub value: String,
    pub count: i64,
    pub recorded_at: String,
    pub manual: bool,
    pub mock_only: bool,
    /// The items of a sequence its caller dropped before the end.
    pub partial: bool,
}

/// A file a rebuild left out.
#[derive(Debug, Clone, Serialize)]
pub struct CorruptSummary {
    pub path: String,
    pub error: String,
}

/// What a rebuild did to one function.
#[derive(Debug, Clone, Serialize)]
pub struct RebuildSummary {
    pub id: String,
    pub path: String,
    pub indexed: usize,
    pub corrupt: Vec<CorruptSummary>,
}

impl DataDir {
    /// Every registered function.
    pub fn functions(&self) -> Result<Vec<FunctionSummary>, Error> {
        self.db.flush_writer(false);
        self.db.functions()?.iter().map(|row| self.summary(row)).collect()
    }

    fn summary(&self, row: &FunctionRow) -> Result<FunctionSummary, Error> {
        let (outcomes, _) = self.db.outcomes_page(&row.id, 0, 0)?;
        let stats = &row.stats;
        Ok(FunctionSummary {
            id: row.id.clone(),
            name: row.name.clone(),
            path: row.qualified_name.clone(),
            kind: row.kind.clone(),
            mode: row.mode.clone(),
            latency_ms: row.latency_ms,
            stale: row.stale,
            outcomes,
            max_outcomes: row.max_outcomes,
            total_calls: stats.total_calls,
            cache_hits: stats.cache_hits,
            cache_misses: stats.cache_misses,
            mock_calls: stats.mock_calls,
            errors: stats.errors,
        })
    }

    /// A function and its newest `limit` outcomes.
    pub fn detail(&self, function_id: &str, limit: u64) -> Result<FunctionDetail, Error> {
        let row = self.row(function_id)?;
        let (_, outcomes) = self.db.outcomes_page(function_id, 0, limit)?;
        Ok(FunctionDetail {
            function: self.summary(&row)?,
            signature: row.signature,
            source: row.source,
            recent_outcomes: outcomes.iter().map(outcome_summary).collect(),
            mock_outcomes: self.db.mock_outcomes(function_id)?,
            corrupt_files: self.db.corrupt_files(function_id)?.into_iter().map(corrupt_summary).collect(),
        })
    }

    fn row(&self, function_id: &str) -> Result<FunctionRow, Error> {
        self.db.function(function_id)?.ok_or_else(|| Error::UnknownFunction { id: function_id.to_owned() })
    }

    /// Whether `query` is the id of a function with outcome files, which a
    /// rebuild can register though no program did.
    pub fn has_files_of(&self, query: &str) -> bool {
        crate::ids::is_id(query) && crate::files::function_dir(self.db.data_dir(), query).is_dir()
    }

    /// Sets a function's mode.
    pub fn set_mode(&self, function_id: &str, mode: Mode) -> Result<(), Error> {
        self.db.set_mode(function_id, mode)
    }

    /// Rebuilds the index of one function, or of every function the data
    /// dir has files or rows for.
    pub fn rebuild(&self, function_id: Option<&str>) -> Result<Vec<RebuildSummary>, Error> {
        let rebuilt: Vec<(String, Rebuilt)> = match function_id {
            Some(id) => vec![(id.to_owned(), self.db.rebuild_index(id)?)],
            None => self.db.rebuild_all()?,
        };
        rebuilt
            .into_iter()
            .map(|(id, rebuilt)| {
                let path = self.row(&id)?.qualified_name;
                let corrupt = rebuilt
                    .corrupt
                    .into_iter()
                    .map(|file| {
                        let path = file.path.strip_prefix(self.db.data_dir()).unwrap_or(&file.path);
                        CorruptSummary { path: path.display().to_string(), error: file.error }
                    })
                    .collect();
                Ok(RebuildSummary { id, path, indexed: rebuilt.indexed, corrupt })
            })
            .collect()
    }

    /// Deletes what the data dir holds of stale functions; their paths.
    pub fn prune_stale(&self) -> Result<Vec<String>, Error> {
        self.db.prune_stale()
    }

    /// Writes a function's outcomes into `dir` as fixtures; their paths.
    pub fn export(&self, function_id: &str, dir: &Path) -> Result<Vec<PathBuf>, Error> {
        self.db.export(function_id, dir)
    }

    /// Copies the fixtures below `dir` into the data dir: per function, its
    /// id and how many outcomes.
    pub fn import(&self, dir: &Path) -> Result<Vec<(String, usize)>, Error> {
        Ok(self.db.import(dir)?.into_iter().map(|done| (done.function_id, done.outcomes)).collect())
    }
}

fn outcome_summary(row: &OutcomeRow) -> OutcomeSummary {
    OutcomeSummary {
        id: row.id.clone(),
        kind: row.kind.clone(),
        args: if row.answers_any_args() { "(any)".to_owned() } else { row.args.clone() },
        value: row.value_preview.clone(),
        count: row.count,
        recorded_at: humantime::format_rfc3339_seconds(crate::outcome::from_millis(row.recorded_at_ms)).to_string(),
        manual: row.manual,
        mock_only: row.mock_only,
        partial: row.partial,
    }
}

fn corrupt_summary((path, error): (String, String)) -> CorruptSummary {
    CorruptSummary { path, error }
}
