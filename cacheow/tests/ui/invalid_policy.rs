use std::rc::Rc;

#[cacheow::cacheow(serve_stale)]
fn stale_without_ttl(n: u64) -> u64 {
    n
}

#[cacheow::cacheow(ttl = "1m", serve_stale)]
fn stale_borrowed(name: &str) -> String {
    name.to_owned()
}

#[cacheow::cacheow(ttl = "1m", serve_stale)]
fn stale_not_send(#[cacheow(skip)] counter: Rc<u8>, n: u64) -> u64 {
    n + u64::from(*counter)
}

#[cacheow::cacheow(cache_errors = false)]
fn no_result(n: u64) -> u64 {
    n
}

fn keep_text(value: &String) -> bool {
    !value.is_empty()
}

#[cacheow::cacheow(cache_if = keep_text)]
fn wrong_cache_if(n: u64) -> u64 {
    n
}

#[cacheow::cacheow(ttl = "soon", dedupe = "processes", tags(""))]
fn bad_values(n: u64) -> u64 {
    n
}

#[cacheow::cacheow(cleanup = "30m")]
fn cleanup_without_ttl(n: u64) -> u64 {
    n
}

fn main() {}
