//! Each mode, for sync, async, `Result` and method functions.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

use cacheow::{Error, Mode, cacheow, handle};
use serde::{Deserialize, Serialize};

static SQUARE_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn square(n: u64) -> u64 {
    SQUARE_RAN.fetch_add(1, SeqCst);
    n * n
}

#[test]
fn sync_function_records_caches_and_mocks() -> Result<(), Error> {
    let f = handle!(square);
    assert_eq!((square(3), square(3)), (9, 9));
    assert_eq!(SQUARE_RAN.load(SeqCst), 2, "default mode calls the function every time");
    assert_eq!(f.outcomes()?.len(), 1, "the same outcome twice is one outcome");
    assert_eq!(f.outcomes()?[0].count, 2);

    f.set_mode(Mode::Cache)?;
    assert_eq!(f.mode(), Mode::Cache);
    assert_eq!(square(3), 9);
    assert_eq!(SQUARE_RAN.load(SeqCst), 2, "a cache hit does not call the function");
    assert_eq!((square(4), square(4)), (16, 16));
    assert_eq!(SQUARE_RAN.load(SeqCst), 3, "a miss calls and records, the next call hits");

    f.set_mode(Mode::Mock)?;
    let mocked = square(1000);
    assert!(mocked == 9 || mocked == 16, "mock replays a recorded outcome, got {mocked}");
    assert_eq!(SQUARE_RAN.load(SeqCst), 3, "mock mode never calls the function");

    let stats = f.stats()?;
    assert_eq!((stats.total_calls, stats.cache_hits, stats.cache_misses, stats.mock_calls), (6, 2, 1, 1));
    assert_eq!(handle!(crate::modes::square).id(), f.id(), "a path names the same function");
    Ok(())
}

static ASYNC_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
async fn async_compute(n: u64) -> u64 {
    ASYNC_RAN.fetch_add(1, SeqCst);
    tokio::task::yield_now().await;
    n + 10
}

#[tokio::test]
async fn async_function_on_a_current_thread_runtime() -> Result<(), Error> {
    let f = handle!(async_compute);
    assert_eq!(async_compute(5).await, 15);
    f.set_mode(Mode::Cache)?;
    assert_eq!(async_compute(5).await, 15);
    assert_eq!(ASYNC_RAN.load(SeqCst), 1);
    f.set_mode(Mode::Mock)?;
    assert_eq!(async_compute(77).await, 15);
    assert_eq!(ASYNC_RAN.load(SeqCst), 1);
    Ok(())
}

static SPAWNED_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
async fn spawned_compute(n: u64) -> String {
    SPAWNED_RAN.fetch_add(1, SeqCst);
    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    format!("value {n}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_function_futures_are_send_and_work_across_threads() -> Result<(), Error> {
    let f = handle!(spawned_compute);
    let values: Vec<String> = futures_join((0..8).map(|n| tokio::spawn(spawned_compute(n % 4)))).await;
    assert_eq!(values[5], "value 1");
    f.set_mode(Mode::Cache)?;
    let ran = SPAWNED_RAN.load(SeqCst);
    let cached: Vec<String> = futures_join((0..4).map(|n| tokio::spawn(spawned_compute(n)))).await;
    assert_eq!(cached, ["value 0", "value 1", "value 2", "value 3"]);
    assert_eq!(SPAWNED_RAN.load(SeqCst), ran);
    Ok(())
}

async fn futures_join<T>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("the task finishes"));
    }
    out
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum LookupError {
    NotFound { id: u32 },
    RateLimited,
}

static LOOKUP_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn lookup(id: u32) -> Result<String, LookupError> {
    LOOKUP_RAN.fetch_add(1, SeqCst);
    match id {
        0 => Err(LookupError::RateLimited),
        1..=9 => Ok(format!("user {id}")),
        _ => Err(LookupError::NotFound { id }),
    }
}

