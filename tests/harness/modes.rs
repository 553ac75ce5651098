//! The record modes, failures, call order and determinism.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

use cacheow::cacheow;
use cacheow_test::{Record, Scope};
use tempfile::TempDir;

use crate::{panic_message, tree};

static DOUBLE_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn double(n: u64) -> u64 {
    DOUBLE_RAN.fetch_add(1, SeqCst);
    n * 2
}

fn scope(root: &TempDir, record: Record) -> Scope {
    Scope::new("harness::modes::doubles").fixtures_dir(root.path()).force_record(record)
}

#[test]
fn once_records_what_the_fixtures_lack_none_replays_all_rewrites() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let ran = || DOUBLE_RAN.load(SeqCst);

    scope(&root, Record::Once).run(|| assert_eq!(double(2), 4));
    assert_eq!(ran(), 1);
    let dir = scope(&root, Record::Once).fixture_dir();
    assert!(dir.ends_with("harness/modes/doubles"), "{dir:?}");
    assert_eq!(tree(&dir).len(), 1, "one outcome file");

    scope(&root, Record::Once).run(|| assert_eq!((double(2), double(3)), (4, 6)));
    assert_eq!(ran(), 2, "only double(3) was missing");

    scope(&root, Record::None).run(|| assert_eq!((double(3), double(2)), (6, 4)));
    assert_eq!(ran(), 2, "none replays without calling");

    scope(&root, Record::All).run(|| assert_eq!(double(3), 6));
    assert_eq!(ran(), 3, "all calls everything");
    let files = tree(&dir);
    assert_eq!(files.len(), 1, "what this run did not use is removed");
    assert!(String::from_utf8_lossy(&files[0].1).contains("\"n\": 3"));
}

static DRAW_RAN: AtomicU64 = AtomicU64::new(0);

/// Another value each call: the order of replays matters.
#[cacheow]
fn draw(deck: &str) -> String {
    let n = DRAW_RAN.fetch_add(1, SeqCst);
    format!("{deck} card {}", n % 2)
}

#[test]
fn repeated_calls_replay_in_recorded_order_and_a_missing_one_fails() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let scope = |record| Scope::new("harness::modes::draws").fixtures_dir(root.path()).force_record(record);
    let recorded = scope(Record::Once).run(|| vec![draw("red"), draw("red"), draw("red")]);
    assert_eq!(recorded, ["red card 0", "red card 1", "red card 0"]);
    // The first and third calls gave the same outcome: one file.
    assert_eq!(tree(&scope(Record::Once).fixture_dir()).len(), 2);

    let replayed = scope(Record::None).run(|| vec![draw("red"), draw("red"), draw("red")]);
    assert_eq!(replayed, recorded);
    assert_eq!(DRAW_RAN.load(SeqCst), 3);

    let fourth =
        std::panic::catch_unwind(|| scope(Record::None).run(|| (0..4).map(|_| draw("red")).collect::<Vec<_>>()));
    let message = panic_message(fourth.expect_err("a fourth call has no recording"));
    assert!(message.contains("no recorded outcome for call 3 of"), "{message}");
}

static MISSING_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn fetch_price(item: &str, quantity: u32) -> u64 {
    MISSING_RAN.fetch_add(1, SeqCst);
    u64::from(quantity) * item.len() as u64
}

#[test]
fn a_missing_fixture_in_none_mode_says_what_how_and_where() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let scope = Scope::new("harness::modes::prices").fixtures_dir(root.path()).force_record(Record::None);
    let dir = scope.fixture_dir();
    let failed = std::panic::catch_unwind(|| scope.run(|| fetch_price("apple", 3)));
    let message = panic_message(failed.expect_err("nothing is recorded"));
    for expected in [
        "harness::modes::fetch_price".to_owned(),
        r#"{"item":"apple","quantity":3}"#.to_owned(),
        dir.display().to_string(),
        "CACHEOW_RECORD=once cargo test modes::prices".to_owned(),
    ] {
        assert!(message.contains(&expected), "{expected:?} is missing from: {message}");
    }
    assert_eq!(MISSING_RAN.load(SeqCst), 0, "nothing was called");
    assert!(!dir.exists(), "nothing was written");
}

static FAILING_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn lookup(id: u32) -> u32 {
    FAILING_RAN.fetch_add(1, SeqCst);
    id + 1
}

