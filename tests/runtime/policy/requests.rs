//! Per-call control: bypass, refresh and max_age, the call status, and
//! reading and writing one entry by its arguments.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use cacheow::{CallStatus, Error, Mode, cacheow, handle, last_status};

use super::Timeout;

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
        Some("`runtime::policy::requests::priced` returns `u64`, not `alloc::string::String`: ask for `u64`")
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
