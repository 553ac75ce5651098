//! A test's fixtures: `<test dir>/<function>-<function id>/<outcome id>.json`,
//! one outcome per file, in the data dir's format without its volatile
//! fields. Files are named by their content and written only when their
//! bytes change, so re-recording unchanged behaviour leaves them untouched.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use cacheow::__private::scope::FixtureOutcome;

/// The fixtures of one test.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Fixtures {
    /// Function id → its outcomes, by outcome id.
    functions: BTreeMap<String, BTreeMap<String, FixtureOutcome>>,
}

impl Fixtures {
    /// Reads a test's fixtures; a missing directory holds none. A file that
    /// cannot be read fails, naming the file: a broken fixture is a broken test.
    pub(crate) fn load(dir: &Path) -> Result<Fixtures, String> {
        let mut fixtures = Fixtures::default();
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(fixtures),
            Err(error) => return Err(format!("cannot read {}: {error}", dir.display())),
        };
        for entry in entries.flatten() {
            let Some(function_id) = function_id_of(&entry.path()) else { continue };
            for file in outcome_files(&entry.path()) {
                let read = |file: &Path| -> Result<FixtureOutcome, String> {
                    let text = fs::read_to_string(file).map_err(|error| error.to_string())?;
                    let id = file.file_stem().and_then(|stem| stem.to_str()).unwrap_or_default();
                    let function = serde_json::from_str::<serde_json::Value>(&text)
                        .ok()
                        .and_then(|file| file["function"].as_str().map(str::to_owned))
                        .unwrap_or_default();
                    FixtureOutcome::parse(&function, &function_id, id, &text)
                };
                let outcome =
                    read(&file).map_err(|error| format!("the fixture {} is broken: {error}", file.display()))?;
                fixtures.insert(outcome);
            }
        }
        Ok(fixtures)
    }

    fn insert(&mut self, outcome: FixtureOutcome) {
        self.functions.entry(outcome.function_id.clone()).or_default().insert(outcome.id(), outcome);
    }

    /// The outcome of call number `call` with these arguments.
    pub(crate) fn find(&self, function_id: &str, args: &str, call: u32) -> Option<&FixtureOutcome> {
        self.outcomes(function_id).find(|outcome| outcome.args == args && outcome.calls.contains(&call))
    }

    /// For mock mode, any outcome of the function: the one of this call if
    /// there is one, else the last one with these arguments, else the first.
    pub(crate) fn any(&self, function_id: &str, args: &str, call: u32) -> Option<&FixtureOutcome> {
        let last_with_args = || {
            self.outcomes(function_id)
                .filter(|outcome| outcome.args == args)
                .max_by_key(|outcome| outcome.calls.iter().max().copied())
        };
        let first = || self.outcomes(function_id).min_by_key(|outcome| (outcome.calls.first().copied(), &outcome.args));
        self.find(function_id, args, call).or_else(last_with_args).or_else(first)
    }

    fn outcomes(&self, function_id: &str) -> impl Iterator<Item = &FixtureOutcome> {
        self.functions.get(function_id).into_iter().flat_map(BTreeMap::values)
    }

    /// Adds what call number `call` gave: to the file with the same content
    /// if there is one.
    pub(crate) fn add(&mut self, mut outcome: FixtureOutcome, call: u32) {
        let outcomes = self.functions.entry(outcome.function_id.clone()).or_default();
        let outcome = outcomes.entry(outcome.id()).or_insert_with(|| {
            outcome.calls.clear();
            outcome
        });
        if let Err(at) = outcome.calls.binary_search(&call) {
            outcome.calls.insert(at, call);
        }
    }

    /// Writes the fixtures into the test's directory, each file only if its
    /// bytes change. With `prune`, files and function directories these
    /// fixtures do not hold are removed. Returns the files they hold.
    pub(crate) fn write(&self, dir: &Path, prune: bool) -> io::Result<Vec<PathBuf>> {
        let mut kept = Vec::new();
        let mut kept_dirs = Vec::new();
        for (function_id, outcomes) in &self.functions {
            let Some(first) = outcomes.values().next() else { continue };
            let function_dir = dir.join(function_dir_name(&first.function, function_id));
            fs::create_dir_all(&function_dir)?;
            for (id, outcome) in outcomes {
                let path = function_dir.join(format!("{id}.json"));
                let text = outcome.render().map_err(io::Error::other)?;
                if fs::read(&path).ok().as_deref() != Some(text.as_bytes()) {
                    write_atomic(&path, text.as_bytes())?;
                }
                kept.push(path);
            }
            kept_dirs.push(function_dir);
        }
        if prune {
            prune_dir(dir, &kept, &kept_dirs)?;
        }
        Ok(kept)
    }
}

