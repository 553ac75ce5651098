//! One call of a decorated function, in its mode: record, replay from the
//! cache, or mock. Nothing here fails the call: a problem inside cacheow is
//! logged and the function runs as if cacheow were off. The one documented
//! panic is mock mode with nothing to replay.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::args::Args;
use crate::call_log::CallEvent;
use crate::codec::Codec;
use crate::function::Function;
use crate::outcome::Replay;
use crate::state::FunctionState;
use crate::warn_once::warn_once;
use crate::{Mode, ids};

/// Calls a synchronous function through cacheow.
pub fn call_sync<R>(function: &'static Function, args: Args, codec: Codec<R>, body: impl FnOnce() -> R) -> R {
    let Ok(state) = function.state() else { return body() };
    let started = Instant::now();
    let replay = match state.mode() {
        Mode::Default => None,
        Mode::Cache => state.cached(&args).map(|outcome| (CallEvent::Hit, outcome)),
        Mode::Mock => Some((CallEvent::Mock, mock_outcome(state, &args))),
    };
    if let Some((event, outcome)) = replay {
        sleep(state.latency());
        if let Some(value) = decode(state, &args, codec, event, &outcome) {
            state.log_call(event, &args, Some(&outcome), started, started.elapsed());
            return value;
        }
    }
    let started = Instant::now();
    let value = body();
    record(state, &args, codec, started, &value);
    value
}

/// Calls an `async` function through cacheow. The latency is awaited, not
/// slept, so it never blocks the executor.
pub async fn call_async<R, F: Future<Output = R>>(
    function: &'static Function,
    args: Args,
    codec: Codec<R>,
    body: F,
) -> R {
    let Ok(state) = function.state() else { return body.await };
    let started = Instant::now();
    let replay = match state.mode() {
        Mode::Default => None,
        Mode::Cache => state.cached(&args).map(|outcome| (CallEvent::Hit, outcome)),
        Mode::Mock => Some((CallEvent::Mock, mock_outcome(state, &args))),
    };
    if let Some((event, outcome)) = replay {
        let latency = state.latency();
        if !latency.is_zero() {
            futures_timer::Delay::new(latency).await;
        }
        // Decoded after the await, so that the future holds no `R` across it.
        if let Some(value) = decode(state, &args, codec, event, &outcome) {
            state.log_call(event, &args, Some(&outcome), started, started.elapsed());
            return value;
        }
    }
    let started = Instant::now();
    let value = body.await;
    record(state, &args, codec, started, &value);
    value
}

fn sleep(latency: Duration) {
    if !latency.is_zero() {
        std::thread::sleep(latency);
    }
}

/// The outcome mock mode replays; panics, as documented, when there is none.
fn mock_outcome(state: &FunctionState, args: &Args) -> Replay {
    state.mock(args).unwrap_or_else(|| {
        panic!(
            "cacheow: `{name}` (id {id}) is in mock mode but has no outcome to replay for the arguments {args}. \
             Record one first: switch it to default or cache mode (`cacheow::handle!(...).set_mode(Mode::Default)` \
             or the control panel), call it, then switch it back to mock",
            name = state.name,
            id = state.id,
            args = args.text,
        )
    })
}

/// The recorded value, or `None` when it no longer decodes (a hand edit, a
/// changed type): cache mode then calls the function, mock mode panics.
fn decode<R>(state: &FunctionState, args: &Args, codec: Codec<R>, event: CallEvent, outcome: &Replay) -> Option<R> {
    match (codec.decode)(outcome.kind, &outcome.payload) {
        Ok(value) => Some(value),
        Err(error) if event == CallEvent::Mock => panic!(
            "cacheow: `{name}` is in mock mode but its outcome {outcome} for the arguments {args} cannot be \
             replayed: {error}. Fix or delete the outcome file {outcome}.json of the function {id}",
            name = state.name,
            id = state.id,
            outcome = ids::id_hex(outcome.id),
            args = args.text,
        ),
        Err(error) => {
            warn_once(
                format!("decode:{}:{}", state.id, outcome.id),
                format_args!(
                    "cacheow cannot replay outcome {} of `{}` ({error}); calling the function instead",
                    ids::id_hex(outcome.id),
                    state.name
                ),
            );
            None
        }
    }
}

fn record<R>(state: &FunctionState, args: &Args, codec: Codec<R>, started: Instant, value: &R) {
    let duration = started.elapsed();
    let event = match state.mode() {
        Mode::Cache => CallEvent::Miss,
        _ => CallEvent::Recorded,
    };
    match (codec.encode)(value) {
        Ok(encoded) => state.record(args, encoded, started, duration, event),
        Err(error) => {
            warn_once(
                format!("encode:{}", state.id),
                format_args!(
                    "cacheow cannot record the outcome of `{}` ({error}); its calls are not recorded",
                    state.name
                ),
            );
            state.log_call(event, args, None, started, duration);
        }
    }
}
