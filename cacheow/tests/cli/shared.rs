//! `push`, `pull` and `shared status|invalidate|clear|clear-tag` against a
//! real redis-server: a data dir uploaded, downloaded into an empty one on
//! "another machine", and deleted for everyone.

use crate::data::{Data, FETCH, SQUARE, sample};
use crate::redis_server::RedisServer;

fn with_redis(data: &Data, redis: &RedisServer, args: &[&str]) -> assert_cmd::Command {
    let mut command = assert_cmd::Command::cargo_bin("cacheow").expect("the cacheow binary");
    command.args(args).arg("--data-dir").arg(data.dir()).env("CACHEOW_REDIS_URL", redis.url());
    command
}

fn json(data: &Data, redis: &RedisServer, args: &[&str]) -> serde_json::Value {
    let output = with_redis(data, redis, args).arg("--json").output().expect("cacheow runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON")
}

#[test]
fn a_data_dir_pushed_is_pulled_into_another_and_cleared_for_everyone() {
    let redis = RedisServer::start();
    let laptop = sample();
    laptop.stdout(&["rebuild-index"]);
    let pushed = json(&laptop, &redis, &["push"]);
    let mut counts: Vec<(String, u64)> = pushed
        .as_array()
        .into_iter()
        .flatten()
        .map(|moved| (moved["function_id"].as_str().unwrap_or("?").to_owned(), moved["outcomes"].as_u64().unwrap_or(0)))
        .collect();
    counts.sort();
    assert_eq!(counts, [(FETCH.to_owned(), 2), (SQUARE.to_owned(), 1)]);

    let status = json(&laptop, &redis, &["shared", "status"]);
    assert_eq!(status["reachable"], true);
    assert_eq!(status["url"], redis.url());
    let held: Vec<(&str, u64)> = status["functions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| (f["name"].as_str().unwrap_or("?"), f["outcomes"].as_u64().unwrap_or(0)))
        .collect();
    assert_eq!(held, [("app::square", 1), ("app::users::fetch", 2)]);

    let runner = Data::new();
    let pulled = json(&runner, &redis, &["pull"]);
    assert_eq!(pulled.as_array().map(Vec::len), Some(2));
    let shown = runner.json(&["show", FETCH]);
    let mut values: Vec<&str> =
        shown["recent_outcomes"].as_array().into_iter().flatten().filter_map(|o| o["value"].as_str()).collect();
    values.sort_unstable();
    assert_eq!(values, [r#""Ann""#, r#""Bob""#], "{shown}");

    assert_eq!(json(&runner, &redis, &["shared", "invalidate", FETCH, r#"{"id": 1}"#])["deleted"], 1);
    assert_eq!(json(&runner, &redis, &["shared", "clear", "app::square"])["deleted"], 1);
    let status = json(&runner, &redis, &["shared", "status"]);
    let held: Vec<u64> =
        status["functions"].as_array().into_iter().flatten().filter_map(|f| f["outcomes"].as_u64()).collect();
    assert_eq!(held, [1], "fetch(2) is left: {status}");
    assert_eq!(runner.json(&["show", FETCH])["recent_outcomes"].as_array().map(Vec::len), Some(2), "local stays");
}

#[test]
fn an_unreachable_redis_is_named_without_its_password() {
    let redis = RedisServer::reserve();
    let data = sample();
    let url = redis.url().replace("redis://", "redis://me:hunter2@");
    let output = assert_cmd::Command::cargo_bin("cacheow")
        .expect("the cacheow binary")
        .args(["shared", "status", "--data-dir"])
        .arg(data.dir())
        .env("CACHEOW_REDIS_URL", &url)
        .output()
        .expect("cacheow runs");
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("redis://me:***@127.0.0.1") && stdout.contains("unreachable"), "{stdout}");
    assert!(!stdout.contains("hunter2") && !String::from_utf8_lossy(&output.stderr).contains("hunter2"));
    let pushed = data.fails(&["push"]);
    assert!(pushed.contains("CACHEOW_REDIS_URL is not set"), "{pushed}");
}

#[test]
fn a_push_never_replaces_newer_outcomes_and_refuses_a_local_function() {
    let redis = RedisServer::start();
    let (old, new) = (Data::new(), Data::new());
    let mut connection = redis.connection();
    for (data, id, value, at) in [
        (&new, "00000000000000b2", "Annie", "2026-11-30T10:00:00Z"),
        (&old, "00000000000000b1", "Ann", "2026-11-01T10:00:00Z"),
    ] {
        let file = serde_json::json!({
            "function": "app::users::fetch", "kind": "return", "args": { "id": 1 }, "value": value,
            "recorded_at": at, "last_recorded_at": at,
        });
        data.outcome_file(FETCH, id, file);
        data.stdout(&["rebuild-index"]);
        json(data, &redis, &["push"]);
    }
    // The newest outcome of `{"id": 1}` is the newer laptop's, pushed first.
    let newest: Vec<String> = redis::cmd("KEYS").arg("cacheow:*:a:*").query(&mut connection).expect("KEYS");
    let held: Vec<u8> = redis::Commands::get(&mut connection, &newest[0]).expect("GET");
    assert!(String::from_utf8_lossy(&held).contains("Annie"), "{}", String::from_utf8_lossy(&held));

    let db = rusqlite::Connection::open(old.dir().join("cacheow.db")).expect("the database");
    db.execute("UPDATE functions SET policy = ?2 WHERE id = ?1", [FETCH, r#"{"shared": false}"#]).expect("a policy");
    let refused = with_redis(&old, &redis, &["push", FETCH]).output().expect("cacheow runs");
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("shared = false"));
    let all = json(&old, &redis, &["push"]);
    assert!(all.as_array().is_some_and(Vec::is_empty), "a local function is left out: {all}");
}