#[test]
fn a_failing_test_saves_nothing_unless_asked() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let scope =
        |name: &str| Scope::new(format!("harness::modes::{name}")).fixtures_dir(root.path()).force_record(Record::Once);

    let panicked = std::panic::catch_unwind(|| scope("panics").run(|| assert_eq!(lookup(1), 3)));
    assert!(panicked.is_err());
    assert!(!scope("panics").fixture_dir().exists(), "a panicking test saves nothing");

    let failed: Result<(), String> =
        scope("errs").run_test(|| if lookup(2) == 3 { Err("failed".to_owned()) } else { Ok(()) });
    assert!(failed.is_err());
    assert!(!scope("errs").fixture_dir().exists(), "a test returning Err saves nothing");

    let _ = std::panic::catch_unwind(|| scope("saves").save_on_failure(true).run(|| assert_eq!(lookup(3), 5)));
    assert_eq!(tree(&scope("saves").fixture_dir()).len(), 1, "unless asked");
}

#[cacheow]
fn describe(values: std::collections::HashMap<String, f64>) -> Vec<(String, f64)> {
    let mut sorted: Vec<(String, f64)> = values.into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted
}

#[test]
fn recording_the_same_behaviour_twice_gives_the_same_bytes() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let run = || {
        Scope::new("harness::modes::twice").fixtures_dir(root.path()).force_record(Record::All).run(|| {
            for n in 0..5u32 {
                // A fresh HashMap each time: its iteration order varies.
                let values = (0..10).map(|i| (format!("k{i}"), f64::from(n * i))).collect();
                describe(values);
            }
        });
        tree(root.path())
    };
    let first = run();
    assert_eq!(first.len(), 5);
    assert_eq!(run(), first);
    let text = String::from_utf8_lossy(&first[0].1).into_owned();
    assert!(!text.contains("recorded_at") && !text.contains("duration_ms"), "{text}");
}

#[cacheow]
fn inner(n: u64) -> u64 {
    n + 1
}

#[cacheow]
fn outer(n: u64) -> u64 {
    inner(n) * 2
}

/// The calls a snapshot would show, without their durations.
fn snapshot_calls() -> Vec<serde_json::Value> {
    let mut calls = serde_json::to_value(cacheow_test::__private::outcomes()).unwrap_or_default();
    calls.as_array_mut().into_iter().flatten().filter_map(serde_json::Value::as_object_mut).for_each(|call| {
        call.remove("duration_ms");
    });
    calls.as_array().cloned().unwrap_or_default()
}

#[test]
fn snapshots_show_the_same_calls_recording_or_replaying() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let scope = |record| Scope::new("harness::modes::nested").fixtures_dir(root.path()).force_record(record);
    let recorded = scope(Record::Once).run(|| {
        outer(1);
        outer(2);
        snapshot_calls()
    });
    let replayed = scope(Record::None).run(|| {
        outer(1);
        outer(2);
        snapshot_calls()
    });
    assert_eq!(recorded.len(), 2, "the inner calls would not be made when replaying: {recorded:?}");
    assert_eq!(replayed, recorded);
}

static PINNED_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn pinned(n: u64) -> u64 {
    PINNED_RAN.fetch_add(1, SeqCst);
    n * 100
}

#[test]
fn a_default_pin_is_never_recorded_and_a_mock_pin_records_what_it_lacks() {
    use cacheow::{Mode, handle};
    let root = tempfile::tempdir().expect("a temporary dir");
    let scope = |name: &str, record| {
        Scope::new(format!("harness::modes::{name}")).fixtures_dir(root.path()).force_record(record)
    };

    let called = scope("default", Record::Once).pin(handle!(pinned), Mode::Default).run(|| (pinned(1), pinned(1)));
    assert_eq!((called, PINNED_RAN.load(SeqCst)), ((100, 100), 2), "called every time");
    assert!(!scope("default", Record::Once).fixture_dir().exists(), "and never recorded");

    let mock = |record| scope("mock", record).pin(handle!(pinned), Mode::Mock);
    assert_eq!(mock(Record::Once).run(|| pinned(2)), 200, "nothing to replay: called and recorded");
    assert_eq!(mock(Record::None).run(|| pinned(3)), 200, "then replayed for any arguments");
    assert_eq!(PINNED_RAN.load(SeqCst), 3);
}

static CACHED_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn cached_in_test(n: u64) -> u64 {
    CACHED_RAN.fetch_add(1, SeqCst);
    n * 10 + CACHED_RAN.load(SeqCst)
}

