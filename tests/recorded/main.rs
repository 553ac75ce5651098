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

use std::path::{Path, PathBuf};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a directory");
    for entry in std::fs::read_dir(from).expect("readable").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("a copy");
        }
    }
}

/// Every file below `dir`, with its bytes.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files
                .extend(tree(&path).into_iter().map(|(file, bytes)| (Path::new(&entry.file_name()).join(file), bytes)));
        } else {
            files.push((PathBuf::from(entry.file_name()), std::fs::read(&path).unwrap_or_default()));
        }
    }
    files.sort();
    files
}

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
