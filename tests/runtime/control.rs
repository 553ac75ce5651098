//! Latency, stats, clearing, the mock configuration and bad input.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

use cacheow::{Error, MockOutcome, Mode, cacheow, handle};

static SLOW_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn slow_lookup(id: u32) -> u32 {
    SLOW_RAN.fetch_add(1, SeqCst);
    id + 1
}

#[test]
fn latency_delays_replays() -> Result<(), Error> {
    let f = handle!(slow_lookup);
    slow_lookup(1);
    f.set_mode(Mode::Cache)?;
    f.set_latency(Duration::from_millis(60))?;
    assert_eq!(f.latency(), Duration::from_millis(60));
    let started = Instant::now();
    assert_eq!(slow_lookup(1), 2);
    assert!(started.elapsed() >= Duration::from_millis(60), "a hit waits the latency");
    assert_eq!(SLOW_RAN.load(SeqCst), 1);
    Ok(())
}

#[cacheow]
async fn remote_price(item: u32) -> u32 {
    item * 3
}

#[tokio::test(flavor = "current_thread")]
async fn async_latency_does_not_block_the_executor() -> Result<(), Error> {
    let f = handle!(remote_price);
    remote_price(2).await;
    f.set_mode(Mode::Mock)?;
    f.set_latency(Duration::from_millis(200))?;
    // On this single thread, the ticker only advances while the mock waits
    // if the latency yields to the executor.
    let ticks = AtomicU64::new(0);
    let ticker = async {
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(5)).await;
            ticks.fetch_add(1, SeqCst);
        }
    };
    let mocked = async {
        let price = remote_price(9).await;
        (price, ticks.load(SeqCst))
    };
    let ((price, ticks_meanwhile), ()) = tokio::join!(mocked, ticker);
    assert_eq!(price, 6);
    assert_eq!(ticks_meanwhile, 10, "the ticker ran while the mock waited");
    Ok(())
}

#[cacheow]
fn counted(n: u8) -> u8 {
    n
}

