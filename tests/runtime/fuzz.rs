//! Bad input, generated: outcome files mutated at random, and database rows
//! edited at random. Nothing panics, every call still returns its real
//! result, and every file left out is reported as corrupt.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cacheow::{Error, Manager, Mode, Settings, cacheow, handle};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;

use crate::arbitrary_json::json_value;

/// Random files written per case, and cases: 10,000 files in all.
const FILES_PER_CASE: usize = 500;
const FILE_CASES: u32 = 20;
const ROW_CASES: u32 = 100;

#[cacheow]
fn fuzzed(n: u64) -> Vec<String> {
    fuzzed_plainly(n)
}

static EDITED_RAN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[cacheow]
fn edited(n: u64) -> u64 {
    EDITED_RAN.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    n * 3
}

/// A runner of `cases` that tries the same inputs in every run: CI fails
/// only on a change, never on a draw.
fn runner(cases: u32) -> TestRunner {
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
}

/// A manager over `data_dir`, bound to this thread while it lives.
fn open(data_dir: &Path) -> Manager {
    let mut settings = Settings::default();
    settings.data_dir = data_dir.to_path_buf();
    Manager::open(settings)
}

fn data_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("fuzz-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("a temporary dir")
}

fn outcome_files(data_dir: &Path, function_id: &str) -> Vec<PathBuf> {
    let dir = data_dir.join("functions").join(function_id).join("outcomes");
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).expect("the outcome dir").flatten().map(|e| e.path()).collect();
    files.retain(|path| path.extension().is_some_and(|ext| ext == "json"));
    files
}

fn fuzzed_plainly(n: u64) -> Vec<String> {
    (0..n % 4).map(|i| format!("item {i} of {n}")).collect()
}

/// Whether one of `files` answers `n` with `value`.
fn file_answers(files: &BTreeSet<PathBuf>, n: u64, value: &Value) -> bool {
    files.iter().any(|file| {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let json: Value = serde_json::from_str(&text).unwrap_or_default();
        json["args"]["n"] == n && json["value"] == *value
    })
}

/// One change to a valid outcome file.
#[derive(Debug, Clone)]
enum Mutation {
    /// One byte replaced.
    Byte { at: usize, byte: u8 },
    /// Cut after `len` bytes.
    Truncate { len: usize },
    /// Bytes inserted.
    Insert { at: usize, bytes: Vec<u8> },
    /// A top-level field set to another JSON value.
    Field { name: &'static str, value: Value },
    /// A top-level field removed.
    Remove { name: &'static str },
    /// Something else entirely.
    Garbage { bytes: Vec<u8> },
}

const FIELDS: &[&str] = &[
    "cacheow",
    "function",
    "function_id",
    "id",
    "kind",
    "arg_key",
    "args",
    "value",
    "encoding",
    "error_type",
    "duration_ms",
    "recorded_at",
    "mock_only",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Byte { at, byte }),
        any::<usize>().prop_map(|len| Mutation::Truncate { len }),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (prop::sample::select(FIELDS), json_value()).prop_map(|(name, value)| Mutation::Field { name, value }),
        prop::sample::select(FIELDS).prop_map(|name| Mutation::Remove { name }),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|bytes| Mutation::Garbage { bytes }),
    ]
}

fn mutate(template: &str, mutation: &Mutation) -> Vec<u8> {
    let mut bytes = template.as_bytes().to_vec();
    match mutation {
        Mutation::Byte { at, byte } => {
            let at = at % bytes.len();
            bytes[at] = *byte;
        }
        Mutation::Truncate { len } => bytes.truncate(len % bytes.len()),
        Mutation::Insert { at, bytes: inserted } => {
            let at = at % bytes.len();
            bytes.splice(at..at, inserted.iter().copied());
        }
        Mutation::Field { name, value } => bytes = with_field(template, name, Some(value)),
        Mutation::Remove { name } => bytes = with_field(template, name, None),
        Mutation::Garbage { bytes: garbage } => bytes.clone_from(garbage),
    }
    bytes
}

/// The template with the field `name` set to `value`, or removed.
fn with_field(template: &str, name: &str, value: Option<&Value>) -> Vec<u8> {
    let mut file: serde_json::Map<String, Value> = serde_json::from_str(template).expect("the template");
    match value {
        Some(value) => file.insert(name.to_owned(), value.clone()),
        None => file.remove(name),
    };
    serde_json::to_vec_pretty(&file).expect("JSON")
}

