//! A test's fixtures: `<test dir>/<function>-<function id>/<outcome id>.json`,
//! one outcome per file, in the data dir's format without its volatile
//! fields. New files are named by their content, files written by hand keep
//! their names, and only files whose content changes are written, so
//! re-recording unchanged behaviour leaves them untouched.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use cacheow::__harness::{
    BODY_HASHES, FixtureOutcome, function_dir_name, function_id_of_dir, read_body_hashes, render_body_hashes,
    write_atomic,
};

use cacheow::__harness::{Redaction, json_diff};

/// The fixtures of one test.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Fixtures {
    /// Function id → its outcomes.
    functions: BTreeMap<String, Function>,
    /// Files of outcomes recorded again with another content, to delete.
    replaced: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Function {
    /// As found on disk, or made from the function's name.
    dir_name: String,
    /// File id (its name) → outcome.
    outcomes: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    outcome: FixtureOutcome,
    /// Whether its file needs writing: new, or given another call.
    changed: bool,
    /// The body hash of the function that recorded it, when known: kept
    /// in the folder's [`BODY_HASHES`] file, not in the outcome's.
    body_hash: Option<String>,
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
            let dir_name = entry.file_name().to_string_lossy().into_owned();
            let Some(function_id) = function_id_of_dir(&dir_name).filter(|_| entry.path().is_dir()) else { continue };
            // What a file written by hand leaves out, its directory says.
            let name = dir_name.rsplit_once('-').map_or("", |(name, _)| name);
            let function = fixtures.functions.entry(function_id.to_owned()).or_default();
            function.dir_name.clone_from(&dir_name);
            let mut body_hashes = read_body_hashes(&entry.path());
            for file in outcome_files(&entry.path()) {
                let id = file.file_stem().and_then(|stem| stem.to_str()).unwrap_or_default().to_owned();
                let outcome = fs::read_to_string(&file)
                    .map_err(|error| error.to_string())
                    .and_then(|text| FixtureOutcome::parse(name, function_id, &id, &text))
                    .map_err(|error| format!("the fixture {} is broken: {error}", file.display()))?;
                let body_hash = body_hashes.remove(&id);
                function.outcomes.insert(id, Entry { outcome, changed: false, body_hash });
            }
        }
        Ok(fixtures)
    }

    /// The outcome of call number `call` with these arguments, and its file
    /// id: one recorded for that call, else one recorded for any call (a
    /// file written by hand, without `calls`).
    pub(crate) fn find(&self, function_id: &str, args: &str, call: u32) -> Option<(&str, &FixtureOutcome)> {
        let with_args = || self.outcomes(function_id).filter(|(_, outcome)| outcome.args == args);
        with_args()
            .find(|(_, outcome)| outcome.calls.contains(&call))
            .or_else(|| with_args().find(|(_, outcome)| outcome.calls.is_empty()))
    }

    /// For a cache pin, the outcome of this call, else one recorded for any
    /// call with these arguments: in this run too, so that the test's
    /// second call with them is a hit.
    pub(crate) fn cached(&self, function_id: &str, args: &str, call: u32) -> Option<(&str, &FixtureOutcome)> {
        self.find(function_id, args, call)
            .or_else(|| self.outcomes(function_id).find(|(_, outcome)| outcome.args == args))
    }

    /// For mock mode, any outcome of the function: the one of this call if
    /// there is one, else the last one with these arguments, else the first.
    pub(crate) fn any(&self, function_id: &str, args: &str, call: u32) -> Option<(&str, &FixtureOutcome)> {
        let last_with_args = || {
            self.outcomes(function_id)
                .filter(|(_, outcome)| outcome.args == args)
                .max_by_key(|(_, outcome)| outcome.calls.iter().max().copied())
        };
        let first =
            || self.outcomes(function_id).min_by_key(|(_, outcome)| (outcome.calls.first().copied(), &outcome.args));
        self.find(function_id, args, call).or_else(last_with_args).or_else(first)
    }

    /// What the fixtures hold of a function for a call they lack: calls
    /// with the same arguments (the call was made more often than when it
    /// was recorded), else the outcome whose arguments are closest.
    pub(crate) fn nearest(&self, function_id: &str, args: &str) -> Nearest<'_> {
        let same: Vec<u32> = self
            .outcomes(function_id)
            .filter(|(_, outcome)| outcome.args == args)
            .flat_map(|(_, outcome)| outcome.calls.iter().copied())
            .collect();
        if !same.is_empty() {
            let mut calls = same;
            calls.sort_unstable();
            return Nearest::SameArgs(calls);
        }
        let called = json_or_text(args);
        self.outcomes(function_id)
            .map(|(id, outcome)| (id, outcome, json_diff::differences(&json_or_text(&outcome.args), &called)))
            .min_by_key(|(_, _, differences)| differences.len())
            .map_or(Nearest::Nothing, |(id, outcome, differences)| Nearest::Closest { id, outcome, differences })
    }

    /// The recorded calls that no call made so far matches, by function
    /// id: `made` says how many calls a function made with some arguments.
    /// Outcomes that only nested calls gave are left out (a replay of the
    /// outer call does not make them), and so are the functions `skip`s.
    pub(crate) fn unplayed(
        &self,
        made: impl Fn(&str, &str) -> u32,
        skip: impl Fn(&str) -> bool,
    ) -> Vec<(&str, &FixtureOutcome, Option<u32>)> {
        let mut unplayed = Vec::new();
        for (function_id, function) in self.functions.iter().filter(|(id, _)| !skip(id)) {
            for (id, outcome) in function.outcomes.iter().map(|(id, entry)| (id.as_str(), &entry.outcome)) {
                let made = made(function_id, &outcome.args);
                match outcome.calls.as_slice() {
                    _ if outcome.nested => {}
                    [] if made == 0 => unplayed.push((id, outcome, None)),
                    calls => {
                        unplayed.extend(calls.iter().filter(|call| **call >= made).map(|c| (id, outcome, Some(*c))))
                    }
                }
            }
        }
        unplayed
    }

    fn outcomes(&self, function_id: &str) -> impl Iterator<Item = (&str, &FixtureOutcome)> {
        self.functions
            .get(function_id)
            .into_iter()
            .flat_map(|function| function.outcomes.iter().map(|(id, entry)| (id.as_str(), &entry.outcome)))
    }

    /// Adds what call number `call` gave, by a body of hash `body_hash` (if
    /// known: a replay may not know it): to
    /// the outcome with the same content if there is one. Another outcome
    /// recorded for that call before (by an older body) loses it, and goes
    /// when it answers no other call.
    pub(crate) fn add(&mut self, outcome: FixtureOutcome, call: u32, body_hash: Option<&str>) {
        let function = self.functions.entry(outcome.function_id.clone()).or_default();
        if function.dir_name.is_empty() {
            function.dir_name = function_dir_name(&outcome.function, &outcome.function_id);
        }
        let before = |entry: &Entry| entry.outcome.args == outcome.args && entry.outcome.outcome != outcome.outcome;
        let mut emptied = Vec::new();
        for (id, entry) in function.outcomes.iter_mut().filter(|(_, entry)| before(entry)) {
            if let Ok(at) = entry.outcome.calls.binary_search(&call) {
                entry.outcome.calls.remove(at);
                entry.changed = true;
                if entry.outcome.calls.is_empty() {
                    emptied.push(id.clone());
                }
            }
        }
        for id in emptied {
            function.outcomes.remove(&id);
            self.replaced.push((outcome.function_id.clone(), id));
        }
        let same = |entry: &Entry| entry.outcome.args == outcome.args && entry.outcome.outcome == outcome.outcome;
        if let Some(entry) = function.outcomes.values_mut().find(|entry| same(entry)) {
            // An outcome for any call already answers this one.
            if let (false, Err(at)) = (entry.outcome.calls.is_empty(), entry.outcome.calls.binary_search(&call)) {
                entry.outcome.calls.insert(at, call);
                entry.changed = true;
            }
            // A call at the top level gave it too: a replay makes that one.
            if entry.outcome.nested && !outcome.nested {
                entry.outcome.nested = false;
                entry.changed = true;
            }
            if let Some(hash) = body_hash {
                entry.body_hash = Some(hash.to_owned());
            }
            return;
        }
        let id = outcome.id();
        let outcome = FixtureOutcome { calls: vec![call], ..outcome };
        function.outcomes.insert(id, Entry { outcome, changed: true, body_hash: body_hash.map(str::to_owned) });
    }

    /// Whether an outcome of the function was recorded by a body of
    /// another hash than `body_hash`: all its calls are recorded again.
    pub(crate) fn is_stale_function(&self, function_id: &str, body_hash: &str) -> bool {
        self.functions.get(function_id).is_some_and(|function| {
            function.outcomes.values().any(|entry| entry.body_hash.as_deref().is_some_and(|hash| hash != body_hash))
        })
    }

    /// The outcomes recorded by another body than the one each function
    /// has now: function id, file id and outcome. `current` gives the body
    /// hash of a function of this program, by id.
    pub(crate) fn stale(&self, current: impl Fn(&str) -> Option<&'static str>) -> Vec<(&str, &str, &FixtureOutcome)> {
        let mut stale = Vec::new();
        for (function_id, function) in &self.functions {
            let Some(now) = current(function_id) else { continue };
            for (id, entry) in &function.outcomes {
                if entry.body_hash.as_deref().is_some_and(|hash| hash != now) {
                    stale.push((function_id.as_str(), id.as_str(), &entry.outcome));
                }
            }
        }
        stale
    }

    /// The body hash that recorded the outcome `id`, when known.
    pub(crate) fn body_hash(&self, function_id: &str, id: &str) -> Option<&str> {
        self.entry(function_id, id).and_then(|entry| entry.body_hash.as_deref())
    }

    fn entry(&self, function_id: &str, id: &str) -> Option<&Entry> {
        self.functions.get(function_id).and_then(|function| function.outcomes.get(id))
    }

    /// Notes that a call at the top level replayed the outcome `id`, which
    /// only nested calls had made: a replay makes it from now on.
    pub(crate) fn made_at_top_level(&mut self, function_id: &str, id: &str) {
        let entry = self.functions.get_mut(function_id).and_then(|function| function.outcomes.get_mut(id));
        if let Some(entry) = entry.filter(|entry| entry.outcome.nested) {
            entry.outcome.nested = false;
            entry.changed = true;
        }
    }

    /// Redacts, with every secret known now, the outcomes not yet written;
    /// one whose content changes takes the id of its new content.
    pub(crate) fn redact(&mut self, redaction: &Redaction) {
        if redaction.is_empty() {
            return;
        }
        for function in self.functions.values_mut() {
            let changed: Vec<String> =
                function.outcomes.iter().filter(|(_, entry)| entry.changed).map(|(id, _)| id.clone()).collect();
            for id in changed {
                let Some(entry) = function.outcomes.remove(&id) else { continue };
                let mut outcome = entry.outcome.clone();
                outcome.args = redaction.json(&outcome.args);
                outcome.outcome.payload = redaction.payload(&outcome.outcome.payload);
                let id = if outcome == entry.outcome { id } else { outcome.id() };
                match function.outcomes.get_mut(&id) {
                    Some(same) => {
                        same.outcome.calls.extend(outcome.calls);
                        same.outcome.calls.sort_unstable();
                        same.outcome.calls.dedup();
                        same.changed = true;
                    }
                    None => {
                        function.outcomes.insert(id, Entry { outcome, changed: true, body_hash: entry.body_hash });
                    }
                }
            }
        }
    }

    /// The path of an outcome's file.
    pub(crate) fn path(&self, dir: &Path, function_id: &str, id: &str) -> PathBuf {
        let dir_name = self.functions.get(function_id).map_or("", |function| function.dir_name.as_str());
        dir.join(dir_name).join(format!("{id}.json"))
    }

    /// Writes the fixtures into the test's directory: the outcomes that
    /// changed, or with `rewrite` all of them, each only if its bytes
    /// change; `rewrite` also removes the files and function directories
    /// these fixtures do not hold. Returns the files they hold.
    pub(crate) fn write(&self, dir: &Path, rewrite: bool) -> io::Result<Vec<PathBuf>> {
        let mut kept = Vec::new();
        let mut kept_dirs = Vec::new();
        for (function_id, function) in &self.functions {
            let function_dir = dir.join(&function.dir_name);
            for (id, entry) in &function.outcomes {
                let path = self.path(dir, function_id, id);
                if entry.changed || rewrite {
                    let text = entry.outcome.render(id).map_err(io::Error::other)?;
                    if fs::read(&path).ok().as_deref() != Some(text.as_bytes()) {
                        fs::create_dir_all(&function_dir)?;
                        write_atomic(&path, text.as_bytes())?;
                    }
                }
                kept.push(path);
            }
            write_body_hashes(&function_dir, function)?;
            kept_dirs.push(function_dir);
        }
        for (function_id, id) in &self.replaced {
            match fs::remove_file(self.path(dir, function_id, id)) {
                Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
                _ => {}
            }
        }
        if rewrite {
            prune_dir(dir, &kept, &kept_dirs)?;
        }
        Ok(kept)
    }
}

