//! Functions that return an iterator or a stream, the Rust generators: the
//! items are recorded as the caller consumes them, as one outcome of kind
//! `items`, when the sequence ends or is dropped (then it is partial, and
//! never a cache hit). A replay gives the recorded items.

use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_core::Stream;
use serde_json::{Map, Value};

use crate::args::Args;
use crate::call::{self, Start};
use crate::call_log::CallEvent;
use crate::codec::{Codec, CodecError, Encoded};
use crate::function::{Checker, Function};
use crate::outcome::{OutcomeKind, Payload};
use crate::scope::{Hook, Recorded};
use crate::state::FunctionState;
use crate::warn_once::warn_once;

/// Calls a function that returns an iterator.
pub fn call_iter<I: Iterator<Item = T>, T>(
    function: &'static Function,
    args: Args,
    item: Codec<T>,
    body: impl FnOnce() -> I,
) -> Items<I, T> {
    match start(function, args, item) {
        Begin::Replay { items, latency } => {
            if !latency.is_zero() {
                std::thread::sleep(latency);
            }
            Items(ItemsState::Replayed(items))
        }
        Begin::Record(recorder) => {
            let inner = recorder.run(function, body);
            Items(ItemsState::Live { inner, recorder: Some(recorder) })
        }
        Begin::Plain => Items::plain(body()),
    }
}

/// Calls a function that returns a stream.
pub fn call_stream<S: Stream<Item = T>, T>(
    function: &'static Function,
    args: Args,
    item: Codec<T>,
    body: impl FnOnce() -> S,
) -> StreamItems<S, T> {
    match start(function, args, item) {
        Begin::Replay { items, latency } => StreamItems {
            inner: None,
            recorder: None,
            replayed: Some(items),
            // Awaited on the first poll: it never blocks the executor.
            delay: (!latency.is_zero()).then(|| futures_timer::Delay::new(latency)),
        },
        Begin::Record(recorder) => {
            let inner = recorder.run(function, body);
            StreamItems { inner: Some(inner), recorder: Some(recorder), replayed: None, delay: None }
        }
        Begin::Plain => StreamItems::plain(body()),
    }
}

/// How a call of a sequence starts.
enum Begin<T> {
    /// The recorded items, after the function's latency.
    Replay { items: Replayed<T>, latency: Duration },
    /// The function runs, and its items are recorded.
    Record(Recorder<T>),
    /// The function runs, and nothing is recorded.
    Plain,
}

fn start<T>(function: &'static Function, args: Args, item: Codec<T>) -> Begin<T> {
    function.learn(Checker::Items(item.check));
    let plan = call::plan(function, &args);
    let latency = plan.latency();
    let decode = |kind, payload: &Payload| decode_values(item, kind, payload);
    match call::settle(plan, &args, &decode) {
        Start::Replay { value, stopped_early } => {
            let stopped_early = stopped_early.then_some(function);
            Begin::Replay { items: Replayed { total: value.len(), items: value.into_iter(), stopped_early }, latency }
        }
        Start::Run(sink) => Begin::Record(Recorder::new(sink, item, args)),
        Start::Plain => Begin::Plain,
    }
}

/// Where an outcome goes once the call that gives it ends.
pub(crate) enum Sink {
    /// The data dir, through the function's state.
    Runtime { state: &'static FunctionState, event: CallEvent },
    /// A test's fixtures, through its scope.
    Scope { hook: Arc<dyn Hook>, ticket: u64 },
}

impl Sink {
    pub(crate) fn record(&self, args: &Args, outcome: Encoded, started: Instant) {
        match self {
            Sink::Runtime { state, event } => state.record(args, outcome, started, started.elapsed(), *event),
            Sink::Scope { hook, ticket } => {
                let recorded = Recorded {
                    kind: outcome.kind,
                    payload: outcome.payload,
                    error_type: outcome.error_type.map(str::to_owned),
                    partial: outcome.partial,
                };
                hook.record(*ticket, recorded, started.elapsed());
            }
        }
    }
}

/// Collects the items a live sequence gives, and records them when it ends
/// or is dropped.
pub(crate) struct Recorder<T> {
    /// `None` once recorded, or when an item could not be encoded.
    sink: Option<Sink>,
    codec: Codec<T>,
    args: Args,
    items: Vec<Encoded>,
    started: Instant,
}

impl<T> Recorder<T> {
    fn new(sink: Sink, codec: Codec<T>, args: Args) -> Recorder<T> {
        Recorder { sink: Some(sink), codec, args, items: Vec::new(), started: Instant::now() }
    }

