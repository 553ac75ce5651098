//! Secrets scrubbed from fixtures already written: argument and value
//! fields of some names, and secret values wherever they occur, as
//! cacheow-test's `redact(..)` and `redact_env(..)` keep them out of new
//! ones. Values and error messages are rewritten freely; a file named by
//! its content takes the name of its new content, with its body hash.

use std::path::{Path, PathBuf};

use crate::model::error::Error;
use crate::model::json_diff;
use crate::model::redact::Redaction;
use crate::store::files::write_atomic;
use crate::store::fixture::{FixtureOutcome, function_id_of_dir};
use crate::store::fixture_folder::{BODY_HASHES, function_dirs, outcome_files, read_body_hashes, write_hashes};

/// A fixture file that holds something to redact.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedactedFixture {
    /// The outcome file.
    pub path: PathBuf,
    /// Its new path, when its name was its content's id and the content
    /// changed.
    pub renamed_to: Option<PathBuf>,
    /// The argument fields redacted (`api_key`, `auth.token`): they change
    /// the replay key, so the test must redact them too to keep replaying.
    pub argument_fields: Vec<String>,
}

/// Redacts the fields named `fields` (at any depth, any case) and the
/// `secrets` wherever they occur in every fixture below `dir`; with
/// `write` false, only says which files hold something to redact. An
/// outcome that becomes the same as another of its folder joins it.
/// Pending files of a review run are not read: accept or reject them first.
///
/// # Errors
///
/// A fixture that does not read, or a file that cannot be written.
pub fn redact_fixtures(
    dir: &Path,
    fields: &[String],
    secrets: &[String],
    write: bool,
) -> Result<Vec<RedactedFixture>, Error> {
    let mut redaction = Redaction::of_fields(fields.iter().map(String::as_str));
    secrets.iter().for_each(|secret| redaction.add_value(secret.clone()));
    let mut redacted = Vec::new();
    for function_dir in function_dirs(dir) {
        redacted.extend(redact_folder(&function_dir, &redaction, write)?);
    }
    Ok(redacted)
}

fn redact_folder(function_dir: &Path, redaction: &Redaction, write: bool) -> Result<Vec<RedactedFixture>, Error> {
    let mut hashes = read_body_hashes(function_dir);
    let mut redacted = Vec::new();
    for path in outcome_files(function_dir) {
        let id = path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
        // Gone when an outcome redacted before joined it.
        let Some(before) = read(function_dir, &path)? else { continue };
        let mut after = before.clone();
        after.args = redaction.json(&before.args);
        after.outcome.payload = redaction.payload(&before.outcome.payload);
        if after == before {
            continue;
        }
        // A file named by its content takes its new content's name.
        let new_id = if id == before.id() { after.id() } else { id.clone() };
        let renamed_to = (new_id != id).then(|| path.with_file_name(format!("{new_id}.json")));
        if write {
            let target = renamed_to.clone().unwrap_or_else(|| path.clone());
            if let (Some(_), Some(other)) = (&renamed_to, read(function_dir, &target)?) {
                after.calls.extend(other.calls);
                after.calls.sort_unstable();
                after.calls.dedup();
            }
            let text = after.render(&new_id).map_err(|reason| Error::InvalidOutcome { reason })?;
            write_atomic(&target, text.as_bytes()).map_err(|source| io_error("write", &target, source))?;
            if renamed_to.is_some() {
                std::fs::remove_file(&path).map_err(|source| io_error("delete", &path, source))?;
                if let Some(hash) = hashes.remove(&id) {
                    hashes.insert(new_id.clone(), hash);
                }
            }
        }
        redacted.push(RedactedFixture { path, renamed_to, argument_fields: changed_fields(&before.args, &after.args) });
    }
    if write {
        let path = function_dir.join(BODY_HASHES);
        write_hashes(&path, &hashes).map_err(|source| io_error("write", &path, source))?;
    }
    Ok(redacted)
}

/// The fixture at `path` of a function folder, if it is there.
fn read(function_dir: &Path, path: &Path) -> Result<Option<FixtureOutcome>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(io_error("read", path, source)),
    };
    let name = function_dir.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let function_id = function_id_of_dir(&name).unwrap_or_default();
    let function = name.rsplit_once('-').map_or("", |(function, _)| function);
    let id = path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
    FixtureOutcome::parse(function, function_id, &id, &text).map(Some).map_err(|reason| Error::InvalidOutcome {
        reason: format!("the fixture {} is broken: {reason}", path.display()),
    })
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> Error {
    Error::Io { action, path: path.to_path_buf(), source }
}

/// The paths of the argument fields a redaction changed.
fn changed_fields(before: &str, after: &str) -> Vec<String> {
    let parse = |text: &str| serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
    json_diff::differences(&parse(before), &parse(after)).into_iter().map(|difference| difference.path).collect()
}
