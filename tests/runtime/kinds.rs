//! Every kind of function, in each mode: iterators and streams (their items
//! recorded as consumed), panics, async fns in trait impls, generic
//! functions, and the `name` and `version` options.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::{Duration, Instant};

use cacheow::{Error, MockOutcome, Mode, OutcomeKind, cacheow, handle};
use futures::executor::block_on;
use futures::stream::{self, BoxStream, Stream, StreamExt};

/// The message of the panic `run` raised.
fn panic_message(run: impl FnOnce()) -> String {
    crate::panics::panic_text(&*catch_unwind(AssertUnwindSafe(run)).expect_err("it panics"))
}

static COUNTDOWN_RAN: AtomicU32 = AtomicU32::new(0);

#[cacheow]
fn countdown(from: u32) -> impl Iterator<Item = u32> {
    COUNTDOWN_RAN.fetch_add(1, SeqCst);
    (0..from).rev()
}

#[test]
fn iterators_record_their_items_and_replay_them() -> Result<(), Error> {
    let f = handle!(countdown);
    assert_eq!(countdown(3).collect::<Vec<_>>(), [2, 1, 0]);
    let outcomes = f.outcomes()?;
    assert_eq!(outcomes.len(), 1);
    assert_eq!((outcomes[0].kind, outcomes[0].partial), (OutcomeKind::Items, false));
    assert_eq!(outcomes[0].value_preview, r#"[{"value":2},{"value":1},{"value":0}]"#);

    f.set_mode(Mode::Cache)?;
    assert_eq!(countdown(3).collect::<Vec<_>>(), [2, 1, 0], "a cache hit");
    assert_eq!(countdown(2).collect::<Vec<_>>(), [1, 0], "a miss, recorded");
    f.set_mode(Mode::Mock)?;
    f.set_mock_outcomes([MockOutcome::new(&outcomes[0].id)])?;
    assert_eq!(countdown(50).collect::<Vec<_>>(), [2, 1, 0], "mocked, for any arguments");
    assert_eq!(COUNTDOWN_RAN.load(SeqCst), 2);
    assert_eq!(f.stats()?.total_calls, 4);
    Ok(())
}

static LETTERS_RAN: AtomicU32 = AtomicU32::new(0);

#[cacheow]
fn letters(n: usize) -> impl Iterator<Item = char> + Send {
    LETTERS_RAN.fetch_add(1, SeqCst);
    ('a'..='z').take(n)
}

#[test]
fn an_iterator_dropped_early_is_partial_and_never_a_cache_hit() -> Result<(), Error> {
    let f = handle!(letters);
    assert_eq!(letters(5).take(2).collect::<String>(), "ab");
    let partial = f.outcomes()?;
    assert_eq!(partial.len(), 1);
    assert!(partial[0].partial, "dropped after two of five items");
    assert_eq!(partial[0].value_preview, r#"[{"value":"a"},{"value":"b"}]"#);

    f.set_mode(Mode::Cache)?;
    assert_eq!(letters(5).collect::<String>(), "abcde", "the partial recording is not a hit");
    assert_eq!(LETTERS_RAN.load(SeqCst), 2);
    assert_eq!(letters(5).collect::<String>(), "abcde", "the complete one is");
    assert_eq!(LETTERS_RAN.load(SeqCst), 2);
    f.set_mode(Mode::Mock)?;
    f.set_mock_outcomes([MockOutcome::new(&partial[0].id)])?;
    assert_eq!(letters(5).collect::<String>(), "ab", "mock mode replays partial recordings");
    Ok(())
}

#[cacheow]
fn parsed(text: String) -> impl Iterator<Item = Result<u32, String>> {
    let items: Vec<Result<u32, String>> =
        text.split(',').map(|part| part.parse().map_err(|_| format!("`{part}` is not a number"))).collect();
    items.into_iter()
}

#[test]
fn items_that_are_results_replay_their_errors_in_place() -> Result<(), Error> {
    let expected = vec![Ok(1), Err("`x` is not a number".to_owned()), Ok(3)];
    assert_eq!(parsed("1,x,3".to_owned()).collect::<Vec<_>>(), expected);
    handle!(parsed).set_mode(Mode::Cache)?;
    assert_eq!(parsed("1,x,3".to_owned()).collect::<Vec<_>>(), expected);
    assert!(handle!(parsed).outcomes()?[0].value_preview.contains(r#"{"error":"`x` is not a number"}"#));
    Ok(())
}

static TICKS_RAN: AtomicU32 = AtomicU32::new(0);

#[cacheow]
fn ticks(n: u64) -> impl Stream<Item = u64> {
    TICKS_RAN.fetch_add(1, SeqCst);
    stream::iter(0..n).then(|i| async move { i * 10 })
}

#[cacheow]
fn boxed_ticks(n: u64) -> Pin<Box<dyn Stream<Item = u64> + Send>> {
    TICKS_RAN.fetch_add(1, SeqCst);
    Box::pin(stream::iter(0..n))
}

#[cacheow]
fn box_stream(n: u64) -> BoxStream<'static, Result<u64, String>> {
    TICKS_RAN.fetch_add(1, SeqCst);
    stream::iter((0..n).map(|i| if i == 1 { Err("one".to_owned()) } else { Ok(i) })).boxed()
}

#[test]
fn streams_record_their_items_and_replay_them() -> Result<(), Error> {
    assert_eq!(block_on(ticks(3).collect::<Vec<_>>()), [0, 10, 20]);
    assert_eq!(block_on(boxed_ticks(2).collect::<Vec<_>>()), [0, 1]);
    assert_eq!(block_on(box_stream(3).collect::<Vec<_>>()), [Ok(0), Err("one".to_owned()), Ok(2)]);
    for f in [handle!(ticks), handle!(boxed_ticks), handle!(box_stream)] {
        f.set_mode(Mode::Cache)?;
        assert_eq!(f.outcomes()?[0].kind, OutcomeKind::Items);
    }
    handle!(ticks).set_latency(Duration::from_millis(30))?;
    let started = Instant::now();
    assert_eq!(block_on(ticks(3).collect::<Vec<_>>()), [0, 10, 20]);
    assert!(started.elapsed() >= Duration::from_millis(30), "the latency is awaited before the first item");
    assert_eq!(block_on(boxed_ticks(2).collect::<Vec<_>>()), [0, 1]);
    assert_eq!(block_on(box_stream(3).collect::<Vec<_>>()), [Ok(0), Err("one".to_owned()), Ok(2)]);
    assert_eq!(TICKS_RAN.load(SeqCst), 3, "the replays ran nothing");

    // A stream dropped early is partial, as an iterator.
    block_on(boxed_ticks(9).take(1).collect::<Vec<_>>());
    assert!(handle!(boxed_ticks).outcomes()?.iter().any(|outcome| outcome.partial));
    Ok(())
}

static FRAGILE_RAN: AtomicU32 = AtomicU32::new(0);

#[cacheow]
fn fragile(n: u32) -> u32 {
    FRAGILE_RAN.fetch_add(1, SeqCst);
    assert!(n != 0, "no zero allowed, got {n}");
    n
}

#[test]
fn panics_are_recorded_raised_again_and_replayed() -> Result<(), Error> {
    let f = handle!(fragile);
    assert_eq!(
        panic_message(|| {
            let _ = fragile(0);
        }),
        "no zero allowed, got 0"
    );
    let outcome = f.outcomes()?.into_iter().next().expect("the panic is recorded");
    assert_eq!(outcome.kind, OutcomeKind::Panic);
    assert!(outcome.value_preview.contains("no zero allowed, got 0"), "{}", outcome.value_preview);
    assert!(outcome.value_preview.contains("tests/runtime/kinds.rs:"), "where: {}", outcome.value_preview);
    assert_eq!(f.stats()?.errors, 1);

    f.set_mode(Mode::Cache)?;
    assert_eq!(
        panic_message(|| {
            let _ = fragile(0);
        }),
        "no zero allowed, got 0",
        "replayed"
    );
    assert_eq!(fragile(1), 1, "other arguments still run");
    f.set_mode(Mode::Mock)?;
    f.set_mock_outcomes([MockOutcome::new(&outcome.id)])?;
    assert_eq!(
        panic_message(|| {
            let _ = fragile(5);
        }),
        "no zero allowed, got 0",
        "mocked"
    );
    assert_eq!(FRAGILE_RAN.load(SeqCst), 2);
    Ok(())
}

#[cacheow]
async fn fragile_async(n: u32) -> u32 {
    futures::future::ready(()).await;
    assert!(n != 0, "async zero");
    n
}

#[cacheow(record_panics = false)]
fn unrecorded_panic(n: u32) -> u32 {
    assert!(n != 0, "not recorded");
    n
}

#[test]
fn async_panics_are_recorded_and_recording_can_be_turned_off() -> Result<(), Error> {
    assert_eq!(
        panic_message(|| {
            let _ = block_on(fragile_async(0));
        }),
        "async zero"
    );
    handle!(fragile_async).set_mode(Mode::Cache)?;
    assert_eq!(
        panic_message(|| {
            let _ = block_on(fragile_async(0));
        }),
        "async zero"
    );
    assert_eq!(handle!(fragile_async).outcomes()?[0].kind, OutcomeKind::Panic);

    assert_eq!(
        panic_message(|| {
            let _ = unrecorded_panic(0);
        }),
        "not recorded"
    );
    assert!(handle!(unrecorded_panic).outcomes()?.is_empty());
    Ok(())
}

mod before_rename {
    #[cacheow::cacheow(name = "profile_lookup")]
    pub(crate) fn fetch_profile(id: u32) -> String {
        format!("profile {id}")
    }
}

mod after_rename {
    pub(crate) static RAN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

    #[cacheow::cacheow(name = "profile_lookup")]
    pub(crate) fn load_profile(id: u32) -> String {
        RAN.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        format!("new profile {id}")
    }

    #[cacheow::cacheow(name = "profile_lookup", version = 2)]
    pub(crate) fn load_profile_v2(id: u32) -> String {
        format!("profile v2 {id}")
    }
}

#[test]
fn a_stable_name_keeps_the_id_across_renames_and_a_version_starts_afresh() -> Result<(), Error> {
    let (before, after) = (handle!(before_rename::fetch_profile), handle!(after_rename::load_profile));
    assert_eq!(before.id(), after.id(), "the id derives from the name");
    assert_ne!(before.name(), after.name(), "the path is still the function's");
    assert_eq!(before_rename::fetch_profile(4), "profile 4");
    after.set_mode(Mode::Cache)?;
    assert_eq!(after_rename::load_profile(4), "profile 4", "the outcome recorded before the rename");
    assert_eq!(after_rename::RAN.load(SeqCst), 0);

    let v2 = handle!(after_rename::load_profile_v2);
    assert_ne!(v2.id(), after.id());
    v2.set_mode(Mode::Cache)?;
    assert_eq!(after_rename::load_profile_v2(4), "profile v2 4", "a new version has outcomes of its own");
    Ok(())
}

trait Source {
    async fn fetch(&self, id: u32) -> String;
}

struct Remote;

static REMOTE_RAN: AtomicU32 = AtomicU32::new(0);

impl Source for Remote {
    #[cacheow]
    async fn fetch(&self, id: u32) -> String {
        REMOTE_RAN.fetch_add(1, SeqCst);
        format!("remote {id}")
    }
}

static DESCRIBED: AtomicU32 = AtomicU32::new(0);

#[cacheow]
fn describe<T: serde::Serialize + std::fmt::Debug>(value: T) -> String {
    DESCRIBED.fetch_add(1, SeqCst);
    format!("{value:?}")
}

#[test]
fn async_fns_of_trait_impls_and_generic_functions() -> Result<(), Error> {
    assert_eq!(block_on(Remote.fetch(1)), "remote 1");
    handle!(<Remote as Source>::fetch).set_mode(Mode::Cache)?;
    assert_eq!(block_on(Remote.fetch(1)), "remote 1");
    assert_eq!(REMOTE_RAN.load(SeqCst), 1);

    assert_eq!((describe(7u32), describe("seven")), ("7".to_owned(), "\"seven\"".to_owned()));
    let f = handle!(describe::<u32>);
    assert_eq!(f.id(), handle!(describe::<&str>).id(), "one function, whatever its type arguments");
    f.set_mode(Mode::Cache)?;
    assert_eq!((describe(7u32), describe("seven")), ("7".to_owned(), "\"seven\"".to_owned()));
    assert_eq!(DESCRIBED.load(SeqCst), 2, "keyed by the argument values");
    Ok(())
}

static DIGITS_RAN: AtomicU32 = AtomicU32::new(0);

#[cacheow]
fn digits(n: u32) -> impl Iterator<Item = u32> {
    DIGITS_RAN.fetch_add(1, SeqCst);
    0..n
}

#[test]
fn a_caller_that_takes_every_item_records_the_whole_sequence() -> Result<(), Error> {
    let f = handle!(digits);
    // `take(3)` never asks for the end: the iterator's size says it is there.
    assert_eq!(digits(3).take(3).collect::<Vec<_>>(), [0, 1, 2]);
    let outcomes = f.outcomes()?;
    assert_eq!(outcomes.len(), 1);
    assert!(!outcomes[0].partial, "every item was consumed");
    f.set_mode(Mode::Cache)?;
    assert_eq!(digits(3).collect::<Vec<_>>(), [0, 1, 2], "a cache hit");
    assert_eq!(DIGITS_RAN.load(SeqCst), 1);
    Ok(())
}

static IDENTITY_RAN: AtomicU32 = AtomicU32::new(0);

#[cacheow]
fn identity<T: serde::Serialize + serde::de::DeserializeOwned>(value: T) -> T {
    IDENTITY_RAN.fetch_add(1, SeqCst);
    value
}

struct Repo<T>(std::marker::PhantomData<T>);

impl<T: serde::Serialize + serde::de::DeserializeOwned + Default> Repo<T> {
    #[cacheow]
    fn load(id: u32) -> T {
        let _ = id;
        T::default()
    }
}

#[test]
fn generic_return_types_keep_every_instantiation_s_outcomes() -> Result<(), Error> {
    // One function, two return types: neither is "the" type to check against.
    assert_eq!((identity(7u32), identity("seven".to_owned())), (7, "seven".to_owned()));
    let f = handle!(identity::<u32>);
    let rebuilt = f.rebuild_index()?;
    assert_eq!((rebuilt.indexed, rebuilt.corrupt.len()), (2, 0), "{:?}", rebuilt.corrupt);
    f.add_manual_outcome(cacheow::ManualOutcome::returns(vec![1, 2]).mock_only())?;
    f.set_mode(Mode::Cache)?;
    assert_eq!((identity(7u32), identity("seven".to_owned())), (7, "seven".to_owned()));
    assert_eq!(IDENTITY_RAN.load(SeqCst), 2, "both replayed");

    // The same for a method of a generic `impl` block.
    assert_eq!((Repo::<u32>::load(1), Repo::<String>::load(2)), (0, String::new()));
    let rebuilt = handle!(Repo::<u32>::load).rebuild_index()?;
    assert_eq!((rebuilt.indexed, rebuilt.corrupt.len()), (2, 0), "{:?}", rebuilt.corrupt);
    Ok(())
}
