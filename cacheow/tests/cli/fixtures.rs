//! `cacheow fixtures --unused`, against the fixtures of the tests in
//! `helpers`, which it runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::{copy_dir, text, tree};

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

    /// Ignored, as a slow test would be: a run that skips it must keep its
    /// fixtures. `ignored_tests_and_absent_ones_keep_their_folders` runs it.
    #[cacheow_test]
    #[test]
    #[ignore = "run by ignored_tests_and_absent_ones_keep_their_folders, with --include-ignored"]
    fn computes_a_square() {
        assert_eq!(area(3, 3), 9);
    }
}

/// `cacheow fixtures --unused --dir <fixtures> <extra> -- <this test
/// binary> helpers:: <test_args>`.
fn unused(fixtures: &Path, extra: &[&str], test_args: &[&str]) -> Output {
    let this_binary = std::env::current_exe().expect("the test binary");
    Command::new(env!("CARGO_BIN_EXE_cacheow"))
        .args(["fixtures", "--unused", "--dir"])
        .arg(fixtures)
        .args(extra)
        .arg("--")
        .arg(this_binary)
        .arg("helpers::")
        .args(test_args)
        .env("CACHEOW_FIXTURES_DIR", fixtures)
        .output()
        .expect("cacheow runs")
}

/// A copy of the committed fixtures, the folder of the helpers' fixtures in
/// it, and the name of `area`'s function folder.
fn copied_fixtures(root: &Path) -> (PathBuf, PathBuf, std::ffi::OsString) {
    let fixtures = root.join("fixtures");
    copy_dir(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures")), &fixtures);
    let helpers = fixtures.join("cli/fixtures/helpers");
    let function_dir = std::fs::read_dir(helpers.join("computes_an_area"))
        .expect("the fixtures of computes_an_area")
        .flatten()
        .next()
        .expect("its function directory")
        .file_name();
    (fixtures, helpers, function_dir)
}

fn write_outcome(path: &Path) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("a directory");
    std::fs::write(path, r#"{"kind": "return", "args": {}, "value": 0}"#).expect("a file");
}

#[test]
fn reports_and_deletes_the_outcomes_tests_that_ran_no_longer_use() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let (fixtures, helpers, function_dir) = copied_fixtures(root.path());
    // A test no longer asks for one of its outcomes.
    let orphan = helpers.join("computes_two_areas").join(&function_dir).join("00000000000000bb.json");
    write_outcome(&orphan);

    let checked = unused(&fixtures, &["--check"], &[]);
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert_eq!(checked.status.code(), Some(1), "{}", text(&checked));
    assert!(stdout.contains("1 outcome file in"), "{stdout}");
    let listed = format!("computes_two_areas/{}/00000000000000bb.json", function_dir.to_string_lossy());
    assert!(stdout.contains(&listed), "{stdout}");

    let deleted = unused(&fixtures, &["--delete"], &[]);
    assert!(deleted.status.success(), "{}", text(&deleted));
    assert!(!orphan.exists(), "{}", text(&deleted));

    let clean = unused(&fixtures, &["--check"], &[]);
    assert!(clean.status.success(), "{}", text(&clean));
    assert!(String::from_utf8_lossy(&clean.stdout).contains("every fixture of the tests that ran is used"));
    assert!(helpers.join("computes_two_areas").join(&function_dir).exists(), "what tests use is kept");
}

