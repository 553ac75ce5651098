//! Functions that return an iterator or a stream, the Rust generators: the
//! items are recorded as the caller consumes them, as one outcome of kind
//! `items`, when the sequence ends or is dropped (then it is partial, and
//! never a cache hit). A replay gives the recorded items.

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_core::Stream;

use crate::model::args::Args;
use crate::model::codec::{Codec, CodecError, Source, wrong_kind};
use crate::model::items;
use crate::model::outcome::{OutcomeKind, Payload, Recorded};
use crate::model::policy::Rules;
use crate::model::report::warn_once;
use crate::runtime::Global;
use crate::runtime::call::{self, Start};
use crate::runtime::function::{Checker, Function};
use crate::runtime::panics;
use crate::runtime::scope;
use crate::runtime::sink::Sink;

/// Calls a function that returns an iterator.
pub(crate) fn call_iter<I: Iterator<Item = T>, T>(
    function: &'static Function,
    args: Args,
    item: Codec<T>,
    body: impl FnOnce() -> I,
    global: Global,
) -> Items<I, T> {
    match start(function, args, item, global) {
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
pub(crate) fn call_stream<S: Stream<Item = T>, T>(
    function: &'static Function,
    args: Args,
    item: Codec<T>,
    body: impl FnOnce() -> S,
    global: Global,
) -> StreamItems<S, T> {
    match start(function, args, item, global) {
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

fn start<T>(function: &'static Function, args: Args, item: Codec<T>, global: Global) -> Begin<T> {
    function.learn(Checker::Items(item.check), std::any::type_name::<Vec<T>>());
    let plan = call::plan(function, &args, global, false);
    let latency = plan.latency();
    let decode = |kind, source: Source<'_>| decode_values(item, kind, source.payload);
    match call::settle(plan, &args, &decode, &Rules::NONE) {
        Start::Replay { value, stopped_early } => {
            let stopped_early = stopped_early.then_some(function);
            Begin::Replay { items: Replayed { total: value.len(), items: value.into_iter(), stopped_early }, latency }
        }
        // Sequences are never served stale: they have no `serve_stale`.
        Start::Stale { value, .. } => Begin::Replay {
            items: Replayed { total: value.len(), items: value.into_iter(), stopped_early: None },
            latency,
        },
        Start::Run(sink) => Begin::Record(Recorder::new(sink, item, args)),
        Start::Plain { .. } => Begin::Plain,
        // A verify run replays sequences without running them: items are
        // recorded as the caller consumes them, which a replay cannot be.
        Start::Verify { outcome, .. } => {
            let value = scope::replay(function, &outcome, &decode);
            Begin::Replay {
                items: Replayed { total: value.len(), items: value.into_iter(), stopped_early: None },
                latency,
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
    items: Vec<Recorded>,
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
        match panics::catch(body) {
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
        let outcome = Recorded { partial, ..Recorded::new(OutcomeKind::Items, items::encode(&items)) };
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

/// The recorded items, each decoded as the item type.
fn decode_values<T>(item: Codec<T>, kind: OutcomeKind, payload: &Payload) -> Result<Vec<T>, CodecError> {
    if kind != OutcomeKind::Items {
        return Err(wrong_kind(kind));
    }
    items::decode(payload)?.iter().map(|(kind, item_payload)| (item.decode)(*kind, item_payload.into())).collect()
}
