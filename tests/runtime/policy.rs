//! The cache policy: ttl, serve_stale, ttl_from, cache_if, cache_errors,
//! validate, in-flight dedupe, per-call requests and the call status.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

use cacheow::{CallStatus, Entry, Error, Mode, cacheow, handle, last_status};

static EXPIRING_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow(ttl = "150ms")]
fn expiring(n: u64) -> u64 {
    EXPIRING_RAN.fetch_add(1, SeqCst);
    n + 1
}

#[test]
fn an_outcome_older_than_its_ttl_is_called_and_recorded_again() -> Result<(), Error> {
    handle!(expiring).set_mode(Mode::Cache)?;
    assert_eq!(expiring(1), 2);
    assert_eq!(last_status(), Some(CallStatus::Miss));
    assert_eq!(expiring(1), 2);
    assert_eq!((last_status(), EXPIRING_RAN.load(SeqCst)), (Some(CallStatus::Hit), 1));
    std::thread::sleep(Duration::from_millis(250));
    assert_eq!(expiring(1), 2);
    assert_eq!((last_status(), EXPIRING_RAN.load(SeqCst)), (Some(CallStatus::Miss), 2), "expired: called again");
    assert_eq!(expiring(1), 2);
    assert_eq!(last_status(), Some(CallStatus::Hit), "recording it again renewed it");
    let outcomes = handle!(expiring).outcomes()?;
    assert_eq!(outcomes.len(), 1, "the same outcome, renewed");
    Ok(())
}

static STALE_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow(ttl = "300ms", serve_stale)]
fn stale_sync(n: u64) -> u64 {
    let run = STALE_RAN.fetch_add(1, SeqCst);
    std::thread::sleep(Duration::from_millis(150));
    n * 100 + run
}

