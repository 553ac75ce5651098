//! In-flight dedupe: calls of the same key share one call, but for
//! errors not recorded, `dedupe = false`, a call of itself and `wait`.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

use cacheow::{CallStatus, Error, Mode, cacheow, handle, last_status};

use super::Timeout;

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
