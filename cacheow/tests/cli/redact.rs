//! `cacheow fixtures redact`: secrets scrubbed from fixtures already
//! written, files renamed by their new content, and the tests named that
//! must redact the same arguments to keep replaying.

use std::path::Path;
use std::process::{Command, Output};

use cacheow::cacheow;
use cacheow_test::{Record, Scope};

use crate::{text, tree};

const SECRET: &str = "s3cr3t-from-the-env";

#[cacheow]
fn login(user: &str, api_key: &str) -> String {
    format!("session of {user}, signed {SECRET}, key {}", api_key.len())
}

/// Tests of committed fixtures (`cacheow/fixtures/cli/redact/helpers/`) that
/// `redact --check` runs: ordinary tests too.
mod helpers {
    use cacheow_test::cacheow_test;

    #[cacheow_test]
    fn logs_in() {
        assert!(super::login("bob", "key-of-bob").starts_with("session of bob"));
    }

    #[cacheow_test(redact("api_key"))]
    fn logs_in_redacting() {
        assert!(super::login("eve", "key-of-eve").starts_with("session of eve"));
    }
}

fn scope(fixtures: &Path, record: Record) -> Scope {
    Scope::new("cli::redact::logins").fixtures_dir(fixtures).force_record(record)
}

/// `cacheow fixtures redact --field api_key --env CACHEOW_TEST_SECRET`; a
/// check runs the helpers of this binary, never the whole workspace.
fn redact(fixtures: &Path, extra: &[&str], secret: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cacheow"));
    command.args(["fixtures", "redact", "--field", "api_key", "--env", "CACHEOW_TEST_SECRET", "--dir"]);
    command.arg(fixtures).args(extra);
    if extra.contains(&"--check") {
        command.arg("--").arg(std::env::current_exe().expect("the test binary")).arg("redact::helpers::");
    }
    match secret {
        Some(secret) => command.env("CACHEOW_TEST_SECRET", secret),
        None => command.env_remove("CACHEOW_TEST_SECRET"),
    };
    command.output().expect("cacheow runs")
}

#[test]
fn redact_scrubs_written_fixtures_renames_them_and_names_the_tests_to_change() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let fixtures = root.path();
    scope(fixtures, Record::Once).run(|| login("ann", "live-key-123"));
    let before = tree(fixtures);
    let written = String::from_utf8_lossy(&before[0].1).into_owned();
    assert!(written.contains("live-key-123") && written.contains(SECRET), "{written}");

    let checked = redact(fixtures, &["--check"], Some(SECRET));
    assert_eq!(checked.status.code(), Some(1), "{}", text(&checked));
    assert!(text(&checked).contains("1 fixture file(s) in"), "{}", text(&checked));
    assert_eq!(tree(fixtures), before, "--check changes nothing");

    let redacted = redact(fixtures, &[], Some(SECRET));
    let out = text(&redacted);
    assert!(redacted.status.success(), "{out}");
    assert!(out.contains("(now "), "renamed by its new content: {out}");
    assert!(out.contains("cli/redact/logins: redact(\"api_key\")"), "{out}");
    let after = tree(fixtures);
    assert_eq!(after.len(), 1);
    assert_ne!(after[0].0, before[0].0, "another name");
    let scrubbed = String::from_utf8_lossy(&after[0].1).into_owned();
    assert!(!scrubbed.contains("live-key-123") && !scrubbed.contains(SECRET), "{scrubbed}");
    assert!(scrubbed.contains("\"api_key\": \"[redacted]\"") && scrubbed.contains("signed [redacted]"), "{scrubbed}");
    let function_dir = fixtures.join(after[0].0.parent().expect("its folder"));
    let hashes = std::fs::read_to_string(function_dir.join("body-hashes.txt")).expect("the body hashes");
    let new_id = after[0].0.file_stem().expect("an id").to_string_lossy().into_owned();
    assert!(hashes.contains(&format!("{new_id} ")), "the hash follows the file: {hashes}");

    // A test that redacts the field replays; one that does not, misses.
    let replayed = scope(fixtures, Record::None).redact_field("api_key").run(|| login("ann", "live-key-123"));
    assert_eq!(replayed, "session of ann, signed [redacted], key 12");
    assert!(std::panic::catch_unwind(|| scope(fixtures, Record::None).run(|| login("ann", "live-key-123"))).is_err());

    let clean = redact(fixtures, &["--check"], Some(SECRET));
    assert!(clean.status.success(), "{}", text(&clean));
    assert!(text(&clean).contains("holds anything to redact"), "{}", text(&clean));

    let unset = redact(fixtures, &[], None);
    assert_eq!(unset.status.code(), Some(2), "{}", text(&unset));
    assert!(text(&unset).contains("CACHEOW_TEST_SECRET is not set"), "{}", text(&unset));
}

#[test]
fn redact_check_names_the_tests_that_no_longer_replay_their_redacted_arguments() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let fixtures = root.path().join("fixtures");
    crate::copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cli/redact"), &fixtures.join("cli/redact"));
    let written = redact(&fixtures, &[], Some(SECRET));
    assert!(written.status.success(), "{}", text(&written));
    assert!(text(&written).contains("cli/redact/helpers/logs_in: redact(\"api_key\")"), "{}", text(&written));

    let this_binary = std::env::current_exe().expect("the test binary");
    let checked = Command::new(env!("CARGO_BIN_EXE_cacheow"))
        .args(["fixtures", "redact", "--check", "--field", "api_key", "--dir"])
        .arg(&fixtures)
        .arg("--")
        .arg(this_binary)
        .arg("redact::helpers::")
        .env("CACHEOW_FIXTURES_DIR", &fixtures)
        .output()
        .expect("cacheow runs");
    let out = text(&checked);
    assert_eq!(checked.status.code(), Some(1), "{out}");
    assert!(out.contains("no fixture in"), "nothing is left to redact: {out}");
    assert!(out.contains("cli/redact/helpers/logs_in: add redact(\"api_key\")"), "{out}");
    assert!(!out.contains("logs_in_redacting:"), "it redacts the field: {out}");
}