#[test]
fn an_expired_outcome_is_served_at_once_and_refreshed_in_the_background() -> Result<(), Error> {
    handle!(stale_sync).set_mode(Mode::Cache)?;
    assert_eq!(stale_sync(1), 100);
    std::thread::sleep(Duration::from_millis(350));
    let started = Instant::now();
    assert_eq!(stale_sync(1), 100, "the expired outcome, at once");
    assert!(started.elapsed() < Duration::from_millis(100), "{:?}: it did not wait for the refresh", started.elapsed());
    assert_eq!(last_status(), Some(CallStatus::StaleHit));
    let deadline = Instant::now() + Duration::from_secs(5);
    while stale_sync(1) != 101 {
        assert!(Instant::now() < deadline, "the refresh never replaced the outcome");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(last_status(), Some(CallStatus::Hit));
    Ok(())
}

static STALE_ASYNC_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow(ttl = "100ms", serve_stale)]
async fn stale_async(n: u64) -> u64 {
    let run = STALE_ASYNC_RAN.fetch_add(1, SeqCst);
    tokio::time::sleep(Duration::from_millis(150)).await;
    n * 100 + run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_refresh_runs_on_the_callers_runtime() -> Result<(), Error> {
    handle!(stale_async).set_mode(Mode::Cache)?;
    assert_eq!(stale_async(2).await, 200);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let started = Instant::now();
    assert_eq!(stale_async(2).await, 200);
    assert!(started.elapsed() < Duration::from_millis(100));
    let deadline = Instant::now() + Duration::from_secs(5);
    while stale_async(2).await != 201 {
        assert!(Instant::now() < deadline, "the refresh never replaced the outcome");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

fn ttl_of(value: &u64) -> Duration {
    Duration::from_millis(*value)
}

static TTL_FROM_RAN: AtomicU64 = AtomicU64::new(0);

/// Its value is its own ttl, in milliseconds.
#[cacheow(ttl_from = ttl_of)]
fn self_expiring(ms: u64) -> u64 {
    TTL_FROM_RAN.fetch_add(1, SeqCst);
    ms
}

#[test]
fn ttl_from_gives_each_outcome_its_own_ttl() -> Result<(), Error> {
    handle!(self_expiring).set_mode(Mode::Cache)?;
    self_expiring(60_000);
    self_expiring(50);
    std::thread::sleep(Duration::from_millis(120));
    self_expiring(60_000);
    assert_eq!(last_status(), Some(CallStatus::Hit), "a minute is not over");
    self_expiring(50);
    assert_eq!(last_status(), Some(CallStatus::Miss), "50 ms are");
    assert_eq!(TTL_FROM_RAN.load(SeqCst), 3);
    Ok(())
}

fn worth_keeping(value: &Option<String>) -> bool {
    value.is_some()
}

static LOOKUP_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow(cache_if = worth_keeping)]
fn lookup(id: u32) -> Option<String> {
    LOOKUP_RAN.fetch_add(1, SeqCst);
    id.is_multiple_of(2).then(|| format!("user {id}"))
}

#[test]
fn cache_if_keeps_refused_values_out_of_every_mode() -> Result<(), Error> {
    let f = handle!(lookup);
    assert_eq!(lookup(1), None);
    assert_eq!(last_status(), Some(CallStatus::NotRecorded));
    assert_eq!(lookup(2).as_deref(), Some("user 2"));
    assert_eq!(last_status(), Some(CallStatus::Recorded));
    let outcomes = f.outcomes()?;
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    assert_eq!(outcomes[0].args, r#"{"id":2}"#);
    f.set_mode(Mode::Cache)?;
    assert_eq!(lookup(1), None);
    assert_eq!(last_status(), Some(CallStatus::NotRecorded), "a refused value is never a hit");
    f.set_mode(Mode::Mock)?;
    for _ in 0..20 {
        assert_eq!(lookup(1).as_deref(), Some("user 2"), "mock mode replays only what was kept");
    }
    Ok(())
}

static FLAKY_RAN: AtomicU64 = AtomicU64::new(0);

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Timeout;

#[cacheow(cache_errors = false)]
fn flaky(id: u32) -> Result<String, Timeout> {
    if FLAKY_RAN.fetch_add(1, SeqCst) == 1 { Err(Timeout) } else { Ok(format!("user {id}")) }
}

#[test]
fn an_error_never_shadows_a_good_outcome_with_cache_errors_false() -> Result<(), Error> {
    let f = handle!(flaky);
    assert_eq!(flaky(1), Ok("user 1".to_owned()));
    assert_eq!(flaky(1), Err(Timeout), "returned");
    assert_eq!(last_status(), Some(CallStatus::NotRecorded));
    f.set_mode(Mode::Cache)?;
    assert_eq!(flaky(1), Ok("user 1".to_owned()), "the good outcome is the newest");
    assert_eq!(f.outcomes()?.len(), 1);
    Ok(())
}

#[cacheow(cache_errors = false)]
fn panicky(n: u32) -> Result<u32, Timeout> {
    if n == 0 {
        panic!("no zero");
    }
    Ok(n)
}

#[test]
fn cache_errors_false_leaves_panics_unrecorded() -> Result<(), Error> {
    let caught = std::panic::catch_unwind(|| panicky(0));
    assert!(caught.is_err(), "the panic is resumed");
    assert!(handle!(panicky).outcomes()?.is_empty());
    Ok(())
}

fn young(entry: &Entry<'_, u64>) -> bool {
    entry.age < Duration::from_millis(100) && entry.recorded_at <= std::time::SystemTime::now()
}

static VALIDATED_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow(validate = young)]
fn validated(n: u64) -> u64 {
    VALIDATED_RAN.fetch_add(1, SeqCst);
    n
}

#[test]
fn validate_sees_the_age_and_refuses_hits() -> Result<(), Error> {
    handle!(validated).set_mode(Mode::Cache)?;
    validated(5);
    validated(5);
    assert_eq!((last_status(), VALIDATED_RAN.load(SeqCst)), (Some(CallStatus::Hit), 1));
    std::thread::sleep(Duration::from_millis(150));
    validated(5);
    assert_eq!((last_status(), VALIDATED_RAN.load(SeqCst)), (Some(CallStatus::Miss), 2));
    Ok(())
}

static SLOW_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn slow(n: u64) -> u64 {
    SLOW_RAN.fetch_add(1, SeqCst);
    std::thread::sleep(Duration::from_millis(200));
    n * 2
}

#[test]
fn eight_threads_share_one_call_in_flight() -> Result<(), Error> {
    handle!(slow).set_mode(Mode::Cache)?;
    let statuses: Vec<(u64, Option<CallStatus>)> = std::thread::scope(|scope| {
        let calls: Vec<_> = (0..8).map(|_| scope.spawn(|| (slow(21), last_status()))).collect();
        calls.into_iter().map(|call| call.join().unwrap_or((0, None))).collect()
    });
    assert_eq!(SLOW_RAN.load(SeqCst), 1, "the function ran once");
    assert!(statuses.iter().all(|(value, _)| *value == 42), "{statuses:?}");
    let waited = statuses.iter().filter(|(_, status)| *status == Some(CallStatus::Waited)).count();
    let missed = statuses.iter().filter(|(_, status)| *status == Some(CallStatus::Miss)).count();
    assert_eq!((missed, waited), (1, 7), "{statuses:?}");
    Ok(())
}

static SLOW_ASYNC_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
async fn slow_async(n: u64) -> u64 {
    SLOW_ASYNC_RAN.fetch_add(1, SeqCst);
    tokio::time::sleep(Duration::from_millis(200)).await;
    n * 2
}

#[tokio::test(flavor = "current_thread")]
async fn eight_tasks_share_one_call_in_flight_without_blocking_the_executor() -> Result<(), Error> {
    handle!(slow_async).set_mode(Mode::Cache)?;
    let started = Instant::now();
    let tasks: Vec<_> = (0..8).map(|_| tokio::spawn(async { slow_async(4).await })).collect();
    for task in tasks {
        assert_eq!(task.await.ok(), Some(8));
    }
    assert_eq!(SLOW_ASYNC_RAN.load(SeqCst), 1);
    assert!(started.elapsed() < Duration::from_secs(2), "one executor thread served every waiter");
    Ok(())
}

static FAILING_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow(cache_errors = false)]
fn failing(n: u64) -> Result<u64, Timeout> {
    FAILING_RAN.fetch_add(1, SeqCst);
    std::thread::sleep(Duration::from_millis(100));
    if n == 0 { Err(Timeout) } else { Ok(n) }
}

#[test]
fn waiters_of_an_unrecorded_error_call_the_function_themselves() -> Result<(), Error> {
    handle!(failing).set_mode(Mode::Cache)?;
    let results: Vec<_> = std::thread::scope(|scope| {
        let calls: Vec<_> = (0..3).map(|_| scope.spawn(|| failing(0))).collect();
        calls.into_iter().map(|call| call.join().ok()).collect()
    });
    assert!(results.iter().all(|result| *result == Some(Err(Timeout))));
    assert_eq!(FAILING_RAN.load(SeqCst), 3, "nothing was recorded to share");
    Ok(())
}

static EVERY_CALL_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow(dedupe = false)]
fn every_call(n: u64) -> u64 {
    EVERY_CALL_RAN.fetch_add(1, SeqCst);
    std::thread::sleep(Duration::from_millis(100));
    n
}