#[test]
fn result_errors_record_as_errors_and_replay_as_err() -> Result<(), Error> {
    let f = handle!(lookup);
    assert_eq!(lookup(3), Ok("user 3".to_owned()));
    assert_eq!(lookup(42), Err(LookupError::NotFound { id: 42 }));
    let kinds: Vec<_> = f.outcomes()?.into_iter().map(|outcome| outcome.kind).collect();
    assert!(kinds.contains(&cacheow::OutcomeKind::Error) && kinds.contains(&cacheow::OutcomeKind::Return));

    f.set_mode(Mode::Cache)?;
    assert_eq!(lookup(42), Err(LookupError::NotFound { id: 42 }));
    assert_eq!(lookup(3), Ok("user 3".to_owned()));
    assert_eq!(LOOKUP_RAN.load(SeqCst), 2);
    assert_eq!(f.stats()?.errors, 2, "the recorded error and its replay");
    Ok(())
}

static IO_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn read_config(name: &str) -> std::io::Result<String> {
    IO_RAN.fetch_add(1, SeqCst);
    Err(std::io::Error::new(std::io::ErrorKind::PermissionDenied, format!("{name}: access denied")))
}

#[test]
fn io_errors_replay_with_kind_and_message() -> Result<(), Error> {
    let first = read_config("app.toml").err().map(|e| (e.kind(), e.to_string()));
    handle!(read_config).set_mode(Mode::Mock)?;
    let replayed = read_config("other.toml").err().map(|e| (e.kind(), e.to_string()));
    assert_eq!(replayed, first);
    assert_eq!(replayed.map(|(kind, _)| kind), Some(std::io::ErrorKind::PermissionDenied));
    assert_eq!(IO_RAN.load(SeqCst), 1);
    Ok(())
}

static BOXED_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
async fn fetch_quote(symbol: String) -> Result<f64, Box<dyn std::error::Error + Send + Sync>> {
    BOXED_RAN.fetch_add(1, SeqCst);
    if symbol.is_empty() {
        return Err("no symbol".into());
    }
    Ok(symbol.parse::<f64>()?)
}

#[tokio::test]
async fn boxed_errors_replay_with_their_message() -> Result<(), Error> {
    let first = fetch_quote("12.5x".to_owned()).await.err().map(|e| e.to_string());
    assert_eq!(first.as_deref(), Some("invalid float literal"));
    assert_eq!(fetch_quote("1.5".to_owned()).await.ok(), Some(1.5));
    handle!(fetch_quote).set_mode(Mode::Cache)?;
    let replayed = fetch_quote("12.5x".to_owned()).await.err().map(|e| e.to_string());
    assert_eq!(replayed, first, "the recorded error, as its message");
    assert_eq!(fetch_quote("1.5".to_owned()).await.ok(), Some(1.5));
    assert_eq!(BOXED_RAN.load(SeqCst), 2, "both replayed");
    Ok(())
}

static ANYHOW_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn parse_port(text: &str) -> anyhow::Result<u16> {
    use anyhow::Context;
    ANYHOW_RAN.fetch_add(1, SeqCst);
    text.parse::<u16>().with_context(|| format!("reading the port {text:?}"))
}

