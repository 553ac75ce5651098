//! Drift: fixtures know the body hash of the function that recorded them,
//! and `Record::Stale` records again only the calls of functions whose
//! fixtures another body recorded.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Mutex, MutexGuard};

use cacheow::admin::fixture_files::{function_dirs, outcome_files};
use cacheow::cacheow;
use cacheow_test::{Record, Scope};

static RATE_RAN: AtomicU64 = AtomicU64::new(0);
static TAX_RAN: AtomicU64 = AtomicU64::new(0);

/// The tests count the calls of shared functions: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cacheow]
fn rate(n: u64) -> u64 {
    RATE_RAN.fetch_add(1, SeqCst);
    n + 100
}

#[cacheow]
fn tax(n: u64) -> u64 {
    TAX_RAN.fetch_add(1, SeqCst);
    n / 2
}

fn scope(root: &Path, record: Record) -> Scope {
    Scope::new("harness::drift::rates").fixtures_dir(root).force_record(record)
}

/// The folder of `function`'s fixtures in the test's.
fn function_dir(root: &Path, function: &str) -> PathBuf {
    let test_dir = scope(root, Record::None).fixture_dir();
    std::fs::read_dir(&test_dir)
        .expect("the test's fixtures")
        .flatten()
        .map(|entry| entry.path())
        .find(|path| path.file_name().is_some_and(|name| name.to_string_lossy().starts_with(&format!("{function}-"))))
        .expect("the function's folder")
}

fn body_hashes(function_dir: &Path) -> String {
    std::fs::read_to_string(function_dir.join("body-hashes.txt")).unwrap_or_default()
}

#[test]
fn each_recorded_outcome_has_its_body_hash_beside_it() {
    let _serial = one_at_a_time();
    let root = tempfile::tempdir().expect("a temporary dir");
    scope(root.path(), Record::Once).run(|| (rate(1), rate(2)));
    let dir = function_dir(root.path(), "rate");
    let hash = cacheow::__harness::body_hash(cacheow::handle!(rate));
    let text = body_hashes(&dir);
    let lines: Vec<&str> = text.lines().filter(|line| !line.starts_with('#')).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines.iter().all(|line| line.ends_with(&format!(" {hash}"))), "{lines:?}");
    // The outcome files say nothing of it.
    for file in std::fs::read_dir(&dir).expect("the folder").flatten().map(|entry| entry.path()) {
        let text = std::fs::read_to_string(&file).expect("a file");
        assert!(!text.contains(hash) || file.ends_with("body-hashes.txt"), "{text}");
    }
}

#[test]
fn stale_records_again_the_calls_of_functions_another_body_recorded_and_replays_the_rest() {
    let _serial = one_at_a_time();
    let root = tempfile::tempdir().expect("a temporary dir");
    scope(root.path(), Record::Once).run(|| (rate(1), rate(1), tax(8)));
    let (rate_dir, tax_dir) = (function_dir(root.path(), "rate"), function_dir(root.path(), "tax"));
    let tax_before = body_hashes(&tax_dir);
    // An older body of `rate` recorded its outcome.
    let current = body_hashes(&rate_dir);
    as_if_another_body_recorded(&rate_dir, cacheow::__harness::body_hash(cacheow::handle!(rate)));

    let (rate_ran, tax_ran) = (RATE_RAN.load(SeqCst), TAX_RAN.load(SeqCst));
    let values = scope(root.path(), Record::Stale).run(|| (rate(1), rate(1), tax(8)));
    assert_eq!(values, (101, 101, 4));
    assert_eq!(RATE_RAN.load(SeqCst) - rate_ran, 2, "both calls of the stale function ran");
    assert_eq!(TAX_RAN.load(SeqCst) - tax_ran, 0, "the other function replayed");
    assert_eq!(body_hashes(&rate_dir), current, "recorded by the body of now");
    assert_eq!(body_hashes(&tax_dir), tax_before);

    // Not stale any more: a stale run replays everything.
    let rate_ran = RATE_RAN.load(SeqCst);
    scope(root.path(), Record::Stale).run(|| (rate(1), rate(1), tax(8)));
    assert_eq!(RATE_RAN.load(SeqCst), rate_ran);
}