#[test]
fn dedupe_false_runs_every_call() -> Result<(), Error> {
    handle!(every_call).set_mode(Mode::Cache)?;
    std::thread::scope(|scope| {
        let calls: Vec<_> = (0..3).map(|_| scope.spawn(|| every_call(1))).collect();
        calls.into_iter().for_each(|call| drop(call.join()));
    });
    assert_eq!(EVERY_CALL_RAN.load(SeqCst), 3);
    Ok(())
}

static RECURSIVE_RAN: AtomicU64 = AtomicU64::new(0);

/// Calls itself with the same key once: that call must run, not wait for itself.
#[cacheow(wait = "5s")]
fn recursive(depth: u64) -> u64 {
    if RECURSIVE_RAN.fetch_add(1, SeqCst) == 0 { recursive(depth) + 1 } else { depth }
}

#[test]
fn a_call_never_waits_for_itself() -> Result<(), Error> {
    handle!(recursive).set_mode(Mode::Cache)?;
    let started = Instant::now();
    assert_eq!(recursive(3), 4);
    assert!(started.elapsed() < Duration::from_secs(4), "it waited for itself");
    Ok(())
}

static FETCH_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn fetch(id: u32) -> u64 {
    FETCH_RAN.fetch_add(1, SeqCst)
}

