//! Outcomes moved between a data dir and a fixture folder of cacheow-test:
//! exported as fixtures (`<function>-<id>/<outcome>.json`, any call), and
//! imported from a folder of them, wherever they lie in it.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::DataDir;
use crate::model::error::Error;
use crate::model::ids;
use crate::model::time::now_millis;
use crate::runtime::load::read_outcome_files;
use crate::store::files::{self, Style};
use crate::store::fixture::{function_dir_name, function_id_of_dir};
use crate::store::functions;

/// What an import brought in of one function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Imported {
    /// The function's id.
    pub function_id: String,
    /// How many outcome files were copied in.
    pub outcomes: usize,
}

impl DataDir {
    /// Writes a function's outcomes into `dir` as fixtures of cacheow-test
    /// (for any call with their arguments); their paths.
    pub fn export(&self, function_id: &str, dir: &Path) -> Result<Vec<PathBuf>, Error> {
        let runtime = self.runtime();
        let function =
            runtime.function(function_id)?.ok_or_else(|| Error::UnknownFunction { id: function_id.to_owned() })?;
        let loaded = read_outcome_files(runtime.data_dir(), function_id)?;
        let target = dir.join(function_dir_name(&function.qualified_name, function_id));
        std::fs::create_dir_all(&target).map_err(|source| Error::Io {
            action: "create",
            path: target.clone(),
            source,
        })?;
        let mut written = Vec::new();
        for outcome in loaded.outcomes {
            // No call positions: any call with these arguments. The flags
            // (manual, mock-only, partial) go along.
            let style = Style::Fixture { calls: &[], nested: false };
            let text = files::render(&function.qualified_name, function_id, &outcome, style)
                .map_err(|reason| Error::InvalidOutcome { reason })?;
            let path = target.join(format!("{}.json", outcome.id_hex()));
            files::write_atomic(&path, text.as_bytes()).map_err(|source| Error::Io {
                action: "write",
                path: path.clone(),
                source,
            })?;
            written.push(path);
        }
        Ok(written)
    }

    /// Copies the outcomes of every fixture folder below `dir` into the
    /// data dir, registers their functions if need be, and indexes them.
    pub fn import(&self, dir: &Path) -> Result<Vec<Imported>, Error> {
        let mut folders = Vec::new();
        fixture_folders(dir, &mut folders).map_err(|source| Error::Io {
            action: "read",
            path: dir.to_path_buf(),
            source,
        })?;
        if folders.is_empty() {
            return Err(Error::InvalidOutcome {
                reason: format!(
                    "{} holds no fixture folder (`<function>-<16 hex id>/`, as cacheow-test and `cacheow export` write)",
                    dir.display()
                ),
            });
        }
        let mut imported: Vec<Imported> = Vec::new();
        for (function_id, folder) in folders {
            let count = self.import_folder(&function_id, &folder)?;
            match imported.iter_mut().find(|done| done.function_id == function_id) {
                Some(done) => done.outcomes += count,
                None => imported.push(Imported { function_id, outcomes: count }),
            }
        }
        for done in &imported {
            self.runtime().rebuild_index(&done.function_id)?;
        }
        Ok(imported)
    }

    /// Writes the outcomes of one fixture folder into the data dir.
    fn import_folder(&self, function_id: &str, folder: &Path) -> Result<usize, Error> {
        let runtime = self.runtime();
        let mut count = 0;
        let entries = std::fs::read_dir(folder).map_err(|source| Error::Io {
            action: "read",
            path: folder.to_path_buf(),
            source,
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(id) = path.file_stem().and_then(|stem| stem.to_str()).and_then(ids::parse_id) else { continue };
            let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
                action: "read",
                path: path.clone(),
                source,
            })?;
            let parsed = files::parse(id, &text)
                .map_err(|reason| Error::InvalidOutcome { reason: format!("{}: {reason}", path.display()) })?;
            let mut outcome = parsed.outcome;
            // Fixtures hold no times: an imported outcome is as new as its
            // import, not the oldest for retention to drop.
            if outcome.recorded_at_ms == 0 {
                outcome.recorded_at_ms = now_millis();
                outcome.seen_at(outcome.recorded_at_ms);
            }
            // A file written by hand may not name its function.
            let function = parsed.function.as_deref().unwrap_or(function_id);
            files::write_outcome(runtime.data_dir(), function, function_id, &outcome)?;
            count += 1;
        }
        let mut watched = runtime.lock()?;
        if !functions::exists(&watched.conn, function_id)? {
            runtime.register_from_files(&mut watched.conn, function_id)?;
        }
        Ok(count)
    }
}

/// Every `<name>-<id>` folder below `dir`, with its function id.
fn fixture_folders(dir: &Path, found: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if !path.is_dir() {
            continue;
        }
        match path.file_name().and_then(|name| name.to_str()).and_then(function_id_of_dir) {
            Some(function_id) => found.push((function_id.to_owned(), path)),
            None => fixture_folders(&path, found)?,
        }
    }
    Ok(())
}
