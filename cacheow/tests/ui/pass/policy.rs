//! Every policy option together, sync and async, compiles without a warning.
#![deny(warnings)]

use std::time::Duration;

fn ttl_of(value: &u64) -> Duration {
    Duration::from_secs(*value)
}

fn keep(value: &Result<u64, std::io::Error>) -> bool {
    value.is_ok()
}

fn still_good(entry: &cacheow::Entry<'_, Result<u64, std::io::Error>>) -> bool {
    entry.age < Duration::from_secs(60)
}

#[cacheow::cacheow(ttl_from = ttl_of, serve_stale, tags("a", "b"), dedupe = false, wait = "1s")]
fn stale(n: u64) -> u64 {
    n
}

#[cacheow::cacheow(ttl = "10m", cache_if = keep, cache_errors = false, validate = still_good)]
async fn fetch(n: u64) -> Result<u64, std::io::Error> {
    Ok(n)
}

#[cacheow::cacheow(ttl = "1h", serve_stale)]
async fn stale_async(name: String) -> usize {
    name.len()
}

fn main() {
    let _ = (stale(1), fetch(1), stale_async(String::new()));
}