#[cacheow]
fn outer(id: u32) -> u64 {
    fetch(id) * 1000
}

#[test]
fn bypass_refresh_and_max_age_apply_inside_their_closure_alone() -> Result<(), Error> {
    handle!(fetch).set_mode(Mode::Cache)?;
    handle!(outer).set_mode(Mode::Mock)?;
    let first = fetch(1);
    assert_eq!(fetch(1), first, "a hit");

    let bypassed = cacheow::bypass(|| fetch(1));
    assert_ne!(bypassed, first, "bypass called the function");
    assert_eq!(last_status(), Some(CallStatus::Bypassed));
    assert_eq!(fetch(1), first, "and recorded nothing");

    let refreshed = cacheow::refresh(|| fetch(1));
    assert_eq!(fetch(1), refreshed, "refresh recorded the new outcome");

    // A concurrent thread is not under the request.
    let other = std::thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(20));
        fetch(1)
    });
    let (in_closure, in_thread) = cacheow::bypass(|| {
        let value = fetch(1);
        (value, other.join().unwrap_or(u64::MAX))
    });
    assert_ne!(in_closure, refreshed);
    assert_eq!(in_thread, refreshed, "the other thread still hit");

    std::thread::sleep(Duration::from_millis(50));
    let aged = cacheow::max_age(Duration::from_millis(10), || fetch(1));
    assert_ne!(aged, refreshed, "older than 10 ms: called");
    assert_eq!(cacheow::max_age(Duration::from_secs(60), || fetch(1)), aged, "a minute: a hit");

    // Nested calls: refresh overrides outer's mock mode, and fetch's cache.
    let runs = FETCH_RAN.load(SeqCst);
    let nested = cacheow::refresh(|| outer(1));
    assert_eq!(FETCH_RAN.load(SeqCst), runs + 1, "the nested call ran too");
    assert_eq!(nested, runs * 1000);
    Ok(())
}

static FETCH_ASYNC_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
async fn fetch_async(n: u64) -> u64 {
    FETCH_ASYNC_RAN.fetch_add(1, SeqCst);
    tokio::task::yield_now().await;
    n * 2
}

#[tokio::test(flavor = "current_thread")]
async fn async_requests_apply_to_the_future_alone() -> Result<(), Error> {
    handle!(fetch_async).set_mode(Mode::Cache)?;
    let hit = fetch_async(9).await;
    assert_eq!(cacheow::bypass_async(async { fetch_async(9).await }).await, hit);
    assert_eq!(FETCH_ASYNC_RAN.load(SeqCst), 2, "bypassed: it ran");
    assert_eq!(last_status(), Some(CallStatus::Bypassed));
    cacheow::refresh_async(fetch_async(9)).await;
    assert_eq!(last_status(), Some(CallStatus::Recorded));
    cacheow::max_age_async(Duration::from_secs(60), fetch_async(9)).await;
    assert_eq!(last_status(), Some(CallStatus::Hit));
    assert_eq!(FETCH_ASYNC_RAN.load(SeqCst), 3);
    Ok(())
}