/// See [`Fixtures::nearest`].
pub(crate) enum Nearest<'a> {
    /// The function has no outcome in the fixtures.
    Nothing,
    /// The numbers of the calls recorded with the same arguments.
    SameArgs(Vec<u32>),
    /// The outcome of the closest arguments: its file id, and how its
    /// arguments differ from the call's.
    Closest { id: &'a str, outcome: &'a FixtureOutcome, differences: Vec<json_diff::Difference> },
}

fn json_or_text(args: &str) -> serde_json::Value {
    serde_json::from_str(args).unwrap_or_else(|_| serde_json::Value::String(args.to_owned()))
}

/// Writes the [`BODY_HASHES`] file of a function's folder, if its bytes
/// change; removes it when no outcome's body hash is known.
fn write_body_hashes(function_dir: &Path, function: &Function) -> io::Result<()> {
    let hashes: BTreeMap<String, String> = function
        .outcomes
        .iter()
        .filter_map(|(id, entry)| entry.body_hash.clone().map(|hash| (id.clone(), hash)))
        .collect();
    let path = function_dir.join(BODY_HASHES);
    if hashes.is_empty() {
        return match fs::remove_file(&path) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        };
    }
    let text = render_body_hashes(&hashes);
    if fs::read(&path).ok().as_deref() != Some(text.as_bytes()) {
        fs::create_dir_all(function_dir)?;
        write_atomic(&path, text.as_bytes())?;
    }
    Ok(())
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
        if function_id_of_dir(&entry.file_name().to_string_lossy()).is_none() || !path.is_dir() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use cacheow::__harness::{OutcomeKind, Payload, Recorded};

    const FUNCTION: &str = "0123456789abcdef";

    fn outcome(args: &str, value: &str) -> FixtureOutcome {
        FixtureOutcome {
            function: "suite::fetch".to_owned(),
            function_id: FUNCTION.to_owned(),
            args: args.to_owned(),
            outcome: Recorded {
                kind: OutcomeKind::Return,
                payload: Payload::Json(value.into()),
                error_type: None,
                partial: false,
            },
            calls: Vec::new(),
            nested: false,
        }
    }

    fn value(fixtures: &Fixtures, args: &str, call: u32) -> Option<String> {
        fixtures.find(FUNCTION, args, call).map(|(_, o)| o.outcome.payload.text().to_owned())
    }

    #[test]
    fn calls_replay_in_their_order_and_repeats_share_a_file() -> io::Result<()> {
        let mut fixtures = Fixtures::default();
        fixtures.add(outcome(r#"{"id":1}"#, "1"), 0, None);
        fixtures.add(outcome(r#"{"id":1}"#, "2"), 1, None);
        fixtures.add(outcome(r#"{"id":1}"#, "1"), 2, None);
        let values: Vec<_> = (0..4).map(|call| value(&fixtures, r#"{"id":1}"#, call)).collect();
        assert_eq!(values, [Some("1".into()), Some("2".into()), Some("1".into()), None]);

        let dir = tempfile::tempdir()?;
        let files = fixtures.write(dir.path(), false)?;
        assert_eq!(files.len(), 2, "two distinct outcomes");
        assert!(files[0].starts_with(dir.path().join("fetch-0123456789abcdef")));
        let loaded = Fixtures::load(dir.path()).map_err(io::Error::other)?;
        assert_eq!(value(&loaded, r#"{"id":1}"#, 2), Some("1".into()));

        // Written again, nothing changes on disk.
        let modified = |files: &[PathBuf]| -> Vec<_> {
            files.iter().map(|f| fs::metadata(f).and_then(|m| m.modified()).ok()).collect()
        };
        let before = modified(&files);
        std::thread::sleep(std::time::Duration::from_millis(20));
        loaded.write(dir.path(), true)?;
        assert_eq!(modified(&files), before);

        // Rewriting with nothing removes the test's directory.
        Fixtures::default().write(dir.path(), true)?;
        assert!(!dir.path().exists());
        Ok(())
    }

    #[test]
    fn files_written_by_hand_keep_their_names_and_answer_any_call() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let function_dir = dir.path().join("fetch-0123456789abcdef");
        fs::create_dir_all(&function_dir)?;
        let by_hand = function_dir.join("00000000000000aa.json");
        let text = r#"{ "kind": "return", "args": {"id": 1}, "value": "by hand" }"#;
        fs::write(&by_hand, text)?;
        let mut fixtures = Fixtures::load(dir.path()).map_err(io::Error::other)?;
        assert_eq!(value(&fixtures, r#"{"id":1}"#, 5), Some("\"by hand\"".into()));
        assert_eq!(fixtures.find(FUNCTION, r#"{"id":1}"#, 5).map(|(id, _)| id), Some("00000000000000aa"));
        // Recording it again adds nothing, and leaves the file as written.
        fixtures.add(outcome(r#"{"id":1}"#, "\"by hand\""), 5, None);
        fixtures.write(dir.path(), false)?;
        assert_eq!(fs::read_to_string(&by_hand)?, text);
        assert_eq!(outcome_files(&function_dir).len(), 1);
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
