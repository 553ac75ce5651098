//! `cacheow fixtures --unused`, against the fixtures of the tests in
//! `helpers`, which it runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Tests whose fixtures (`cacheow/fixtures/cli/fixtures/helpers/`) the
/// command inspects. They are ordinary tests too.
mod helpers {
    use cacheow::cacheow;
    use cacheow_test::cacheow_test;

    #[cacheow]
    fn area(width: u32, height: u32) -> u32 {
        width * height
    }

    #[cacheow_test]
    fn computes_an_area() {
        assert_eq!(area(2, 3), 6);
    }

    #[cacheow_test]
    fn computes_two_areas() {
        assert_eq!((area(1, 1), area(4, 5)), (1, 20));
    }
}

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

/// `cacheow fixtures --unused --dir <fixtures> <extra> -- <this test binary> helpers::`.
fn unused(fixtures: &Path, extra: &[&str]) -> Output {
    let this_binary = std::env::current_exe().expect("the test binary");
    Command::new(env!("CARGO_BIN_EXE_cacheow"))
        .args(["fixtures", "--unused", "--dir"])
        .arg(fixtures)
        .args(extra)
        .arg("--")
        .arg(this_binary)
        .arg("helpers::")
        .env("CACHEOW_FIXTURES_DIR", fixtures)
        .output()
        .expect("cacheow runs")
}

#[test]
fn reports_and_deletes_the_fixtures_no_test_uses() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let fixtures = root.path().join("fixtures");
    copy_dir(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures")), &fixtures);
    let helpers = fixtures.join("cli/fixtures/helpers");
    let function_dir = std::fs::read_dir(helpers.join("computes_an_area"))
        .expect("the fixtures of computes_an_area")
        .flatten()
        .next()
        .expect("its function directory")
        .file_name();
    // A renamed test left its fixtures behind; a test no longer asks for
    // one of its outcomes.
    let orphans: Vec<PathBuf> = vec![
        helpers.join("computes_a_volume").join(&function_dir).join("00000000000000aa.json"),
        helpers.join("computes_two_areas").join(&function_dir).join("00000000000000bb.json"),
    ];
    for orphan in &orphans {
        std::fs::create_dir_all(orphan.parent().expect("a parent")).expect("a directory");
        std::fs::write(orphan, r#"{"kind": "return", "args": {}, "value": 0}"#).expect("a file");
    }

    let checked = unused(&fixtures, &["--check"]);
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert_eq!(checked.status.code(), Some(1), "{stdout}\n{}", String::from_utf8_lossy(&checked.stderr));
    assert!(stdout.contains("2 fixtures in"), "{stdout}");
    assert!(stdout.contains("cli/fixtures/helpers/computes_a_volume\n"), "the whole test directory: {stdout}");
    assert!(
        stdout.contains(&format!("computes_two_areas/{}/00000000000000bb.json", function_dir.to_string_lossy())),
        "{stdout}"
    );

    let deleted = unused(&fixtures, &["--delete"]);
    assert!(deleted.status.success());
    assert!(orphans.iter().all(|orphan| !orphan.exists()), "{}", String::from_utf8_lossy(&deleted.stdout));
    assert!(!helpers.join("computes_a_volume").exists());

    let clean = unused(&fixtures, &["--check"]);
    assert!(clean.status.success(), "{}", String::from_utf8_lossy(&clean.stdout));
    assert!(String::from_utf8_lossy(&clean.stdout).contains("every fixture in"));
    assert!(helpers.join("computes_two_areas").join(&function_dir).exists(), "what tests use is kept");
}

#[test]
fn bad_arguments_get_a_clear_message() {
    let output = Command::new(env!("CARGO_BIN_EXE_cacheow"))
        .args(["fixtures", "--unused", "--dir", "/no/such/dir"])
        .output()
        .expect("cacheow runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/no/such/dir is not a directory"), "{stderr}");

    let output = Command::new(env!("CARGO_BIN_EXE_cacheow")).args(["fixtures"]).output().expect("cacheow runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--unused"));
}

#[test]
fn a_test_command_that_fails_deletes_nothing() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let fixtures = root.path().join("fixtures");
    copy_dir(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures")), &fixtures);
    let before = std::fs::read_dir(fixtures.join("cli/fixtures/helpers")).expect("readable").count();
    let output = Command::new(env!("CARGO_BIN_EXE_cacheow"))
        .args(["fixtures", "--unused", "--delete", "--dir"])
        .arg(&fixtures)
        .args(["--", "false"])
        .output()
        .expect("cacheow runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the tests did not all run"), "{stderr}");
    assert_eq!(std::fs::read_dir(fixtures.join("cli/fixtures/helpers")).expect("readable").count(), before);
}