#[test]
fn ignored_tests_and_absent_ones_keep_their_folders() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let (fixtures, helpers, function_dir) = copied_fixtures(root.path());
    // The folder of a test this binary lacks: renamed, or behind a feature
    // the run did not enable. The run cannot tell which.
    let absent = helpers.join("computes_a_volume").join(&function_dir).join("00000000000000aa.json");
    write_outcome(&absent);
    let ignored = helpers.join("computes_a_square");
    let ignored_files = tree(&ignored);
    assert_eq!(ignored_files.len(), 1, "the ignored test's fixture is committed");

    let deleted = unused(&fixtures, &["--delete"], &[]);
    let stdout = String::from_utf8_lossy(&deleted.stdout);
    assert!(deleted.status.success(), "{}", text(&deleted));
    assert!(stdout.contains("2 test folders were not run by"), "{stdout}");
    assert!(stdout.contains("(the features its binaries were built with), so they are kept"), "{stdout}");
    assert!(stdout.contains("cli/fixtures/helpers/computes_a_square (not run)"), "{stdout}");
    assert!(stdout.contains("cli/fixtures/helpers/computes_a_volume (not run)"), "{stdout}");
    assert!(absent.exists(), "a folder no test touched is never deleted");
    assert_eq!(tree(&ignored), ignored_files, "nor is an ignored test's");

    // Run as well, the ignored test uses its fixture.
    let all = unused(&fixtures, &["--check"], &["--include-ignored"]);
    let stdout = String::from_utf8_lossy(&all.stdout);
    assert!(all.status.success(), "{}", text(&all));
    assert!(stdout.contains("1 test folder was not run by"), "{stdout}");
    assert!(!stdout.contains("computes_a_square (not run)"), "{stdout}");
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
fn a_failed_test_deletes_nothing_and_says_a_test_failed() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let (fixtures, helpers, function_dir) = copied_fixtures(root.path());
    let orphan = helpers.join("computes_two_areas").join(&function_dir).join("00000000000000bb.json");
    write_outcome(&orphan);
    // computes_an_area fails in record mode `none` without its fixture.
    std::fs::remove_dir_all(helpers.join("computes_an_area")).expect("removed");
    let before = tree(&helpers);

    let output = unused(&fixtures, &["--delete"], &[]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error: a test failed (`"), "{stderr}");
    assert!(stderr.contains("nothing was listed nor deleted"), "{stderr}");
    assert_eq!(tree(&helpers), before);

    let output = unused(&fixtures, &["--delete"], &["--exact"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no #[cacheow_test] test of it ran"), "{}", text(&output));
    assert_eq!(tree(&helpers), before);
}

/// `git` in `dir`, committing as a test would, at `date` when given.
fn git(dir: &Path, args: &[&str], date: Option<&str>) {
    let mut command = Command::new("git");
    command.arg("-C").arg(dir).args(["-c", "user.name=cacheow", "-c", "user.email=cacheow@example.com"]).args(args);
    if let Some(date) = date {
        command.env("GIT_COMMITTER_DATE", date).env("GIT_AUTHOR_DATE", date);
    }
    let output = command.output().expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", text(&output));
}

#[test]
fn older_than_lists_the_fixtures_git_last_committed_before_then() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let fixtures = root.path().join("fixtures");
    let function_dir = "area-0123456789abcdef";
    let old = fixtures.join("app/tests/old_one").join(function_dir).join("00000000000000aa.json");
    let recent = fixtures.join("app/tests/recent_one").join(function_dir).join("00000000000000bb.json");
    let uncommitted = fixtures.join("app/tests/new_one").join(function_dir).join("00000000000000cc.json");
    git(root.path(), &["init", "--quiet"], None);
    write_outcome(&old);
    git(root.path(), &["add", "."], None);
    git(root.path(), &["commit", "--quiet", "-m", "old"], Some("2020-01-02T10:00:00Z"));
    write_outcome(&recent);
    git(root.path(), &["add", "."], None);
    git(root.path(), &["commit", "--quiet", "-m", "recent"], None);
    write_outcome(&uncommitted);

    let older_than = |age: &str| {
        Command::new(env!("CARGO_BIN_EXE_cacheow"))
            .args(["fixtures", "--older-than", age, "--check", "--dir"])
            .arg(&fixtures)
            .output()
            .expect("cacheow runs")
    };
    let listed = older_than("90d");
    let stdout = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(listed.status.code(), Some(1), "{}", text(&listed));
    assert!(stdout.contains("1 fixture was last re-recorded more than 90d ago"), "{stdout}");
    assert!(
        stdout.contains(&format!("app/tests/old_one/{function_dir}/00000000000000aa.json  (recorded 2020-01-02)")),
        "{stdout}"
    );
    assert!(!stdout.contains("recent_one") && !stdout.contains("new_one"), "{stdout}");

    let none = older_than("10000d");
    assert!(none.status.success(), "{}", text(&none));
    assert!(String::from_utf8_lossy(&none.stdout).contains("re-recorded less than"), "{}", text(&none));

    let bad = older_than("soon");
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("invalid value 'soon' for '--older-than <AGE>'"),
        "{}",
        text(&bad)
    );
}