#[test]
fn outcomes_describe_what_was_recorded_and_clear_deletes_them() -> Result<(), Error> {
    let f = handle!(counted);
    let before = std::time::SystemTime::now() - Duration::from_secs(1);
    for n in [1, 2, 2, 2] {
        counted(n);
    }
    let outcomes = f.outcomes()?;
    assert_eq!(outcomes.len(), 2);
    let two = outcomes.iter().find(|o| o.args == r#"{"n":2}"#).expect("the outcome of counted(2)");
    assert_eq!((two.value_preview.as_str(), two.count, two.kind), ("2", 3, cacheow::OutcomeKind::Return));
    assert!(two.recorded_at > before);
    assert_eq!((two.id.len(), two.arg_key.len()), (16, 32));
    let file = crate::outcome_file(f, &two.id);
    assert!(file.exists());

    f.clear()?;
    assert!(f.outcomes()?.is_empty());
    assert!(!file.exists(), "clearing deletes the files");
    f.set_mode(Mode::Cache)?;
    assert_eq!(counted(2), 2);
    assert_eq!(f.outcomes()?.len(), 1, "recording starts again");
    assert!(crate::outcome_file(f, &two.id).exists(), "and writes files again");
    Ok(())
}

static WEIGHTED_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn weather(city: &str) -> String {
    WEIGHTED_RAN.fetch_add(1, SeqCst);
    format!("sunny in {city}")
}

#[test]
fn mock_entries_weight_disable_and_bind_outcomes() -> Result<(), Error> {
    let f = handle!(weather);
    for city in ["Oslo", "Rome", "Lima"] {
        weather(city);
    }
    let id = |city: &str| -> String {
        let outcomes = f.outcomes().unwrap_or_default();
        outcomes.into_iter().find(|o| o.args.contains(city)).map(|o| o.id).unwrap_or_default()
    };
    f.set_mode(Mode::Mock)?;
    f.set_mock_outcomes([
        MockOutcome::new(id("Oslo")).weight(9.0),
        MockOutcome::new(id("Rome")).weight(1.0),
        MockOutcome::new(id("Lima")).ignore_args(false),
    ])?;
    let draws: Vec<String> = (0..400).map(|_| weather("Paris")).collect();
    let oslo = draws.iter().filter(|d| d.ends_with("Oslo")).count();
    assert!(draws.iter().all(|d| !d.ends_with("Lima")), "Lima only replays for Lima");
    assert!((300..=390).contains(&oslo), "about 90% Oslo, got {oslo}/400");
    assert!(draws.iter().any(|d| d.ends_with("Rome")));

    // Once configured, only listed outcomes replay: Rome is left out.
    f.set_mock_outcomes([
        MockOutcome::new(id("Oslo")).enabled(false),
        MockOutcome::new(id("Lima")).ignore_args(false),
    ])?;
    assert!((0..50).all(|_| weather("Lima") == "sunny in Lima"), "only Lima is left, for Lima");
    assert_eq!(f.mock_outcomes()?.len(), 2);
    assert_eq!(WEIGHTED_RAN.load(SeqCst), 3);
    Ok(())
}

#[cacheow]
fn validated(n: u8) -> u8 {
    n
}

#[test]
fn bad_input_gets_a_clear_error_and_changes_nothing() -> Result<(), Error> {
    let f = handle!(validated);
    validated(1);
    let db = cacheow::manager().expect("cacheow is on").db();
    let error = f.set_latency(Duration::from_secs(7200)).expect_err("too long");
    assert!(matches!(error, Error::InvalidLatency { .. }), "{error}");
    assert_eq!(f.latency(), Duration::ZERO);
    let error = db.set_mode("../../etc", Mode::Mock).expect_err("not an id");
    assert!(error.to_string().contains("`../../etc` is not a function id"), "{error}");
    let error = db.set_mode("0000000000000000", Mode::Mock).expect_err("nobody has this id");
    assert!(matches!(error, Error::UnknownFunction { .. }), "{error}");
    let error = f.set_mock_outcomes([MockOutcome::new("0123456789abcdef")]).expect_err("no such outcome");
    assert!(matches!(error, Error::UnknownOutcome { .. }), "{error}");
    let outcome = f.outcomes()?[0].id.clone();
    for weight in [0.0, -1.0, f64::NAN] {
        let error = f.set_mock_outcomes([MockOutcome::new(&outcome).weight(weight)]).expect_err("bad weight");
        assert!(matches!(error, Error::InvalidWeight { .. }), "{error}");
    }
    assert!(f.mock_outcomes()?.is_empty());
    assert_eq!(
        "sideways".parse::<Mode>().map_err(|e| e.to_string()),
        Err("unknown mode `sideways`: expected `default`, `cache` or `mock`".to_owned())
    );
    assert_eq!(f.mode(), Mode::Default);
    Ok(())
}

fn not_decorated(n: u8) -> u8 {
    n
}

#[test]
fn handles_of_undecorated_functions_know_their_id_but_control_nothing() {
    let f = handle!(not_decorated);
    assert!(f.name().ends_with("control::not_decorated"), "{}", f.name());
    assert_eq!(f.id().len(), 16);
    assert!(matches!(f.set_mode(Mode::Mock), Err(Error::UnknownFunction { .. })));
    assert_eq!(not_decorated(4), 4);
}

struct Wrapper<T>(T);

impl Wrapper<u8> {
    #[cacheow]
    fn get(&self) -> u8 {
        self.0
    }
}

impl Wrapper<u16> {
    #[cacheow]
    fn get(&self) -> u16 {
        self.0
    }
}

#[test]
fn same_named_methods_of_two_impls_of_one_generic_type_are_reported() {
    assert!(cacheow::manager().is_some());
    assert_eq!((Wrapper(1u8).get(), Wrapper(2u16).get()), (1, 2));
    let warnings = crate::warnings();
    let shared = warnings.lines().find(|line| line.contains("Wrapper::get")).unwrap_or_default();
    assert!(shared.contains("share their outcomes and mode"), "{warnings}");
    assert!(shared.contains("tests/runtime/control.rs"), "{shared}");
}