    /// Makes the sequence; a panic doing so is recorded, then raised again.
    fn run<S>(&self, function: &Function, body: impl FnOnce() -> S) -> S {
        if !function.meta().record_panics {
            return body();
        }
        match crate::panics::catch(body) {
            Ok(sequence) => sequence,
            Err(caught) => caught.record_and_resume(|outcome| {
                if let Some(sink) = &self.sink {
                    sink.record(&self.args, outcome, self.started);
                }
            }),
        }
    }

    /// Records what the sequence gave; `rest` is its size hint after it.
    /// A sequence known to be at its end is recorded whole at once: a
    /// caller that takes exactly all its items never asks for the end.
    fn saw(&mut self, item: Option<&T>, rest: (usize, Option<usize>)) {
        match item {
            Some(item) => {
                self.item(item);
                if rest == (0, Some(0)) {
                    self.finish(false);
                }
            }
            None => self.finish(false),
        }
    }

    fn item(&mut self, item: &T) {
        if self.sink.is_none() {
            return;
        }
        match (self.codec.encode)(item) {
            Ok(encoded) => self.items.push(encoded),
            Err(error) => {
                warn_once(
                    format!("encode-item:{}", self.args.text),
                    format_args!("cacheow cannot record an item of a sequence ({error}); this call is not recorded"),
                );
                self.sink = None;
            }
        }
    }

    fn finish(&mut self, partial: bool) {
        let Some(sink) = self.sink.take() else { return };
        let items = std::mem::take(&mut self.items);
        let mut outcome = Encoded::new(OutcomeKind::Items, encode_items(&items), None);
        outcome.partial = partial;
        sink.record(&self.args, outcome, self.started);
    }
}

impl<T> Drop for Recorder<T> {
    fn drop(&mut self) {
        // Dropped early: the items consumed so far, as a partial outcome.
        // Not while unwinding: a panic in the consumer says nothing of them.
        if !std::thread::panicking() {
            self.finish(true);
        }
    }
}

/// What a decorated function returning `impl Iterator` returns: the live
/// iterator, recorded as it is consumed, or the recorded items.
pub struct Items<I, T>(ItemsState<I, T>);

enum ItemsState<I, T> {
    Live { inner: I, recorder: Option<Recorder<T>> },
    Replayed(Replayed<T>),
}

/// Recorded items, as a replay gives them.
struct Replayed<T> {
    items: std::vec::IntoIter<T>,
    total: usize,
    /// The function of a test fixture recorded from a sequence the test
    /// stopped consuming early: what came after is unknown, so asking past
    /// its items fails the test rather than end the sequence there.
    stopped_early: Option<&'static Function>,
}

impl<T> Replayed<T> {
    fn next(&mut self) -> Option<T> {
        let item = self.items.next();
        if let (None, Some(function)) = (&item, self.stopped_early) {
            panic!(
                "cacheow-test: the fixture of `{}` holds the {} item(s) the test consumed when it was recorded, \
                 and the test stopped there; it now asks for more. Re-record it: CACHEOW_RECORD=all cargo test",
                function.name(),
                self.total,
            );
        }
        item
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (low, high) = self.items.size_hint();
        (low, if self.stopped_early.is_some() { None } else { high })
    }
}

impl<I, T> Items<I, T> {
    /// The iterator as the function made it, unrecorded: cacheow is off.
    #[doc(hidden)]
    pub fn plain(inner: I) -> Self {
        Items(ItemsState::Live { inner, recorder: None })
    }
}

impl<I: Iterator<Item = T>, T> Iterator for Items<I, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        match &mut self.0 {
            ItemsState::Live { inner, recorder } => {
                let item = inner.next();
                if let Some(recorder) = recorder {
                    recorder.saw(item.as_ref(), inner.size_hint());
                }
                item
            }
            ItemsState::Replayed(items) => items.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            ItemsState::Live { inner, .. } => inner.size_hint(),
            ItemsState::Replayed(items) => items.size_hint(),
        }
    }
}