#[test]
fn the_status_follows_the_mode() -> Result<(), Error> {
    static RAN: AtomicU64 = AtomicU64::new(0);
    #[cacheow]
    fn counted(n: u64) -> u64 {
        RAN.fetch_add(1, SeqCst);
        n
    }
    let f = handle!(counted);
    counted(1);
    assert_eq!(last_status(), Some(CallStatus::Recorded));
    f.set_mode(Mode::Mock)?;
    counted(1);
    assert_eq!(last_status(), Some(CallStatus::Mock));
    let other_thread = Arc::new(std::thread::spawn(last_status).join().ok().flatten());
    assert_eq!(*other_thread, None, "the status is the thread's own");
    Ok(())
}

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

#[test]
fn clear_in_flight_releases_the_waiters() -> Result<(), Error> {
    static RAN: AtomicU64 = AtomicU64::new(0);
    #[cacheow(wait = "20s")]
    fn stuck(n: u64) -> u64 {
        if RAN.fetch_add(1, SeqCst) == 0 {
            std::thread::sleep(Duration::from_millis(1500));
        }
        n
    }
    let f = handle!(stuck);
    f.set_mode(Mode::Cache)?;
    std::thread::scope(|scope| {
        let leader = scope.spawn(|| stuck(1));
        std::thread::sleep(Duration::from_millis(100));
        let waiter = scope.spawn(|| {
            let started = Instant::now();
            (stuck(1), started.elapsed())
        });
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(f.clear_in_flight().ok(), Some(1));
        let (value, waited) = waiter.join().unwrap_or((0, Duration::MAX));
        assert_eq!(value, 1);
        assert!(waited < Duration::from_millis(1000), "{waited:?}: released before the leader ended");
        drop(leader.join());
    });
    Ok(())
}

static STALE_UNSHARED_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow(ttl = "100ms", serve_stale, dedupe = false)]
fn stale_unshared(n: u64) -> u64 {
    STALE_UNSHARED_RAN.fetch_add(1, SeqCst);
    std::thread::sleep(Duration::from_millis(200));
    n
}

#[test]
fn one_refresh_runs_per_key_even_without_dedupe() -> Result<(), Error> {
    handle!(stale_unshared).set_mode(Mode::Cache)?;
    stale_unshared(1);
    std::thread::sleep(Duration::from_millis(150));
    for _ in 0..10 {
        stale_unshared(1);
        assert_eq!(last_status(), Some(CallStatus::StaleHit));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(STALE_UNSHARED_RAN.load(SeqCst), 2, "the first call, and one refresh for the ten stale hits");
    Ok(())
}

static JOINING_RAN: AtomicU64 = AtomicU64::new(0);

/// Its first call joins a thread that calls it with the same key: that
/// thread waits for the first call, which waits for it, until `wait`.
#[cacheow(wait = "300ms")]
fn joining(n: u64) -> u64 {
    if JOINING_RAN.fetch_add(1, SeqCst) == 0 {
        std::thread::spawn(move || joining(n)).join().unwrap_or(0) + 1
    } else {
        n
    }
}

#[test]
fn wait_bounds_a_call_that_joins_a_thread_calling_it() -> Result<(), Error> {
    handle!(joining).set_mode(Mode::Cache)?;
    let started = Instant::now();
    assert_eq!(joining(5), 6);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(5), "{took:?}: bounded by `wait`");
    Ok(())
}

fn lowercase(name: &str, _greeting: &str) -> String {
    name.to_lowercase()
}

static KEYED_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow(key = lowercase)]
fn keyed(name: String, #[cacheow(skip)] greeting: &str) -> String {
    KEYED_RAN.fetch_add(1, SeqCst);
    format!("{greeting} {name}")
}

