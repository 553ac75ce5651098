//! The complete example of the Python cacheow, in Rust: record outcomes in
//! default mode, replay them from the cache, then mock the function.
//!
//! ```sh
//! CACHEOW_ENABLE=1 cargo run --example quickstart
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use cacheow::{Mode, cacheow};

#[cacheow]
fn sync_compute(n: u64) -> u64 {
    println!("computing {n}");
    std::thread::sleep(Duration::from_millis(100));
    n * n
}

#[cacheow]
async fn async_compute(n: u64) -> u64 {
    println!("async computing {n}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    n + 10
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), cacheow::Error> {
    let Some(manager) = cacheow::manager() else {
        eprintln!("cacheow is off: run this example with CACHEOW_ENABLE=1");
        std::process::exit(2);
    };
    let fn_id = cacheow::handle!(sync_compute).id();
    // Modes persist: start from default even if an earlier run left a mock.
    manager.db().set_mode(fn_id, Mode::Default)?;
    cacheow::handle!(async_compute).set_mode(Mode::Default)?;

    println!("=== Default mode: record outcomes ===");
    println!("sync_compute(3) = {}", sync_compute(3));
    println!("async_compute(5) = {}", async_compute(5).await);

    println!("\n=== Cache mode: replay from disk ===");
    manager.db().set_mode(fn_id, Mode::Cache)?;
    let start = Instant::now();
    let cached = sync_compute(3);
    println!("sync_compute(3) cached = {cached} in {:.1}ms", start.elapsed().as_secs_f64() * 1000.0);

    println!("\n=== Mock mode: never call original ===");
    manager.db().set_mode(fn_id, Mode::Mock)?;
    println!("sync_compute(999) mocked = {}", sync_compute(999));

    println!("\nData directory: {}", manager.settings().data_dir.display());
    if let Some(url) = manager.panel_url() {
        println!("Control panel: {url}");
        // Keep the panel up for a look, when someone is there to look.
        if std::io::stdin().is_terminal() {
            println!("Press Enter to stop.");
            let _ = std::io::stdin().read_line(&mut String::new());
        }
    }
    Ok(())
}
