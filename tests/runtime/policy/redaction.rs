//! Redacted arguments and values never reach the data dir.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

use cacheow::{Error, Mode, cacheow, handle};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Session {
    user: String,
    api_key: String,
}

static LOGIN_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow(redact("api_key"))]
fn login(user: String, api_key: String) -> Session {
    LOGIN_RAN.fetch_add(1, SeqCst);
    Session { user, api_key: format!("{api_key}-session") }
}

/// Every file below `dir`, read.
fn everything_in(dir: &std::path::Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            text.push_str(&everything_in(&path));
        } else {
            text.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap_or_default()));
        }
    }
    text
}

#[test]
fn redacted_fields_never_reach_the_data_dir() -> Result<(), Error> {
    let f = handle!(login);
    let session = login("ann".into(), "sk-live-1234".into());
    assert_eq!(session.api_key, "sk-live-1234-session", "the call returns its real result");
    cacheow::manager().expect("on").flush();
    let written = everything_in(&crate::data_dir());
    assert!(!written.contains("sk-live-1234"), "the secret reached the data dir");
    let file = std::fs::read_to_string(f.dir().expect("on").join(format!("{}.json", f.outcomes()?[0].id)))
        .expect("the outcome file");
    assert!(file.contains(r#""api_key": "[redacted]""#), "{file}");
    f.set_mode(Mode::Cache)?;
    let replayed = login("ann".into(), "sk-other".into());
    assert_eq!(LOGIN_RAN.load(SeqCst), 1, "a redacted argument is out of the key too");
    assert_eq!(replayed, Session { user: "ann".into(), api_key: "[redacted]".into() });
    Ok(())
}
