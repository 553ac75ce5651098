//! One slow request leaves the rest of the panel answering: SQLite and file
//! work runs off the panel's one runtime thread.

use std::time::{Duration, Instant};

use cacheow::{Settings, cacheow, handle};

#[cacheow]
fn waited_on(n: u32) -> u32 {
    n
}

fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

#[test]
fn a_request_waiting_for_the_database_does_not_stall_the_panel() {
    let mut settings = Settings::default();
    settings.server_port = 0;
    let manager = std::sync::Arc::new(super::open(settings));
    {
        let _bound = manager.bind();
        waited_on(1);
    }
    manager.flush();
    let (listening, url) = std::sync::mpsc::channel();
    let serving = std::sync::Arc::clone(&manager);
    std::thread::spawn(move || serving.serve_panel(|address| listening.send(address.to_owned()).expect("sent")));
    let url = url.recv_timeout(Duration::from_secs(10)).expect("the panel listens");

    // Another process holds the database: the next write waits for it.
    let db = rusqlite::Connection::open(manager.settings().data_dir.join("cacheow.db")).expect("the database");
    db.execute_batch("BEGIN EXCLUSIVE").expect("locked");
    let mode = format!("{url}api/functions/{}/mode", handle!(waited_on).id());
    let waiting = std::thread::spawn(move || {
        let answer = http().post(&mode).header("Content-Type", "application/json").send(r#"{"mode": "cache"}"#);
        answer.map(|answer| answer.status().as_u16()).ok()
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(!waiting.is_finished(), "the write waits for the database");

    let started = Instant::now();
    let health = http().get(format!("{url}api/health")).call().expect("the panel answers");
    assert_eq!(health.status(), 200);
    let functions = http().get(format!("{url}ui/functions/{}", handle!(waited_on).id())).call().expect("answers");
    let waited = started.elapsed();
    assert!(!waiting.is_finished(), "still waiting");
    db.execute_batch("ROLLBACK").expect("released");
    assert_eq!(waiting.join().expect("the write ends"), Some(200));
    assert_eq!(functions.status(), 200, "reads are not held up by the waiting write");
    assert!(waited < Duration::from_secs(10), "answered while the write waited: {waited:?}");
}