#[test]
fn random_and_mutated_outcome_files_never_panic_and_every_rejected_one_is_reported() -> Result<(), Error> {
    let f = handle!(fuzzed);
    let mut runner = runner(FILE_CASES);
    let tried = std::cell::Cell::new(0);
    runner
        .run(&prop::collection::vec((any::<u64>(), mutation()), FILES_PER_CASE), |mutations| {
            let dir = data_dir();
            {
                let manager = open(dir.path());
                let _bound = manager.bind();
                fuzzed(7);
            }
            let template_path = outcome_files(dir.path(), f.id()).pop().expect("the outcome of fuzzed(7)");
            let template = std::fs::read_to_string(&template_path).expect("readable");
            let mut written = BTreeSet::new();
            for (id, mutation) in &mutations {
                let path = template_path.with_file_name(format!("{id:016x}.json"));
                std::fs::write(&path, mutate(&template, mutation)).expect("written");
                written.insert(path);
            }
            tried.set(tried.get() + written.len());
            written.insert(template_path.clone());

            // A new process's first use reads the changed folder; a rebuild
            // reads it again, and checks each value against the return type.
            let manager = open(dir.path());
            let _bound = manager.bind();
            f.set_mode(Mode::Cache).expect("set_mode");
            let path_of = |id: &str| template_path.with_file_name(format!("{id}.json"));
            let first_use: BTreeSet<PathBuf> = f.outcomes().expect("outcomes").iter().map(|o| path_of(&o.id)).collect();
            let warned = crate::warnings();
            for rejected in written.difference(&first_use) {
                prop_assert!(warned.contains(&rejected.display().to_string()), "{} reported", rejected.display());
            }
            // A call replays the value of a file for its arguments (a
            // mutation may have made another valid one), or runs.
            for n in [7, 8] {
                let value = serde_json::to_value(fuzzed(n)).expect("JSON");
                let real = serde_json::to_value(fuzzed_plainly(n)).expect("JSON");
                prop_assert!(value == real || file_answers(&first_use, n, &value), "fuzzed({}) = {}", n, value);
            }
            let rebuilt = f.rebuild_index().expect("rebuild");
            let corrupt: BTreeSet<PathBuf> = rebuilt.corrupt.iter().map(|file| dir.path().join(&file.path)).collect();
            let indexed: BTreeSet<PathBuf> = f.outcomes().expect("outcomes").iter().map(|o| path_of(&o.id)).collect();
            prop_assert!(indexed.is_disjoint(&corrupt));
            let reported: BTreeSet<PathBuf> = indexed.union(&corrupt).cloned().collect();
            let on_disk: BTreeSet<PathBuf> = outcome_files(dir.path(), f.id()).into_iter().collect();
            prop_assert_eq!(&reported, &on_disk, "each file is indexed or reported as corrupt");
            prop_assert!(written.is_subset(&on_disk), "no file was deleted");
            // What the first use kept and the rebuild did not: values of
            // another type, which a replay drops.
            prop_assert!(first_use.difference(&indexed).all(|kept| corrupt.contains(kept)));
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
    assert!(tried.get() >= 9_900, "{} files tried", tried.get());
    Ok(())
}

/// One hand edit of a row of the `outcomes` table.
fn row_edit() -> impl Strategy<Value = (&'static str, Value)> {
    const COLUMNS: &[&str] =
        &["id", "kind", "arg_key", "args", "encoding", "recorded_at_ms", "last_seen_ms", "count", "facts", "mock_only"];
    (prop::sample::select(COLUMNS), json_value())
}

#[test]
fn database_rows_edited_by_hand_never_panic_nor_change_a_result() {
    let f = handle!(edited);
    let mut runner = runner(ROW_CASES);
    runner
        .run(&prop::collection::vec(row_edit(), 1..6), |edits| {
            let dir = data_dir();
            {
                let manager = open(dir.path());
                let _bound = manager.bind();
                (0..20).for_each(|n| {
                    edited(n);
                });
            }
            let db = rusqlite::Connection::open(dir.path().join("cacheow.db")).expect("the database");
            for (column, value) in &edits {
                let value = match value {
                    Value::Null => rusqlite::types::Value::Null,
                    Value::Bool(b) => rusqlite::types::Value::Integer(i64::from(*b)),
                    Value::Number(n) => n.as_i64().map_or_else(
                        || rusqlite::types::Value::Real(n.as_f64().unwrap_or(0.0)),
                        rusqlite::types::Value::Integer,
                    ),
                    Value::String(s) => rusqlite::types::Value::Text(s.clone()),
                    other => rusqlite::types::Value::Blob(other.to_string().into_bytes()),
                };
                // Some edits break a constraint, and SQLite refuses them.
                let _ = db.execute(
                    &format!("UPDATE outcomes SET {column} = ?1 WHERE seq IN (SELECT seq FROM outcomes LIMIT 5)"),
                    [value],
                );
            }
            drop(db);
            let ran = || EDITED_RAN.load(std::sync::atomic::Ordering::SeqCst);
            for open_again in [false, true] {
                let manager = open(dir.path());
                let _bound = manager.bind();
                f.set_mode(Mode::Cache).expect("set_mode");
                let before = ran();
                // The files are there: every outcome replays, edited rows or not.
                for n in 0..20 {
                    prop_assert_eq!(edited(n), n * 3);
                }
                prop_assert_eq!(ran(), before, "nothing ran (opened again: {})", open_again);
                manager.flush();
            }
            // And the rows were made again: all there, all readable.
            let db = rusqlite::Connection::open(dir.path().join("cacheow.db")).expect("the database");
            let readable: i64 = db
                .query_row(
                    "SELECT COUNT(*) FROM outcomes WHERE typeof(facts) = 'blob' AND length(facts) = 29
                     AND typeof(count) = 'integer' AND typeof(last_seen_ms) = 'integer'",
                    [],
                    |row| row.get(0),
                )
                .expect("the count");
            prop_assert_eq!(readable, 20);
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
}
