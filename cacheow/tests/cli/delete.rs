//! `clear`, `delete`, `invalidate` and `cleanup-expired`, run as real
//! processes: what each deletes, files included, and what it keeps.

use serde_json::json;

use crate::data::{Data, FETCH, SQUARE, sample};

/// Gives a function the policy a program with `#[cacheow(...)]` registers.
fn set_policy(data: &Data, function_id: &str, policy: serde_json::Value) {
    let db = rusqlite::Connection::open(data.dir().join("cacheow.db")).expect("the database");
    db.execute("UPDATE functions SET policy = ?2 WHERE id = ?1", [function_id, &policy.to_string()])
        .expect("the policy is set");
}

fn files(data: &Data, function_id: &str) -> usize {
    let dir = data.dir().join("functions").join(function_id).join("outcomes");
    std::fs::read_dir(dir).map(|entries| entries.count()).unwrap_or(0)
}

#[test]
fn invalidate_and_delete_remove_outcomes_and_their_files() {
    let data = sample();
    data.stdout(&["rebuild-index"]);
    assert_eq!(data.json(&["invalidate", "users::fetch", r#"{"id": 1}"#])["deleted"], 1);
    assert_eq!(files(&data, FETCH), 1);
    assert_eq!(data.json(&["invalidate", "users::fetch", r#"{"id": 1}"#])["deleted"], 0, "gone already");
    let left = data.json(&["show", FETCH]);
    assert_eq!(left["recent_outcomes"][0]["args"], r#"{"id":2}"#);

    let outcome = left["recent_outcomes"][0]["id"].as_str().expect("an id").to_owned();
    let out = data.stdout(&["delete", "users::fetch", &outcome]);
    assert_eq!(out.trim(), format!("deleted 1 outcome(s) of app::users::fetch (outcome {outcome})"));
    assert_eq!((files(&data, FETCH), files(&data, SQUARE)), (0, 1), "the other function keeps its outcome");

    let bad = data.fails(&["invalidate", "square", "{n: 3}"]);
    assert!(bad.contains("the arguments must be JSON, as the function's outcomes show them"), "{bad}");
    let unknown = data.fails(&["delete", "square", "00000000000000ff"]);
    assert!(unknown.contains("00000000000000ff"), "{unknown}");
    assert_eq!(files(&data, SQUARE), 1, "a refused command deletes nothing");
}

#[test]
fn clear_deletes_a_function_s_or_a_tag_s_outcomes() {
    let data = sample();
    data.outcome("app::orders::list", "00000000000000f4", "000000000000000e", json!({ "n": 1 }), json!([]));
    data.stdout(&["rebuild-index"]);
    set_policy(&data, FETCH, json!({ "tags": ["users"] }));
    set_policy(&data, "00000000000000f4", json!({ "tags": ["users", "billing"] }));
    assert_eq!(data.json(&["clear", "--tag", "users"])["deleted"], 3);
    assert_eq!((files(&data, FETCH), files(&data, "00000000000000f4"), files(&data, SQUARE)), (0, 0, 1));
    assert_eq!(data.json(&["clear", "--tag", "nobody"])["deleted"], 0);

    assert_eq!(data.stdout(&["clear", "square"]).trim(), "deleted 1 outcome(s) of app::square");
    assert_eq!(files(&data, SQUARE), 0);
    let neither = data.fails(&["clear"]);
    assert!(neither.contains("--tag"), "{neither}");
}

#[test]
fn cleanup_expired_deletes_what_is_older_than_the_ttl() {
    let data = Data::new();
    let old = json!({ "function": "app::rates", "kind": "return", "args": { "pair": "EURUSD" }, "value": 1.1,
                      "recorded_at": "2020-01-01T00:00:00Z" });
    let recent = json!({ "function": "app::rates", "kind": "return", "args": { "pair": "GBPUSD" }, "value": 1.3,
                         "recorded_at": humantime::format_rfc3339(std::time::SystemTime::now()).to_string() });
    data.outcome_file(SQUARE, "000000000000000a", old);
    data.outcome_file(SQUARE, "000000000000000b", recent);
    data.stdout(&["rebuild-index"]);
    assert_eq!(data.json(&["cleanup-expired"])["deleted"], 0, "no ttl: nothing expires");
    set_policy(&data, SQUARE, json!({ "ttl_ms": 3_600_000 }));
    let cleaned = data.json(&["cleanup-expired", "rates"]);
    assert_eq!((&cleaned["deleted"], &cleaned["by_function"][SQUARE]), (&json!(1), &json!(1)));
    let left = data.json(&["show", SQUARE]);
    assert_eq!(left["recent_outcomes"][0]["args"], r#"{"pair":"GBPUSD"}"#);
    assert_eq!(left["ttl_ms"], 3_600_000);
}
