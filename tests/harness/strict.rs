//! Strict replay: a test that leaves recorded calls of its fixtures
//! unplayed fails, naming them.

use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

use cacheow::cacheow;
use cacheow_test::{Record, Scope};

use crate::{panic_message, tree};

#[cacheow]
fn price(n: u64) -> u64 {
    n * 10
}

#[cacheow]
fn inner_rate(n: u64) -> u64 {
    n + 1
}

#[cacheow]
fn outer_total(n: u64) -> u64 {
    inner_rate(n) * 2
}

fn scope(root: &Path, record: Record) -> Scope {
    Scope::new("harness::strict::prices").fixtures_dir(root).force_record(record)
}

/// What a strict run of `f` in `record` mode panicked with, if it did.
fn strict_failure(root: &Path, record: Record, f: impl FnOnce()) -> Option<String> {
    panic::catch_unwind(AssertUnwindSafe(|| scope(root, record).strict(true).run(f))).err().map(panic_message)
}

#[test]
fn a_strict_test_fails_on_each_recorded_call_it_did_not_make() {
    let root = tempfile::tempdir().expect("a temporary dir");
    scope(root.path(), Record::Once).run(|| {
        price(1);
        price(2);
        price(2);
    });

    let message = strict_failure(root.path(), Record::None, || {
        price(1);
    })
    .expect("two calls are unplayed");
    assert!(message.contains("`harness::strict::prices` is strict, and left 2 recorded call(s)"), "{message}");
    assert!(message.contains("`harness::strict::price` with the arguments {\"n\":2}, call 0 ("), "{message}");
    assert!(message.contains("`harness::strict::price` with the arguments {\"n\":2}, call 1 ("), "{message}");
    assert!(message.contains("CACHEOW_RECORD=all cargo test strict::prices"), "{message}");

    let message = strict_failure(root.path(), Record::None, || {
        (1..=2).for_each(|n| {
            price(n);
        })
    })
    .expect("the second call of price(2) is unplayed");
    assert!(message.contains("left 1 recorded call(s)"), "{message}");
    assert!(message.contains("{\"n\":2}, call 1 ("), "{message}");

    assert_eq!(
        strict_failure(root.path(), Record::None, || [1, 2, 2].into_iter().for_each(|n| {
            price(n);
        })),
        None
    );
    // Not strict, the same replay of one call passes.
    scope(root.path(), Record::None).run(|| assert_eq!(price(1), 10));
}

#[test]
fn a_strict_failure_saves_nothing_and_all_mode_is_never_strict() {
    let root = tempfile::tempdir().expect("a temporary dir");
    scope(root.path(), Record::Once).run(|| {
        price(1);
    });
    let before = tree(&scope(root.path(), Record::Once).fixture_dir());

    let message = strict_failure(root.path(), Record::Once, || {
        price(3);
    })
    .expect("price(1) is unplayed");
    assert!(message.contains("{\"n\":1}, call 0"), "{message}");
    assert_eq!(tree(&scope(root.path(), Record::Once).fixture_dir()), before, "price(3) was not written");

    assert_eq!(
        strict_failure(root.path(), Record::All, || {
            price(3);
        }),
        None
    );
}

#[test]
fn calls_recorded_inside_another_are_not_expected_again() {
    let root = tempfile::tempdir().expect("a temporary dir");
    scope(root.path(), Record::Once).run(|| assert_eq!(outer_total(4), 10));
    let files = tree(&scope(root.path(), Record::Once).fixture_dir());
    let nested: Vec<bool> =
        files.iter().map(|(_, bytes)| String::from_utf8_lossy(bytes).contains("\"nested\": true")).collect();
    assert_eq!(nested.iter().filter(|nested| **nested).count(), 1, "inner_rate's outcome only: {files:?}");

    // The outer call replays, so the inner one is not made: that is no loss.
    assert_eq!(strict_failure(root.path(), Record::None, || assert_eq!(outer_total(4), 10)), None);
    // Called at the top level too, it is expected from then on.
    scope(root.path(), Record::Once).run(|| {
        outer_total(4);
        inner_rate(4);
    });
    let message = strict_failure(root.path(), Record::None, || {
        outer_total(4);
    })
    .expect("inner_rate(4) is unplayed");
    assert!(message.contains("`harness::strict::inner_rate` with the arguments {\"n\":4}, call 0"), "{message}");
}

/// Replays one of the two calls it records: fine, unless strict.
#[test]
fn replaying_one_of_two_recorded_calls() {
    let root = tempfile::tempdir().expect("a temporary dir");
    scope(root.path(), Record::Once).run(|| {
        (5..7).for_each(|n| {
            price(n);
        })
    });
    scope(root.path(), Record::None).run(|| assert_eq!(price(5), 50));
}

#[test]
fn cacheow_strict_makes_every_test_strict() {
    let rerun = std::process::Command::new(std::env::current_exe().expect("this test binary"))
        .args(["strict::replaying_one_of_two_recorded_calls", "--exact"])
        .env("CACHEOW_STRICT", "1")
        .output()
        .expect("the test runs");
    let stdout = String::from_utf8_lossy(&rerun.stdout);
    assert!(!rerun.status.success(), "{stdout}");
    assert!(stdout.contains("left 1 recorded call(s) of its fixtures unplayed"), "{stdout}");
    assert!(stdout.contains("{\"n\":6}, call 0"), "{stdout}");

    let rerun = std::process::Command::new(std::env::current_exe().expect("this test binary"))
        .args(["strict::replaying_one_of_two_recorded_calls", "--exact"])
        .env("CACHEOW_STRICT", "sometimes")
        .output()
        .expect("the test runs");
    let stdout = String::from_utf8_lossy(&rerun.stdout);
    assert!(stdout.contains("CACHEOW_STRICT=\"sometimes\" is not valid: expected `1` or `true`"), "{stdout}");
}