#[test]
fn a_custom_key_is_kept_by_a_rebuild_and_taken_by_invalidate() -> Result<(), Error> {
    let f = handle!(keyed);
    f.set_mode(Mode::Cache)?;
    assert_eq!(keyed("Ann".into(), "hello"), "hello Ann");
    assert_eq!(keyed("ANN".into(), "hi"), "hello Ann", "one entry");
    assert_eq!(f.outcomes()?[0].args, r#"{"name":"Ann"}"#, "the arguments are kept as they were");
    f.rebuild_index()?;
    assert_eq!(keyed("aNN".into(), "hi"), "hello Ann", "the rebuild read the key from the file");
    assert_eq!(KEYED_RAN.load(SeqCst), 1);
    assert_eq!(f.invalidate(serde_json::json!("ann"))?, 1, "the by-arguments API takes the key");
    assert_eq!(keyed("Ann".into(), "hey"), "hey Ann");
    Ok(())
}

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

#[cacheow(ttl = "100ms", cleanup = "200ms")]
fn cleaned_up(n: u64) -> u64 {
    n
}

#[test]
fn cleanup_deletes_expired_outcomes_in_the_background() -> Result<(), Error> {
    let f = handle!(cleaned_up);
    cleaned_up(1);
    cleaned_up(2);
    cacheow::manager().expect("on").flush();
    assert_eq!(f.outcomes()?.len(), 2);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !f.outcomes()?.is_empty() {
        assert!(Instant::now() < deadline, "the expired outcomes were never cleaned up");
        std::thread::sleep(Duration::from_millis(50));
    }
    let files = std::fs::read_dir(f.dir().expect("on")).map(|entries| entries.count()).unwrap_or(0);
    assert_eq!(files, 0, "their files too");
    Ok(())
}

static PRICED_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow(ttl = "150ms")]
fn priced(sku: String) -> u64 {
    PRICED_RAN.fetch_add(1, SeqCst);
    sku.len() as u64
}

#[test]
fn get_and_set_read_and_write_one_entry_by_its_arguments() -> Result<(), Error> {
    let f = handle!(priced);
    f.set_mode(Mode::Cache)?;
    assert_eq!(f.get::<u64>(serde_json::json!({"sku": "A1"}))?, None, "nothing yet; it never calls");
    f.set(serde_json::json!({"sku": "A1"}), &99u64)?;
    assert_eq!(f.get::<u64>(serde_json::json!({"sku": "A1"}))?, Some(99));
    assert_eq!(priced("A1".into()), 99, "a cache hit");
    assert_eq!(PRICED_RAN.load(SeqCst), 0);
    let wrong = f.get::<String>(serde_json::json!({"sku": "A1"})).err().map(|error| error.to_string());
    assert_eq!(
        wrong.as_deref(),
        Some("`runtime::policy::priced` returns `u64`, not `alloc::string::String`: ask for `u64`")
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(f.get::<u64>(serde_json::json!({"sku": "A1"}))?, None, "past its ttl");
    Ok(())
}

static QUOTED_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn quoted(symbol: String) -> Result<f64, Timeout> {
    QUOTED_RAN.fetch_add(1, SeqCst);
    Ok(symbol.len() as f64)
}

#[test]
fn get_and_set_take_and_give_the_result_of_a_function_returning_one() -> Result<(), Error> {
    let f = handle!(quoted);
    f.set_mode(Mode::Cache)?;
    f.set(serde_json::json!({"symbol": "ACME"}), &Err::<f64, Timeout>(Timeout))?;
    f.set(serde_json::json!({"symbol": "INIT"}), &Ok::<f64, Timeout>(1.5))?;
    assert_eq!(quoted("ACME".into()), Err(Timeout), "recorded as an error");
    assert_eq!(quoted("INIT".into()), Ok(1.5));
    assert_eq!(QUOTED_RAN.load(SeqCst), 0);
    assert_eq!(f.get::<Result<f64, Timeout>>(serde_json::json!({"symbol": "ACME"}))?, Some(Err(Timeout)));
    assert_eq!(f.get::<Result<f64, Timeout>>(serde_json::json!({"symbol": "INIT"}))?, Some(Ok(1.5)));
    Ok(())
}

/// Runs a future on this thread, outside any tokio runtime.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(value) => return value,
            std::task::Poll::Pending => std::thread::park(),
        }
    }
}

