//! Tags: invalidating a function's outcomes by arguments, by tag, and by
//! age.

use std::time::Duration;

use cacheow::{Error, cacheow, handle};

#[cacheow(tags("users"), ttl = "100ms")]
fn user_name(id: u32) -> String {
    format!("user {id}")
}

#[cacheow(tags("users", "billing"))]
fn user_plan(id: u32) -> String {
    format!("plan {id}")
}

#[cacheow(tags("billing"))]
fn invoice(id: u32) -> String {
    format!("invoice {id}")
}

#[test]
fn tags_invalidate_and_cleanup_delete_outcomes_and_files() -> Result<(), Error> {
    let (name, plan, bill) = (handle!(user_name), handle!(user_plan), handle!(invoice));
    for id in 1..=3 {
        user_name(id);
        user_plan(id);
        invoice(id);
    }
    cacheow::manager().expect("on").flush();
    let dir = name.dir().expect("cacheow is on");
    let files = |dir: &std::path::Path| std::fs::read_dir(dir).map(|entries| entries.count()).unwrap_or(0);
    assert_eq!(files(&dir), 3);

    assert_eq!(name.invalidate(serde_json::json!({"id": 2}))?, 1);
    assert_eq!(name.invalidate(serde_json::json!({"id": 2}))?, 0, "gone already");
    assert_eq!(files(&dir), 2, "its file too");
    let left: Vec<String> = name.outcomes()?.into_iter().map(|outcome| outcome.args).collect();
    assert!(left.iter().all(|args| args != r#"{"id":2}"#), "{left:?}");

    std::thread::sleep(Duration::from_millis(150));
    user_name(1);
    assert_eq!(name.cleanup_expired()?, 1, "id 3 expired; id 1 was recorded again just now");
    assert_eq!(plan.cleanup_expired()?, 0, "no ttl: nothing expires");
    assert!(name.outcomes()?[0].last_recorded_at > name.outcomes()?[0].recorded_at);

    assert_eq!(cacheow::clear_tag("users")?, 1 + 3);
    assert!(name.outcomes()?.is_empty() && plan.outcomes()?.is_empty());
    assert_eq!(bill.outcomes()?.len(), 3, "untagged \"users\": kept");
    assert_eq!(cacheow::clear_tag("nobody")?, 0);
    Ok(())
}
