//! Runs with CACHEOW_ENABLE=1, yet cacheow does nothing: the instrumentation
//! is not in the binary.
#![allow(unsafe_code)]

use cacheow::{Error, Mode, cacheow};

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
    assert!(matches!(f.set_mode(Mode::Mock), Err(Error::Disabled)));
    assert!(!data_dir.exists(), "nothing touched the disk");
}
