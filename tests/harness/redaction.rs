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
