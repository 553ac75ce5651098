//! Secrets never reach a fixture, and replays still match.

use cacheow::cacheow;
use cacheow_test::{Record, Scope};

use crate::tree;

const SECRET: &str = "sk-live-5f8e2b7c9a";

#[cacheow]
fn ask(api_key: &str, question: &str) -> String {
    format!("{question}: 42 (billed to {api_key})")
}

#[test]
fn named_fields_and_secret_values_are_redacted_before_writing() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let scope = |record| {
        Scope::new("harness::redaction::asks")
            .fixtures_dir(root.path())
            .force_record(record)
            .redact_field("api_key")
            .redact_value(SECRET)
    };
    assert_eq!(scope(Record::Once).run(|| ask(SECRET, "the answer")), format!("the answer: 42 (billed to {SECRET})"));
    let files = tree(root.path());
    assert_eq!(files.len(), 1);
    for (path, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains(SECRET), "{path:?} holds the secret:\n{text}");
        assert!(text.contains(r#""api_key": "[redacted]""#) && text.contains("billed to [redacted]"), "{text}");
    }
    // The redacted recording replays for the same call, secret and all.
    let replayed = scope(Record::None).run(|| ask(SECRET, "the answer"));
    assert_eq!(replayed, "the answer: 42 (billed to [redacted])");
}

#[test]
fn secrets_from_the_environment_and_from_the_test_are_redacted() {
    let root = tempfile::tempdir().expect("a temporary dir");
    // Cargo sets CARGO_PKG_NAME for the tests it runs: a stand-in for a token.
    let from_env = std::env::var("CARGO_PKG_NAME").expect("cargo sets it");
    let from_test = "pw-1234";
    Scope::new("harness::redaction::env")
        .fixtures_dir(root.path())
        .force_record(Record::Once)
        .redact_env("CARGO_PKG_NAME")
        .run(|| {
            // Known only once the test runs.
            cacheow_test::redact_value(from_test);
            ask(&from_env, from_test)
        });
    let files = tree(root.path());
    assert_eq!(files.len(), 1);
    let text = String::from_utf8_lossy(&files[0].1);
    assert!(!text.contains(&from_env) && !text.contains(from_test), "{text}");
}

/// A reply JSON cannot hold (a NaN score): it is stored as RON.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Scored {
    api_key: String,
    score: f64,
    note: String,
}

#[cacheow]
fn score(token: &str) -> Scored {
    Scored { api_key: token.to_owned(), score: f64::NAN, note: format!("scored with {token}") }
}

#[cacheow]
fn keyed(token: &str, pin: u32) -> std::collections::BTreeMap<String, u32> {
    std::collections::BTreeMap::from([(token.to_owned(), pin)])
}

#[cacheow]
fn login() -> String {
    "session-7f3a9c".to_owned()
}

#[cacheow]
fn whoami(session: &str) -> String {
    format!("ann (via {session})")
}

/// Every file written below `root`, as text.
fn written(root: &std::path::Path) -> String {
    tree(root).iter().map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned()).collect::<Vec<_>>().join("\n")
}

#[test]
fn ron_payloads_map_keys_and_numbers_are_redacted_too() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let scope = |record| {
        Scope::new("harness::redaction::ron")
            .fixtures_dir(root.path())
            .force_record(record)
            .redact_field("api_key")
            .redact_value(SECRET)
            .redact_value("424242")
    };
    let (scored, map) = scope(Record::Once).run(|| (score(SECRET), keyed(SECRET, 424242)));
    assert_eq!((scored.api_key.as_str(), map[SECRET]), (SECRET, 424242), "the test sees the real values");
    let text = written(root.path());
    assert!(text.contains("value_ron"), "the NaN made it RON: {text}");
    assert!(!text.contains(SECRET) && !text.contains("424242"), "a secret was written:\n{text}");
    // What was written still replays: the RON still reads as the type.
    let replayed = scope(Record::None).run(|| score(SECRET));
    assert_eq!((replayed.api_key.as_str(), replayed.note.as_str()), ("[redacted]", "scored with [redacted]"));
    assert!(replayed.score.is_nan());
}

#[test]
fn a_secret_learnt_from_a_call_is_redacted_from_that_calls_outcome() {
    let root = tempfile::tempdir().expect("a temporary dir");
    Scope::new("harness::redaction::login").fixtures_dir(root.path()).force_record(Record::Once).run(|| {
        let session = login();
        cacheow_test::redact_value(&session);
        whoami(&session)
    });
    let text = written(root.path());
    assert!(!text.contains("session-7f3a9c"), "the session token was written:\n{text}");
    assert!(text.contains("ann (via [redacted])"), "{text}");
}

#[test]
fn an_unset_secret_variable_fails_a_run_that_records_not_one_that_replays() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let variable = "CACHEOW_TEST_SURELY_UNSET_TOKEN";
    let scope = |record| {
        Scope::new("harness::redaction::unset").fixtures_dir(root.path()).force_record(record).redact_env(variable)
    };
    let recording = std::panic::catch_unwind(|| {
        scope(Record::Once).run(|| ask(&std::env::var(variable).unwrap_or_else(|_| "sk-fallback-literal".into()), "q"))
    });
    let message = crate::panic_message(recording.expect_err("it fails"));
    assert!(message.contains(variable) && message.contains("not set") && message.contains("records"), "{message}");
    assert!(!written(root.path()).contains("sk-fallback-literal"), "nothing was written");
    // Replaying needs no secret.
    let replay = std::panic::catch_unwind(|| scope(Record::None).run(|| 1));
    assert!(replay.is_ok(), "record mode `none` does not need the variable");
}
