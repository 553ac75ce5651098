//! Review of re-recordings: `CACHEOW_RECORD=review` writes what changed as
//! pending files, never replayed; `cacheow fixtures review` shows each
//! change as a diff and accepts, rejects or skips it.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Mutex, MutexGuard};

use cacheow::cacheow;
use cacheow_test::{Record, Scope};

use crate::{text, tree};

static FACTOR: AtomicU64 = AtomicU64::new(10);
/// The tests set FACTOR: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cacheow]
fn quote(n: u64) -> u64 {
    n * FACTOR.load(SeqCst)
}

fn scope(fixtures: &Path, record: Record) -> Scope {
    Scope::new("cli::review::quotes").fixtures_dir(fixtures).force_record(record)
}

/// `quote(n)` replayed from the fixtures, or `None` when they lack it.
fn replayed(fixtures: &Path, n: u64) -> Option<u64> {
    std::panic::catch_unwind(|| scope(fixtures, Record::None).run(|| quote(n))).ok()
}

fn cacheow_fixtures(fixtures: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cacheow"))
        .arg("fixtures")
        .args(args)
        .arg("--dir")
        .arg(fixtures)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cacheow runs");
    child.stdin.take().expect("its stdin").write_all(stdin.as_bytes()).expect("the answers");
    child.wait_with_output().expect("cacheow ends")
}

/// Records quote(1) and quote(2) at FACTOR 10, then reviews a run at
/// FACTOR 20 that calls quote(1) and quote(3): one changed, one removed,
/// one new.
fn reviewed(fixtures: &Path) {
    FACTOR.store(10, SeqCst);
    scope(fixtures, Record::Once).run(|| (quote(1), quote(2)));
    FACTOR.store(20, SeqCst);
    assert_eq!(scope(fixtures, Record::Review).run(|| (quote(1), quote(3))), (20, 60), "a review run calls");
}

#[test]
fn a_review_run_writes_pending_files_that_never_replay() {
    let _serial = one_at_a_time();
    let root = tempfile::tempdir().expect("a temporary dir");
    let fixtures = root.path();
    FACTOR.store(10, SeqCst);
    scope(fixtures, Record::Once).run(|| (quote(1), quote(2)));
    let before = tree(fixtures);
    FACTOR.store(20, SeqCst);
    scope(fixtures, Record::Review).run(|| (quote(1), quote(3)));

    let files: Vec<String> = tree(fixtures).iter().map(|(path, _)| path.display().to_string()).collect();
    assert_eq!(files.iter().filter(|file| file.ends_with(".json.pending")).count(), 2, "{files:?}");
    assert_eq!(files.iter().filter(|file| file.ends_with(".json.pending-removal")).count(), 2, "{files:?}");
    let outcomes: Vec<_> =
        tree(fixtures).into_iter().filter(|(path, _)| path.extension().is_some_and(|e| e == "json")).collect();
    assert_eq!(outcomes, before, "the fixtures are as they were");
    assert_eq!((replayed(fixtures, 1), replayed(fixtures, 2), replayed(fixtures, 3)), (Some(10), Some(20), None));

    let listed = cacheow_fixtures(fixtures, &["--pending", "--check"], "");
    assert_eq!(listed.status.code(), Some(1), "{}", text(&listed));
    assert!(text(&listed).contains("3 pending change(s)"), "{}", text(&listed));

    // Scrubbing secrets waits for the review: a pending file would keep them.
    let redact = cacheow_fixtures(fixtures, &["redact", "--field", "n"], "");
    assert_eq!(redact.status.code(), Some(2), "{}", text(&redact));
    assert!(text(&redact).contains("is a pending change of a review run"), "{}", text(&redact));

    // A review run that finds nothing changed leaves nothing pending.
    FACTOR.store(10, SeqCst);
    scope(fixtures, Record::Review).run(|| (quote(1), quote(2)));
    let listed = cacheow_fixtures(fixtures, &["--pending", "--check"], "");
    assert!(listed.status.success(), "{}", text(&listed));
    assert_eq!(tree(fixtures), before);
}

#[test]
fn review_shows_each_change_and_accepts_rejects_or_skips_it() {
    let _serial = one_at_a_time();
    let root = tempfile::tempdir().expect("a temporary dir");
    let fixtures = root.path();
    reviewed(fixtures);

    // In argument order: quote(1) changed, quote(2) removed, quote(3) new.
    let review = cacheow_fixtures(fixtures, &["review"], "a\nmaybe\nr\ns\n");
    let said = text(&review);
    assert!(review.status.success(), "{said}");
    assert!(said.contains("[1/3] cli/review/quotes/quote-"), "{said}");
    assert!(said.contains("with the arguments {\"n\":1}"), "{said}");
    assert!(said.contains("    value: was 10, now 20"), "{said}");
    assert!(said.contains("no longer given, removed"), "{said}");
    assert!(said.contains("new, the value 60"), "{said}");
    assert!(said.contains("1 accepted, 1 rejected, 1 left pending"), "{said}");
    assert_eq!((replayed(fixtures, 1), replayed(fixtures, 2), replayed(fixtures, 3)), (Some(20), Some(20), None));

    let accepted = cacheow_fixtures(fixtures, &["review", "--accept-all"], "");
    assert!(text(&accepted).contains("1 accepted, 0 rejected, 0 left pending"), "{}", text(&accepted));
    assert_eq!(replayed(fixtures, 3), Some(60));
    let hashes = std::fs::read_dir(scope(fixtures, Record::None).fixture_dir())
        .expect("the test's fixtures")
        .flatten()
        .map(|entry| std::fs::read_to_string(entry.path().join("body-hashes.txt")).unwrap_or_default())
        .collect::<String>();
    assert_eq!(hashes.lines().filter(|line| !line.starts_with('#')).count(), 3, "{hashes}");
    let listed = cacheow_fixtures(fixtures, &["--pending", "--check"], "");
    assert!(listed.status.success(), "{}", text(&listed));
}

#[test]
fn fixtures_written_again_outdate_what_was_pending() {
    let _serial = one_at_a_time();
    let root = tempfile::tempdir().expect("a temporary dir");
    let fixtures = root.path();
    reviewed(fixtures);
    scope(fixtures, Record::All).run(|| (quote(1), quote(3)));
    let listed = cacheow_fixtures(fixtures, &["--pending", "--check"], "");
    assert!(listed.status.success(), "{}", text(&listed));
    assert_eq!((replayed(fixtures, 1), replayed(fixtures, 2), replayed(fixtures, 3)), (Some(20), None, Some(60)));
}

#[test]
fn reject_all_leaves_the_fixtures_as_they_were() {
    let _serial = one_at_a_time();
    let root = tempfile::tempdir().expect("a temporary dir");
    let fixtures = root.path();
    FACTOR.store(10, SeqCst);
    scope(fixtures, Record::Once).run(|| (quote(1), quote(2)));
    let before = std::fs::read_dir(fixtures).map(|_| tree(fixtures)).expect("the fixtures");
    reviewed(fixtures);
    let rejected = cacheow_fixtures(fixtures, &["review", "--reject-all"], "");
    assert!(text(&rejected).contains("0 accepted, 3 rejected, 0 left pending"), "{}", text(&rejected));
    assert_eq!(tree(fixtures), before);
}