static FOREGROUND_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow(ttl = "100ms", serve_stale)]
async fn stale_without_tokio(n: u64) -> u64 {
    n * 10 + FOREGROUND_RAN.fetch_add(1, SeqCst)
}

#[test]
fn outside_a_tokio_runtime_an_expired_outcome_is_refreshed_in_the_foreground() -> Result<(), Error> {
    handle!(stale_without_tokio).set_mode(Mode::Cache)?;
    assert_eq!(block_on(stale_without_tokio(4)), 40);
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(block_on(stale_without_tokio(4)), 41, "the new outcome, not the stale one");
    assert_eq!(last_status(), Some(CallStatus::Miss));
    assert_eq!(block_on(stale_without_tokio(4)), 41);
    assert_eq!(last_status(), Some(CallStatus::Hit));
    Ok(())
}

#[cacheow]
fn renewed(n: u64) -> u64 {
    n
}

#[test]
fn recording_an_outcome_again_renews_the_age_in_its_file() -> Result<(), Error> {
    let f = handle!(renewed);
    renewed(1);
    cacheow::manager().expect("on").flush();
    let path = f.dir().expect("on").join(format!("{}.json", f.outcomes()?[0].id));
    let field = |name: &str| {
        let file: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_default()).unwrap_or_default();
        file[name].as_str().map(str::to_owned)
    };
    assert_eq!(field("last_recorded_at"), field("recorded_at"), "recorded once");
    std::thread::sleep(Duration::from_millis(1100));
    renewed(1);
    cacheow::manager().expect("on").flush();
    let (first, last) = (field("recorded_at"), field("last_recorded_at"));
    assert!(last > first, "{last:?} is not after {first:?}: a rebuild from the files would lose the renewal");
    let info = &f.outcomes()?[0];
    assert_eq!(info.count, 2);
    assert!(info.last_recorded_at > info.recorded_at);
    Ok(())
}

static ASYNC_POLICY_RAN: AtomicU64 = AtomicU64::new(0);

fn positive(value: &Result<i64, Timeout>) -> bool {
    value.as_ref().is_ok_and(|n| *n > 0)
}

fn recent(entry: &Entry<'_, Result<i64, Timeout>>) -> bool {
    entry.age < Duration::from_secs(60)
}

#[cacheow(ttl = "150ms", cache_if = positive, cache_errors = false, validate = recent)]
async fn async_policy(n: i64) -> Result<i64, Timeout> {
    ASYNC_POLICY_RAN.fetch_add(1, SeqCst);
    tokio::task::yield_now().await;
    if n == 0 { Err(Timeout) } else { Ok(n) }
}

#[tokio::test(flavor = "current_thread")]
async fn the_policy_applies_to_async_functions_too() -> Result<(), Error> {
    let f = handle!(async_policy);
    f.set_mode(Mode::Cache)?;
    let ran = || ASYNC_POLICY_RAN.load(SeqCst);
    assert_eq!(async_policy(0).await, Err(Timeout));
    assert_eq!(async_policy(-1).await, Ok(-1));
    assert_eq!(last_status(), Some(CallStatus::NotRecorded), "cache_if refused it");
    assert_eq!(async_policy(5).await, Ok(5));
    assert_eq!(async_policy(5).await, Ok(5));
    assert_eq!((last_status(), ran()), (Some(CallStatus::Hit), 3));
    assert_eq!(f.outcomes()?.len(), 1, "neither the error nor the refused value");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(async_policy(5).await, Ok(5));
    assert_eq!((last_status(), ran()), (Some(CallStatus::Miss), 4), "expired");
    Ok(())
}