#[test]
fn anyhow_errors_replay_with_their_chain() -> Result<(), Error> {
    let first = parse_port("http").err().map(|e| format!("{e:#}"));
    handle!(parse_port).set_mode(Mode::Cache)?;
    let replayed = parse_port("http").err().map(|e| format!("{e:#}"));
    assert_eq!(replayed, first);
    assert_eq!(replayed.as_deref(), Some("reading the port \"http\": invalid digit found in string"));
    assert_eq!(ANYHOW_RAN.load(SeqCst), 1);
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct User {
    id: u32,
    name: String,
}

struct Client {
    requests: u32,
}

impl Client {
    #[cacheow]
    fn fetch(&self, id: u32) -> User {
        User { id, name: format!("user {id} via {}", self.requests) }
    }

    #[cacheow]
    fn request(&mut self, id: u32) -> u32 {
        self.requests += 1;
        id * 100 + self.requests
    }
}

struct OtherClient;

impl OtherClient {
    #[cacheow]
    fn fetch(&self, id: u32) -> u32 {
        id
    }
}

#[test]
fn methods_leave_self_out_of_the_key() -> Result<(), Error> {
    let mut client = Client { requests: 0 };
    let f = handle!(Client::fetch);
    let first = client.fetch(7);
    f.set_mode(Mode::Cache)?;
    client.requests = 99;
    assert_eq!(client.fetch(7), first, "another `self` still hits");

    let request = handle!(Client::request);
    assert_eq!(client.request(1), 200, "id 1, 100th request");
    request.set_mode(Mode::Cache)?;
    assert_eq!(client.request(1), 200);
    assert_eq!(client.requests, 100, "a replayed `&mut self` call does not run");
    request.set_mode(Mode::Mock)?;
    assert_eq!(client.request(8), 200, "mock mode replays for other arguments");
    request.set_mode(Mode::Default)?;
    assert_eq!(client.request(1), 201, "default mode runs it again");
    f.set_mode(Mode::Mock)?;
    assert_eq!(Client { requests: 5 }.fetch(1), first);
    Ok(())
}

#[test]
fn same_named_methods_of_two_types_are_two_functions() -> Result<(), Error> {
    let (client, other) = (handle!(Client::fetch), handle!(OtherClient::fetch));
    assert_ne!(client.id(), other.id());
    assert!(client.name().ends_with("modes::Client::fetch"), "{}", client.name());
    assert!(other.name().ends_with("modes::OtherClient::fetch"), "{}", other.name());
    for id in [client.id(), other.id()] {
        assert!(id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{id}");
    }
    assert_eq!(OtherClient.fetch(5), 5);
    Ok(())
}

static NOTHING_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn never_recorded(query: &str, limit: u8) -> Vec<String> {
    NOTHING_RAN.fetch_add(1, SeqCst);
    vec![query.to_owned(); usize::from(limit)]
}

#[test]
fn mock_mode_with_nothing_to_replay_panics_with_what_to_do() -> Result<(), Error> {
    let f = handle!(never_recorded);
    f.set_mode(Mode::Mock)?;
    let panic = std::panic::catch_unwind(|| never_recorded("rust", 3)).expect_err("mock mode panics");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    for expected in ["never_recorded", f.id(), r#"{"limit":3,"query":"rust"}"#, "set_mode(Mode::Default)"] {
        assert!(message.contains(expected), "{expected:?} missing from: {message}");
    }
    assert_eq!(NOTHING_RAN.load(SeqCst), 0);
    Ok(())
}

static RECURSIVE_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn fibonacci(n: u64) -> u64 {
    RECURSIVE_RAN.fetch_add(1, SeqCst);
    if n < 2 { n } else { fibonacci(n - 1) + fibonacci(n - 2) }
}

#[test]
fn recursive_functions_cache_every_level() -> Result<(), Error> {
    handle!(fibonacci).set_mode(Mode::Cache)?;
    assert_eq!(fibonacci(30), 832_040);
    assert_eq!(RECURSIVE_RAN.load(SeqCst), 31, "each n runs once, the rest are hits");
    Ok(())
}

trait Pricing {
    fn price(&self, item: u32) -> u32;
    async fn quote(&self, item: u32) -> u32;
}

struct Shop;

static PRICE_RAN: AtomicU64 = AtomicU64::new(0);

impl Pricing for Shop {
    #[cacheow]
    fn price(&self, item: u32) -> u32 {
        PRICE_RAN.fetch_add(1, SeqCst);
        item * 2
    }

    #[cacheow]
    async fn quote(&self, item: u32) -> u32 {
        PRICE_RAN.fetch_add(1, SeqCst);
        item * 3
    }
}

#[tokio::test]
async fn trait_impl_methods_sync_and_async() -> Result<(), Error> {
    let (price, quote) = (handle!(<Shop as Pricing>::price), handle!(<Shop as Pricing>::quote));
    assert!(price.name().ends_with("<runtime::modes::Shop as runtime::modes::Pricing>::price"), "{}", price.name());
    assert_eq!((Shop.price(2), Shop.quote(2).await), (4, 6));
    price.set_mode(Mode::Mock)?;
    quote.set_mode(Mode::Mock)?;
    assert_eq!((Shop.price(9), Shop.quote(9).await), (4, 6));
    assert_eq!(PRICE_RAN.load(SeqCst), 2);
    Ok(())
}