#[test]
fn a_cache_pin_caches_within_the_test_that_records() {
    use cacheow::{Mode, handle};
    let root = tempfile::tempdir().expect("a temporary dir");
    let scope = |record| {
        Scope::new("harness::modes::cache_pin")
            .fixtures_dir(root.path())
            .force_record(record)
            .pin(handle!(cached_in_test), Mode::Cache)
    };
    let (a, b) = scope(Record::Once).run(|| (cached_in_test(5), cached_in_test(5)));
    assert_eq!((a, b, CACHED_RAN.load(SeqCst)), (51, 51, 1), "one real call, the second a hit");
    let (c, d) = scope(Record::None).run(|| (cached_in_test(5), cached_in_test(5)));
    assert_eq!((c, d, CACHED_RAN.load(SeqCst)), (51, 51, 1), "replayed, both");
}

#[cacheow_test::cacheow_test]
fn a_cacheow_test_needs_no_cacheow_enable_nor_data_dir() {
    assert_eq!(inner(41), 42);
    if std::env::var_os("CACHEOW_ENABLE").is_none() {
        assert!(cacheow::manager().is_none(), "no data dir, no thread, no control panel");
    }
}

static PAGES_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn pages(book: &str) -> impl Iterator<Item = String> {
    PAGES_RAN.fetch_add(1, SeqCst);
    let book = book.to_owned();
    (1..=3).map(move |n| format!("{book} p{n}"))
}

#[cacheow]
fn refuses(n: u64) -> u64 {
    assert!(n > 0, "zero refused");
    n
}

#[test]
fn iterators_and_panics_are_fixtures_too() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let scope = |record| Scope::new("harness::modes::sequences").fixtures_dir(root.path()).force_record(record);
    let read = || {
        let pages: Vec<String> = pages("odyssey").collect();
        let refused = std::panic::catch_unwind(|| refuses(0)).is_err();
        (pages, refused)
    };
    let recorded = scope(Record::Once).run(read);
    assert_eq!(recorded, (vec!["odyssey p1".into(), "odyssey p2".into(), "odyssey p3".into()], true));
    let files = tree(&scope(Record::Once).fixture_dir());
    let text: String = files.iter().map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned()).collect();
    assert!(text.contains("\"kind\": \"items\"") && text.contains("\"kind\": \"panic\""), "{text}");

    assert_eq!(scope(Record::None).run(read), recorded, "replayed: the items, and the panic");
    assert_eq!(PAGES_RAN.load(SeqCst), 1);
}

static CHAPTERS_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn chapters(book: &str) -> impl Iterator<Item = String> {
    CHAPTERS_RAN.fetch_add(1, SeqCst);
    let book = book.to_owned();
    (1..=3).map(move |n| format!("{book} ch{n}"))
}

#[test]
fn a_sequence_the_test_stopped_early_replays_no_further_than_it_went() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let scope = |record| Scope::new("harness::modes::stopped_early").fixtures_dir(root.path()).force_record(record);
    let first = || chapters("iliad").next();
    assert_eq!(scope(Record::Once).run(first).as_deref(), Some("iliad ch1"));
    let files = tree(&scope(Record::Once).fixture_dir());
    let text: String = files.iter().map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned()).collect();
    assert!(text.contains("\"partial\": true"), "{text}");
    assert_eq!(scope(Record::None).run(first).as_deref(), Some("iliad ch1"), "replayed as far as it went");

    // The test now reads further than the fixture knows: it fails, and says
    // how to re-record, rather than end the sequence early.
    let further = std::panic::catch_unwind(|| scope(Record::None).run(|| chapters("iliad").count()));
    let message = crate::panic_message(further.expect_err("the test fails"));
    assert!(
        message.contains("holds the 1 item(s) the test consumed") && message.contains("CACHEOW_RECORD=all"),
        "{message}"
    );
    assert_eq!(CHAPTERS_RAN.load(SeqCst), 1);
}

static REQUESTED_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn requested(n: u64) -> u64 {
    REQUESTED_RAN.fetch_add(1, SeqCst);
    n + 100
}

#[test]
fn bypass_refresh_and_max_age_are_ignored_inside_a_test() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let scope = |record| Scope::new("harness::modes::requests").fixtures_dir(root.path()).force_record(record);
    let ran = || REQUESTED_RAN.load(SeqCst);
    let calls = || {
        let bypassed = cacheow::bypass(|| requested(1));
        let refreshed = cacheow::refresh(|| requested(2));
        let aged = cacheow::max_age(std::time::Duration::ZERO, || requested(3));
        (bypassed, refreshed, aged)
    };
    assert_eq!(scope(Record::Once).run(calls), (101, 102, 103));
    assert_eq!(ran(), 3);
    assert_eq!(tree(&scope(Record::Once).fixture_dir()).len(), 3, "recorded all the same");
    assert_eq!(scope(Record::None).run(calls), (101, 102, 103));
    assert_eq!(ran(), 3, "every call replayed its fixture: the test's record mode decides");
}
