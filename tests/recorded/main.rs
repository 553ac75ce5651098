//! The project's own tests of expensive and external functions, recorded
//! with cacheow-test: a slow computation, an HTTP server the test starts,
//! and a child process. Their fixtures are committed under
//! `fixtures/recorded/`; CI replays them (`CI` set: record mode `none`).
//!
//! Re-record them with `CACHEOW_RECORD=all cargo test --test recorded`;
//! unchanged code leaves `git status` clean.

mod http;
mod process;
mod slow;

#[path = "../support/fs.rs"]
mod fs;

use std::path::Path;

use fs::{copy_dir, tree};

/// Runs the HTTP and child process tests again, in `all` mode, on a copy of
/// their fixtures: they call the server and the program, and write the same
/// bytes.
#[test]
fn recording_again_leaves_the_fixtures_byte_for_byte() {
    let committed = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"));
    let root = tempfile::tempdir().expect("a temporary dir");
    for suite in ["recorded/http", "recorded/process"] {
        copy_dir(&committed.join(suite), &root.path().join(suite));
    }
    // A stale outcome that `all` must remove: proof the tests did record.
    let process_dir = root.path().join("recorded/process/runs_a_child_process");
    let function_dir = std::fs::read_dir(&process_dir).expect("readable").flatten().next().expect("a function");
    let stale = function_dir.path().join("00000000000000ff.json");
    std::fs::write(&stale, r#"{"kind": "return", "args": {}, "value": "stale"}"#).expect("a file");
    let rerun = std::process::Command::new(std::env::current_exe().expect("this test binary"))
        .args(["http::", "process::"])
        .env("CACHEOW_RECORD", "all")
        .env("CACHEOW_FIXTURES_DIR", root.path())
        .output()
        .expect("the tests run");
    let stdout = String::from_utf8_lossy(&rerun.stdout);
    assert!(rerun.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&rerun.stderr));
    assert!(stdout.contains("test result: ok. 4 passed"), "{stdout}");
    assert!(!stale.exists(), "`all` rewrote the fixtures");
    for suite in ["recorded/http", "recorded/process"] {
        assert_eq!(tree(&root.path().join(suite)), tree(&committed.join(suite)), "{suite}");
    }
}
