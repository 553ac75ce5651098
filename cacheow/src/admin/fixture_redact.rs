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
use crate::store::fixture::{BODY_HASHES, FixtureOutcome, function_id_of_dir, read_body_hashes, render_body_hashes};

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
/// `write` false, only says which files hold something to redact.
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
    let name = function_dir.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let function_id = function_id_of_dir(&name).unwrap_or_default().to_owned();
    let function = name.rsplit_once('-').map_or("", |(function, _)| function);
    let mut hashes = read_body_hashes(function_dir);
    let mut redacted = Vec::new();
    for path in outcome_files(function_dir) {
        let id = path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
        let io = |action, source| Error::Io { action, path: path.clone(), source };
        let text = std::fs::read_to_string(&path).map_err(|source| io("read", source))?;
        let before = FixtureOutcome::parse(function, &function_id, &id, &text).map_err(|reason| {
            Error::InvalidOutcome { reason: format!("the fixture {} is broken: {reason}", path.display()) }
        })?;
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
            let text = after.render(&new_id).map_err(|reason| Error::InvalidOutcome { reason })?;
            let target = renamed_to.as_deref().unwrap_or(&path);
            write_atomic(target, text.as_bytes()).map_err(|source| io("write", source))?;
            if renamed_to.is_some() {
                std::fs::remove_file(&path).map_err(|source| io("delete", source))?;
                if let Some(hash) = hashes.remove(&id) {
                    hashes.insert(new_id.clone(), hash);
                }
            }
        }
        redacted.push(RedactedFixture { path, renamed_to, argument_fields: changed_fields(&before.args, &after.args) });
    }
    if write && !hashes.is_empty() {
        let path = function_dir.join(BODY_HASHES);
        write_atomic(&path, render_body_hashes(&hashes).as_bytes()).map_err(|source| Error::Io {
            action: "write",
            path,
            source,
        })?;
    }
    Ok(redacted)
}

/// The paths of the argument fields a redaction changed.
fn changed_fields(before: &str, after: &str) -> Vec<String> {
    let parse = |text: &str| serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
    json_diff::differences(&parse(before), &parse(after)).into_iter().map(|difference| difference.path).collect()
}

/// The function folders below `dir`, in path order.
fn function_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut children: Vec<PathBuf> = std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).collect();
    children.sort();
    for child in children.into_iter().filter(|child| child.is_dir()) {
        let name = child.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        if function_id_of_dir(&name).is_some() {
            found.push(child);
        } else {
            found.extend(function_dirs(&child));
        }
    }
    found
}

fn outcome_files(function_dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(function_dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}
