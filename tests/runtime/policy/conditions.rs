//! What is kept and replayed: cache_if, cache_errors and validate, for
//! sync and async functions.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use cacheow::{CallStatus, Entry, Error, Mode, cacheow, handle, last_status};

use super::Timeout;

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