/// `fetch_user-0123456789abcdef`: the function's name, for people, and its
/// id, for cacheow.
pub(crate) fn function_dir_name(function: &str, function_id: &str) -> String {
    let name = function.rsplit("::").next().unwrap_or(function);
    let name: String = name.chars().map(|c| if c.is_alphanumeric() || c == '_' { c } else { '_' }).collect();
    format!("{name}-{function_id}")
}

/// The function id in a function directory's name.
fn function_id_of(dir: &Path) -> Option<String> {
    let name = dir.file_name()?.to_str()?;
    let (_, id) = name.rsplit_once('-')?;
    (dir.is_dir() && id.len() == 16 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| id.to_owned())
}

fn outcome_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

/// Removes, from a test's directory, the function directories and outcome
/// files not kept; the directory itself when nothing is left.
fn prune_dir(dir: &Path, kept: &[PathBuf], kept_dirs: &[PathBuf]) -> io::Result<()> {
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if function_id_of(&path).is_none() {
            continue;
        }
        if !kept_dirs.contains(&path) {
            fs::remove_dir_all(&path)?;
            continue;
        }
        for file in outcome_files(&path) {
            if !kept.contains(&file) {
                fs::remove_file(&file)?;
            }
        }
    }
    if fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none()) {
        fs::remove_dir(dir)?;
    }
    Ok(())
}

/// A temporary file beside `path`, renamed over it: never half a file.
fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, path)).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cacheow::__private::scope::{OutcomeKind, Payload, Recorded};

    fn outcome(args: &str, value: &str) -> FixtureOutcome {
        FixtureOutcome {
            function: "suite::fetch".to_owned(),
            function_id: "0123456789abcdef".to_owned(),
            args: args.to_owned(),
            outcome: Recorded { kind: OutcomeKind::Return, payload: Payload::Json(value.into()), error_type: None },
            calls: Vec::new(),
        }
    }

    #[test]
    fn calls_replay_in_their_order_and_repeats_share_a_file() -> io::Result<()> {
        let mut fixtures = Fixtures::default();
        fixtures.add(outcome(r#"{"id":1}"#, "1"), 0);
        fixtures.add(outcome(r#"{"id":1}"#, "2"), 1);
        fixtures.add(outcome(r#"{"id":1}"#, "1"), 2);
        let value =
            |call| fixtures.find("0123456789abcdef", r#"{"id":1}"#, call).map(|o| o.outcome.payload.text().to_owned());
        assert_eq!(
            [value(0), value(1), value(2), value(3)],
            [Some("1".into()), Some("2".into()), Some("1".into()), None]
        );

        let dir = tempfile::tempdir()?;
        let files = fixtures.write(dir.path(), false)?;
        assert_eq!(files.len(), 2, "two distinct outcomes");
        assert!(files[0].starts_with(dir.path().join("fetch-0123456789abcdef")));
        assert_eq!(Fixtures::load(dir.path()), Ok(fixtures.clone()));

        // Written again, nothing changes on disk.
        let before: Vec<_> = files.iter().map(|f| fs::metadata(f).and_then(|m| m.modified()).ok()).collect();
        std::thread::sleep(std::time::Duration::from_millis(20));
        fixtures.write(dir.path(), false)?;
        let after: Vec<_> = files.iter().map(|f| fs::metadata(f).and_then(|m| m.modified()).ok()).collect();
        assert_eq!(before, after);

        // Pruning to nothing removes the test's directory.
        Fixtures::default().write(dir.path(), true)?;
        assert!(!dir.path().exists());
        Ok(())
    }

    #[test]
    fn a_broken_fixture_names_its_file() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let function_dir = dir.path().join("fetch-0123456789abcdef");
        fs::create_dir_all(&function_dir)?;
        fs::write(function_dir.join("00000000000000aa.json"), "{ not json")?;
        let error = Fixtures::load(dir.path()).err().unwrap_or_default();
        assert!(error.contains("00000000000000aa.json is broken"), "{error}");
        Ok(())
    }
}
