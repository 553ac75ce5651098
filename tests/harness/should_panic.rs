//! `#[should_panic]` tests: a fixture they lack must not pass for the panic
//! they expect.

use cacheow::cacheow;
use cacheow_test::cacheow_test;

#[cacheow]
fn quadruple(n: u64) -> u64 {
    n * 4
}

#[cacheow_test]
#[should_panic(expected = "too big")]
fn expected_panic_below() {
    assert!(quadruple(3) < 10, "too big");
}

#[should_panic(expected = "too big")]
#[cacheow_test]
fn expected_panic_above() {
    assert!(quadruple(4) < 10, "too big");
}

/// Runs the two tests above again, with no fixtures and record mode `none`,
/// as CI would after someone forgot to commit them: both fail, and say why.
#[test]
fn a_missing_fixture_fails_a_should_panic_test() {
    let empty = tempfile::tempdir().expect("a temporary dir");
    let rerun = std::process::Command::new(std::env::current_exe().expect("this test binary"))
        .args(["should_panic::expected_panic_", "--test-threads=1"])
        .env("CACHEOW_RECORD", "none")
        .env("CACHEOW_FIXTURES_DIR", empty.path())
        .output()
        .expect("the tests run");
    let stdout = String::from_utf8_lossy(&rerun.stdout);
    let stderr = String::from_utf8_lossy(&rerun.stderr);
    assert!(!rerun.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("test result: FAILED. 0 passed; 2 failed"), "{stdout}");
    let reason = "this #[should_panic] test panicked for a fixture it lacks, not for the panic it expects";
    assert_eq!(stdout.matches(reason).count(), 2, "{stdout}");
    assert!(stdout.contains("no recorded outcome for call 0 of `harness::should_panic::quadruple`"), "{stdout}");
    assert!(stdout.contains("note: test did not panic as expected"), "{stdout}");
}

/// Recorded with the fixture missing (record mode `once`): a test that
/// panics as it expects has passed, so its fixtures are written.
#[test]
fn a_should_panic_test_that_passes_saves_its_fixtures() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let rerun = std::process::Command::new(std::env::current_exe().expect("this test binary"))
        .args(["should_panic::expected_panic_below", "--exact"])
        .env("CACHEOW_RECORD", "once")
        .env("CACHEOW_FIXTURES_DIR", root.path())
        .output()
        .expect("the test runs");
    let stdout = String::from_utf8_lossy(&rerun.stdout);
    assert!(rerun.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&rerun.stderr));
    let written = crate::tree(&root.path().join("harness/should_panic/expected_panic_below"));
    assert_eq!(written.len(), 1, "{written:?}");
    let fixture: serde_json::Value = serde_json::from_slice(&written[0].1).expect("a fixture");
    assert_eq!(fixture["value"], 12, "{fixture}");
}