pin_project_lite::pin_project! {
    /// What a decorated function returning a stream returns: the live
    /// stream, recorded as it is consumed, or the recorded items.
    pub struct StreamItems<S, T> {
        #[pin]
        inner: Option<S>,
        recorder: Option<Recorder<T>>,
        replayed: Option<Replayed<T>>,
        delay: Option<futures_timer::Delay>,
    }
}

impl<S, T> StreamItems<S, T> {
    /// The stream as the function made it, unrecorded: cacheow is off.
    #[doc(hidden)]
    pub fn plain(inner: S) -> Self {
        StreamItems { inner: Some(inner), recorder: None, replayed: None, delay: None }
    }
}

impl<S: Stream<Item = T>, T> Stream for StreamItems<S, T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.project();
        if let Some(delay) = this.delay {
            if Pin::new(delay).poll(cx).is_pending() {
                return Poll::Pending;
            }
            *this.delay = None;
        }
        if let Some(items) = this.replayed {
            return Poll::Ready(items.next());
        }
        let Some(mut inner) = this.inner.as_pin_mut() else { return Poll::Ready(None) };
        let item = std::task::ready!(inner.as_mut().poll_next(cx));
        if let Some(recorder) = this.recorder {
            recorder.saw(item.as_ref(), inner.size_hint());
        }
        Poll::Ready(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match (&self.replayed, &self.inner) {
            (Some(items), _) => items.size_hint(),
            (None, Some(inner)) => inner.size_hint(),
            (None, None) => (0, Some(0)),
        }
    }
}

/// The payload of an `items` outcome: a JSON array with one object per
/// item, `{"value": ..}` or `{"error": ..}` (`value_ron` and `error_ron`
/// for values JSON cannot hold).
pub(crate) fn encode_items(items: &[Encoded]) -> Payload {
    let records: Vec<Value> = items
        .iter()
        .map(|item| {
            let error = item.kind == OutcomeKind::Error;
            let (key, value) = match &item.payload {
                Payload::Json(text) => {
                    (if error { "error" } else { "value" }, serde_json::from_str(text).unwrap_or(Value::Null))
                }
                Payload::Ron(text) => (if error { "error_ron" } else { "value_ron" }, Value::String(text.to_string())),
            };
            Value::Object(Map::from_iter([(key.to_owned(), value)]))
        })
        .collect();
    Payload::Json(crate::fixture::canonical_json(&Value::Array(records)).into())
}

/// The items of an `items` outcome, each as an outcome of its own.
pub(crate) fn decode_items(payload: &Payload) -> Result<Vec<(OutcomeKind, Payload)>, CodecError> {
    let bad = |why: &str| CodecError(format!("the items of a sequence must be {why}"));
    let records: Vec<Map<String, Value>> =
        serde_json::from_str(payload.text()).map_err(|_| bad("a JSON array of objects"))?;
    records
        .into_iter()
        .map(|record| {
            let (key, value) = record.into_iter().next().ok_or_else(|| bad("objects with one field"))?;
            let ron =
                |value: Value| value.as_str().map(|text| Payload::Ron(text.into())).ok_or_else(|| bad("RON text"));
            match key.as_str() {
                "value" => Ok((OutcomeKind::Return, Payload::Json(crate::fixture::canonical_json(&value).into()))),
                "error" => Ok((OutcomeKind::Error, Payload::Json(crate::fixture::canonical_json(&value).into()))),
                "value_ron" => Ok((OutcomeKind::Return, ron(value)?)),
                "error_ron" => Ok((OutcomeKind::Error, ron(value)?)),
                _ => Err(bad("`value`, `error`, `value_ron` or `error_ron`")),
            }
        })
        .collect()
}

/// The recorded items, each decoded as the item type.
fn decode_values<T>(item: Codec<T>, kind: OutcomeKind, payload: &Payload) -> Result<Vec<T>, CodecError> {
    if kind != OutcomeKind::Items {
        return Err(crate::codec::wrong_kind(kind));
    }
    decode_items(payload)?.iter().map(|(kind, item_payload)| (item.decode)(*kind, item_payload)).collect()
}
