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
use crate::{enable, scope};

/// Calls a synchronous function through cacheow.
pub fn call_sync<R>(function: &'static Function, args: Args, codec: Codec<R>, body: impl FnOnce() -> R) -> R {
    if let Some(hook) = scope::current() {
        return scope::call_sync(&*hook, function, &args, codec, body);
    }
    if enable::scopes_running() {
        scope::unattributed(function);
    }
    let Ok(state) = function.state() else { return body() };
    let started = Instant::now();
    let event = match state.mode() {
        Mode::Default => CallEvent::Recorded,
        mode => {
            let chosen = choose(state, &args, mode);
            if chosen.is_some() {
                sleep(state.latency());
            }
            match replay(state, &args, codec, mode, chosen) {
                Some(replayed) => return finish(state, &args, started, replayed),
                None => CallEvent::Miss,
            }
        }
    };
    let started = Instant::now();
    let value = body();
    record(state, &args, codec, event, started, &value);
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
    if let Some(hook) = scope::current() {
        return scope::call_async(hook, function, &args, codec, body).await;
    }
    if enable::scopes_running() {
        scope::unattributed(function);
    }
    let Ok(state) = function.state() else { return body.await };
    let started = Instant::now();
    let event = match state.mode() {
        Mode::Default => CallEvent::Recorded,
        mode => {
            let chosen = choose(state, &args, mode);
            let latency = state.latency();
            if chosen.is_some() && !latency.is_zero() {
                futures_timer::Delay::new(latency).await;
            }
            // Decoded after the await, so that the future holds no `R` across it.
            match replay(state, &args, codec, mode, chosen) {
                Some(replayed) => return finish(state, &args, started, replayed),
                None => CallEvent::Miss,
            }
        }
    };
    let started = Instant::now();
    let value = body.await;
    record(state, &args, codec, event, started, &value);
    value
}

fn sleep(latency: Duration) {
    if !latency.is_zero() {
        std::thread::sleep(latency);
    }
}

/// A replayed value, and the outcome it came from.
struct Replayed<R> {
    value: R,
    event: CallEvent,
    outcome: Replay,
}

fn finish<R>(state: &FunctionState, args: &Args, started: Instant, replayed: Replayed<R>) -> R {
    state.log_call(replayed.event, args, Some(&replayed.outcome), started, started.elapsed());
    replayed.value
}

/// The recorded outcome for these arguments in cache or mock mode, without
/// waiting its latency.
fn choose(state: &FunctionState, args: &Args, mode: Mode) -> Option<Replay> {
    match mode {
        Mode::Default => None,
        Mode::Cache => state.cached(args),
        Mode::Mock => state.mock(args),
    }
}

/// Cache and mock mode: the value of `chosen`, or of the next outcome when
/// it no longer decodes (a hand edit, a changed type): such an outcome is
/// dropped, with a warning; cache mode then calls the function, mock mode
/// picks another. Mock mode with nothing left to replay panics, as documented.
fn replay<R>(
    state: &FunctionState,
    args: &Args,
    codec: Codec<R>,
    mode: Mode,
    chosen: Option<Replay>,
) -> Option<Replayed<R>> {
    let event = if mode == Mode::Mock { CallEvent::Mock } else { CallEvent::Hit };
    let mut next = chosen;
    loop {
        let Some(outcome) = next.take().or_else(|| choose(state, args, mode)) else {
            if mode == Mode::Mock {
                panic_nothing_to_replay(state, args);
            }
            return None;
        };
        match (codec.decode)(outcome.kind, &outcome.payload) {
            Ok(value) => return Some(Replayed { value, event, outcome }),
            Err(error) => {
                warn_once(
                    format!("decode:{}:{}", state.id, outcome.id),
                    format_args!(
                        "cacheow cannot replay the outcome {} of `{}` ({error}): it is dropped, and recorded again \
                         when the function next runs",
                        ids::id_hex(outcome.id),
                        state.name
                    ),
                );
                state.discard(outcome.id);
            }
        }
    }
}

fn panic_nothing_to_replay(state: &FunctionState, args: &Args) -> ! {
    panic!(
        "cacheow: `{name}` (id {id}) is in mock mode but has no outcome to replay for the arguments {args}. \
         Record one first: switch it to default or cache mode (`cacheow::handle!(...).set_mode(Mode::Default)` \
         or the control panel), call it, then switch it back to mock",
        name = state.name,
        id = state.id,
        args = args.text,
    )
}

fn record<R>(state: &FunctionState, args: &Args, codec: Codec<R>, event: CallEvent, started: Instant, value: &R) {
    let duration = started.elapsed();
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
