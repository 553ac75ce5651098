//! The shared tier in one process, over a real redis-server: two managers
//! with data dirs of their own play two machines. What goes to Redis (and
//! what never does), mock mode with nothing local, large values, async
//! calls, and deletions that stay local.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

use cacheow::{CallStatus, Error, Manager, ManualOutcome, Mode, Settings, cacheow, handle};
use redis::Commands;

use crate::redis_server::RedisServer;

/// A "machine": a manager over a fresh data dir, sharing `redis`.
fn machine(redis: &RedisServer) -> Manager {
    let mut settings = Settings::default();
    settings.data_dir = tempfile::Builder::new()
        .prefix("runtime-shared-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("a temporary data dir")
        .keep();
    settings.redis_url = Some(redis.url());
    Manager::open(settings)
}

/// Every value Redis holds, as text.
fn everything(redis: &RedisServer) -> String {
    let mut connection = redis.connection();
    let keys: Vec<String> = connection.keys("*").expect("KEYS");
    keys.iter()
        .map(|key| {
            let kind: String = redis::cmd("TYPE").arg(key).query(&mut connection).expect("TYPE");
            let value: String = match kind.as_str() {
                "string" => String::from_utf8_lossy(&connection.get::<_, Vec<u8>>(key).expect("GET")).into_owned(),
                "hash" => format!("{:?}", connection.hgetall::<_, Vec<(String, String)>>(key).expect("HGETALL")),
                _ => format!("{:?}", connection.smembers::<_, Vec<String>>(key).expect("SMEMBERS")),
            };
            format!("{key} = {value}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Login {
    user: String,
    api_key: String,
}

#[cacheow(redact("api_key"))]
fn shared_login(user: String, api_key: String) -> Login {
    Login { user, api_key }
}

#[test]
fn redacted_fields_never_leave_the_machine() {
    let redis = RedisServer::start();
    let laptop = machine(&redis);
    {
        let _bound = laptop.bind();
        shared_login("ann".into(), "sk-live-secret".into());
    }
    laptop.flush();
    let held = everything(&redis);
    assert!(held.contains("[redacted]") && held.contains("ann"), "{held}");
    assert!(!held.contains("sk-live-secret"), "{held}");
}

static MOCKED_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn shared_mocked(n: u64) -> u64 {
    MOCKED_RAN.fetch_add(1, SeqCst);
    n * 10
}

#[test]
fn mock_mode_with_nothing_local_replays_what_redis_holds() -> Result<(), Error> {
    let redis = RedisServer::start();
    let laptop = machine(&redis);
    {
        let _bound = laptop.bind();
        shared_mocked(1);
        shared_mocked(2);
    }
    laptop.flush();
    let runner = machine(&redis);
    let _bound = runner.bind();
    handle!(shared_mocked).set_mode(Mode::Mock)?;
    // Mock mode draws among the function's outcomes, whatever the arguments.
    for n in 1..=5 {
        assert!([10, 20].contains(&shared_mocked(n)));
        assert_eq!(cacheow::last_status(), Some(CallStatus::Mock));
    }
    assert_eq!(MOCKED_RAN.load(SeqCst), 2, "never called on the runner");
    assert_eq!(handle!(shared_mocked).outcomes()?.len(), 2, "kept in its data dir");
    Ok(())
}

#[cacheow]
fn shared_large(n: u64) -> String {
    "abcdefgh".repeat(20_000) + &n.to_string()
}

#[cacheow]
async fn shared_async(n: u64) -> u64 {
    n + 100
}

#[tokio::test(flavor = "current_thread")]
async fn large_values_are_compressed_in_redis_and_async_calls_pull_too() -> Result<(), Error> {
    let redis = RedisServer::start();
    let laptop = machine(&redis);
    {
        let _bound = laptop.bind();
        shared_large(1);
        shared_async(1).await;
    }
    laptop.flush();
    let id = handle!(shared_large).id();
    let mut connection = redis.connection();
    let outcomes: Vec<String> = connection.smembers(format!("cacheow:{{{id}}}:ids")).expect("SMEMBERS");
    let stored: Vec<u8> = connection.get(format!("cacheow:{{{id}}}:o:{}", outcomes[0])).expect("GET");
    assert_eq!(stored[..2], [0x1f, 0x8b], "gzipped");
    assert!(stored.len() < 10_000, "{} bytes for a 160 KB value", stored.len());
    let local = std::fs::read_dir(laptop.settings().data_dir.join("functions").join(id).join("outcomes"))
        .expect("its outcomes")
        .flatten()
        .map(|entry| std::fs::read_to_string(entry.path()).expect("a file"))
        .collect::<String>();
    assert!(local.contains("abcdefghabcdefgh"), "the local file stays plain");

    let runner = machine(&redis);
    let _bound = runner.bind();
    handle!(shared_large).set_mode(Mode::Cache)?;
    handle!(shared_async).set_mode(Mode::Cache)?;
    assert_eq!(shared_large(1), "abcdefgh".repeat(20_000) + "1");
    assert_eq!(cacheow::last_status(), Some(CallStatus::SharedHit));
    assert_eq!(shared_async(1).await, 101);
    assert_eq!(cacheow::last_status(), Some(CallStatus::SharedHit));
    Ok(())
}

#[cacheow(shared = false)]
fn kept_local(n: u64) -> u64 {
    n
}

#[cacheow(tags("team"))]
fn shared_tagged(n: u64) -> u64 {
    n + 1
}

#[test]
fn manual_outcomes_local_functions_and_local_deletions_stay_off_redis() -> Result<(), Error> {
    let redis = RedisServer::start();
    let laptop = machine(&redis);
    let _bound = laptop.bind();
    kept_local(1);
    shared_tagged(1);
    handle!(shared_tagged).add_manual_outcome(ManualOutcome::returns(99))?;
    laptop.flush();
    let held = everything(&redis);
    let (local, tagged) = (handle!(kept_local).id(), handle!(shared_tagged).id());
    assert!(!held.contains(local), "shared = false: {held}");
    let mut connection = redis.connection();
    let ids: Vec<String> = connection.smembers(format!("cacheow:{{{tagged}}}:ids")).expect("SMEMBERS");
    assert_eq!(ids.len(), 1, "the call's outcome, not the manual one");

    // One laptop's deletions do not wipe the team's outcomes.
    cacheow::clear_tag("team")?;
    handle!(shared_tagged).clear()?;
    assert_eq!(handle!(shared_tagged).outcomes()?.len(), 0);
    let ids: Vec<String> = connection.smembers(format!("cacheow:{{{tagged}}}:ids")).expect("SMEMBERS");
    assert_eq!(ids.len(), 1, "still in Redis");
    Ok(())
}

static REDONE_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow(on_change = "rerecord")]
fn shared_redone(n: u64) -> u64 {
    REDONE_RAN.fetch_add(1, SeqCst);
    n + 7
}

/// Makes every outcome Redis holds of the function `function_id` one that
/// the body `from` did not record, as a teammate's older build would have.
fn recorded_by_another_body(redis: &RedisServer, function_id: &str, from: &str) {
    let mut connection = redis.connection();
    let keys: Vec<String> = connection.keys(format!("cacheow:{{{function_id}}}:*")).expect("KEYS");
    let mut edited = 0;
    for key in keys {
        let kind: String = redis::cmd("TYPE").arg(&key).query(&mut connection).expect("TYPE");
        if kind != "string" {
            continue;
        }
        let value: Vec<u8> = connection.get(&key).expect("GET");
        let text = String::from_utf8(value).expect("a small value is plain JSON");
        if text.contains(from) {
            let () = connection.set(&key, text.replace(from, "00000000000000aa")).expect("SET");
            edited += 1;
        }
    }
    assert_eq!(edited, 2, "the outcome, under its id and as the newest of its arguments");
}

#[test]
fn an_outcome_another_body_pushed_is_recorded_again_by_rerecord_and_the_team_gets_this_body() -> Result<(), Error> {
    let redis = RedisServer::start();
    let laptop = machine(&redis);
    {
        let _bound = laptop.bind();
        shared_redone(1);
    }
    laptop.flush();
    let (id, hash) = (handle!(shared_redone).id(), cacheow::__harness::body_hash(handle!(shared_redone)));
    recorded_by_another_body(&redis, id, hash);

    let runner = machine(&redis);
    let _bound = runner.bind();
    handle!(shared_redone).set_mode(Mode::Cache)?;
    let ran = REDONE_RAN.load(SeqCst);
    assert_eq!((shared_redone(1), cacheow::last_status()), (8, Some(CallStatus::Miss)), "not replayed");
    assert_eq!(REDONE_RAN.load(SeqCst), ran + 1, "recorded again");
    assert_eq!((shared_redone(1), cacheow::last_status()), (8, Some(CallStatus::Hit)));
    runner.flush();
    let outcomes = handle!(shared_redone).outcomes()?;
    assert_eq!((outcomes.len(), outcomes[0].body_changed), (1, false), "one outcome, of this body");
    let held = everything(&redis);
    assert!(held.contains(hash) && !held.contains("00000000000000aa"), "Redis says this body too: {held}");
    Ok(())
}
