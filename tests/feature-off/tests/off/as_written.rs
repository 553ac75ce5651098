//! Runs with CACHEOW_ENABLE=1, yet cacheow does nothing: the instrumentation
//! is not in the binary.
#![allow(unsafe_code)]

use std::time::Duration;

use cacheow::{Error, ManualOutcome, Mode, cacheow};

/// Not `Serialize`: fine, since nothing records it.
struct Connection(u32);

#[cacheow]
fn query(conn: &Connection, n: u32) -> u32 {
    conn.0 + n
}

#[cacheow]
async fn fetch(n: u32) -> u32 {
    n * 2
}

/// The README's quick start: unchanged, it runs in a release build too.
fn quick_start() -> Result<(), Error> {
    fetch_now(3);
    cacheow::handle!(fetch_now).set_mode(Mode::Cache)?;
    fetch_now(3);
    Ok(())
}

#[cacheow]
fn fetch_now(n: u64) -> u64 {
    n * n
}

fn main() {
    let data_dir = std::env::temp_dir().join(format!("cacheow-feature-off-{}", std::process::id()));
    // SAFETY: the only thread.
    unsafe {
        std::env::set_var("CACHEOW_ENABLE", "1");
        std::env::set_var("CACHEOW_DATA_DIR", &data_dir);
    }
    assert_eq!(query(&Connection(1), 2), 3);
    let waker = std::task::Waker::noop();
    let mut future = std::pin::pin!(fetch(4));
    assert_eq!(future.as_mut().poll(&mut std::task::Context::from_waker(waker)), std::task::Poll::Ready(8));

    assert!(cacheow::manager().is_none(), "no runtime without the feature");
    let f = cacheow::handle!(query);
    assert_eq!(f.id().len(), 16, "handles still know their id");
    assert_eq!(f.mode(), Mode::Default);
    // Off means off: control does nothing and succeeds, queries are empty.
    quick_start().expect("the quick start runs as it does with cacheow on");
    assert_eq!(f.set_mode(Mode::Mock).ok(), Some(()));
    assert_eq!(f.mode(), Mode::Default, "nothing changed");
    assert_eq!(f.set_latency(Duration::from_millis(5)).ok(), Some(()));
    assert!(f.set_latency(Duration::from_secs(7200)).is_err(), "input is still checked");
    assert_eq!(f.outcomes().map(|outcomes| outcomes.len()).ok(), Some(0));
    assert_eq!(f.add_manual_outcome(ManualOutcome::returns(3)).map(|id| id.len()).ok(), Some(16));
    assert_eq!(f.clear().ok(), Some(()));
    assert_eq!(f.stats().map(|stats| stats.total_calls).ok(), Some(0));
    assert!(!data_dir.exists(), "nothing touched the disk");
}
