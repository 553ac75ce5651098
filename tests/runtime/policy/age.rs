//! An outcome's age: ttl, serve_stale, ttl_from, background cleanup, and
//! the renewal recording the same outcome again gives.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

use cacheow::{CallStatus, Error, Mode, cacheow, handle, last_status};

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