#[test]
fn an_outcome_recorded_again_with_another_value_replaces_the_stale_one() {
    let _serial = one_at_a_time();
    let root = tempfile::tempdir().expect("a temporary dir");
    let dir = {
        scope(root.path(), Record::Once).run(|| rate(5));
        function_dir(root.path(), "rate")
    };
    // An older body gave another value, in a file of its own.
    let stale_file = dir.join("00000000000000ee.json");
    std::fs::write(&stale_file, r#"{"kind": "return", "args": {"n": 6}, "value": 1, "calls": [0]}"#).expect("a file");
    let hashes = body_hashes(&dir) + "00000000000000ee 00000000000000aa\n";
    std::fs::write(dir.join("body-hashes.txt"), &hashes).expect("an edit");
    assert_eq!(scope(root.path(), Record::None).run(|| rate(6)), 1, "replayed as recorded");

    assert_eq!(scope(root.path(), Record::Stale).run(|| (rate(5), rate(6))), (105, 106));
    assert!(!stale_file.exists(), "the outcome of the older body is gone");
    assert!(!body_hashes(&dir).contains("00000000000000ee"), "{}", body_hashes(&dir));
    assert_eq!(scope(root.path(), Record::None).run(|| rate(6)), 106);
}

static FLIP_OFFSET: AtomicU64 = AtomicU64::new(0);
static FLIP_CALLS: AtomicU64 = AtomicU64::new(0);

/// Heads, then tails, then heads: each call of it another side.
#[cacheow]
fn flip(coin: &str) -> String {
    let n = FLIP_CALLS.fetch_add(1, SeqCst) + FLIP_OFFSET.load(SeqCst);
    format!("{coin}: {}", if n.is_multiple_of(2) { "heads" } else { "tails" })
}

/// Makes the body hash of `function`'s fixtures another's.
fn as_if_another_body_recorded(dir: &Path, hash: &str) {
    let hashes = body_hashes(dir).replace(hash, "00000000000000aa");
    std::fs::write(dir.join("body-hashes.txt"), hashes).expect("an edit");
}

#[test]
fn outcomes_that_swap_calls_when_recorded_again_both_stay() {
    let _serial = one_at_a_time();
    let root = tempfile::tempdir().expect("a temporary dir");
    let scope = |record| Scope::new("harness::drift::flips").fixtures_dir(root.path()).force_record(record);
    FLIP_CALLS.store(0, SeqCst);
    FLIP_OFFSET.store(0, SeqCst);
    assert_eq!(scope(Record::Once).run(|| (flip("c"), flip("c"))), ("c: heads".into(), "c: tails".into()));
    let test_dir = scope(Record::None).fixture_dir();
    let dir = function_dirs(&test_dir).into_iter().next().expect("a folder");
    as_if_another_body_recorded(&dir, cacheow::__harness::body_hash(cacheow::handle!(flip)));

    FLIP_CALLS.store(0, SeqCst);
    FLIP_OFFSET.store(1, SeqCst);
    assert_eq!(scope(Record::Stale).run(|| (flip("c"), flip("c"))), ("c: tails".into(), "c: heads".into()));
    assert_eq!(scope(Record::None).run(|| (flip("c"), flip("c"))), ("c: tails".into(), "c: heads".into()));
}

#[test]
fn what_the_new_body_no_longer_gives_goes() {
    let _serial = one_at_a_time();
    let root = tempfile::tempdir().expect("a temporary dir");
    let scope = |record| Scope::new("harness::drift::taxes").fixtures_dir(root.path()).force_record(record);
    scope(Record::Once).run(|| (tax(10), tax(20)));
    let test_dir = scope(Record::None).fixture_dir();
    let dir = function_dirs(&test_dir).into_iter().next().expect("a folder");
    as_if_another_body_recorded(&dir, cacheow::__harness::body_hash(cacheow::handle!(tax)));

    scope(Record::Stale).run(|| tax(10));
    assert_eq!(outcome_files(&dir).len(), 1, "tax(20) is no longer called: its outcome went");
    assert!(!body_hashes(&dir).contains("00000000000000aa"), "nothing stale is left: {}", body_hashes(&dir));
    let ran = TAX_RAN.load(SeqCst);
    scope(Record::Stale).run(|| tax(10));
    assert_eq!(TAX_RAN.load(SeqCst), ran, "fresh now: replayed");
}
