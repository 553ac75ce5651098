//! One call of a decorated function, in its mode: record, replay from the
//! cache, or mock. Nothing here fails the call: a problem inside cacheow is
//! logged and the function runs as if cacheow were off. The documented
//! panics are mock mode with nothing to replay, and a recorded panic.
//!
//! A call is planned (which outcome, if any, to replay), waits its latency,
//! then settles (decodes the outcome, or runs the function): async calls
//! await the latency between the two without holding a decoded value.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::model::args::Args;
use crate::model::codec::{Codec, CodecError, Source};
use crate::model::event::CallEvent;
use crate::model::ids;
use crate::model::mode::Mode;
use crate::model::outcome::OutcomeKind;
use crate::model::report::warn_once;
use crate::runtime::Global;
use crate::runtime::binding::{self, Binding};
use crate::runtime::function::{Checker, Function};
use crate::runtime::hook::{Decision, Hook};
use crate::runtime::panics::{self, CatchPanic};
use crate::runtime::payloads::Replay;
use crate::runtime::scope::{self, InBody, InBodyFuture};
use crate::runtime::sink::Sink;
use crate::runtime::state::{FunctionState, StateRef};
use crate::runtime::{enable, fork};

/// Calls a synchronous function through cacheow, in the runtime `global`
/// gives unless the thread is bound to another.
pub(crate) fn call_sync<R>(
    function: &'static Function,
    args: Args,
    codec: Codec<R>,
    body: impl FnOnce() -> R,
    global: Global,
) -> R {
    function.learn(Checker::Value(codec.check));
    let plan = plan(function, &args, global);
    let latency = plan.latency();
    if !latency.is_zero() {
        std::thread::sleep(latency);
    }
    match settle(plan, &args, &codec.decode) {
        Start::Replay { value, .. } => value,
        Start::Run(sink) => {
            let started = Instant::now();
            let value = {
                let _in = InBody::enter();
                if function.meta().record_panics {
                    panics::catch(body).unwrap_or_else(|caught| {
                        caught.record_and_resume(|outcome| sink.record(&args, outcome, started))
                    })
                } else {
                    body()
                }
            };
            record(&sink, function, &args, codec, started, &value);
            value
        }
        Start::Plain => body(),
    }
}

/// Calls an `async` function through cacheow. The latency is awaited, not
/// slept, so it never blocks the executor.
pub(crate) async fn call_async<R, F: Future<Output = R>>(
    function: &'static Function,
    args: Args,
    codec: Codec<R>,
    body: F,
    global: Global,
) -> R {
    function.learn(Checker::Value(codec.check));
    let plan = plan(function, &args, global);
    let latency = plan.latency();
    if !latency.is_zero() {
        futures_timer::Delay::new(latency).await;
    }
    match settle(plan, &args, &codec.decode) {
        Start::Replay { value, .. } => value,
        Start::Run(sink) => {
            let started = Instant::now();
            let body = InBodyFuture::new(body);
            let value = if function.meta().record_panics {
                match CatchPanic::new(body).await {
                    Ok(value) => value,
                    Err(caught) => caught.record_and_resume(|outcome| sink.record(&args, outcome, started)),
                }
            } else {
                body.await
            };
            record(&sink, function, &args, codec, started, &value);
            value
        }
        Start::Plain => body.await,
    }
}

/// What a call does, once planned and settled.
pub(crate) enum Start<R> {
    /// Return this recorded value. `stopped_early`: a test's fixture of a
    /// sequence the test stopped consuming before its end.
    Replay { value: R, stopped_early: bool },
    /// Run the function; its outcome goes to the sink.
    Run(Sink),
    /// Run the function; nothing is recorded.
    Plain,
}

/// Which outcome a call replays, before it is decoded.
pub(crate) enum Plan {
    /// A test scope decided.
    Scope { function: &'static Function, hook: Arc<dyn Hook>, decision: Decision },
    /// The data dir's state decided.
    Runtime { state: StateRef, mode: Mode, chosen: Option<Replay> },
    /// cacheow is off for this call.
    Plain,
}

impl Plan {
    /// The artificial latency before the replay: none for a call that runs.
    pub(crate) fn latency(&self) -> Duration {
        match self {
            Plan::Runtime { state, chosen: Some(_), .. } => state.latency(),
            _ => Duration::ZERO,
        }
    }
}

pub(crate) fn plan(function: &'static Function, args: &Args, global: Global) -> Plan {
    if fork::in_child() {
        return Plan::Plain;
    }
    let state = match binding::current() {
        Some(Binding::Scope(hook)) => {
            let decision = hook.decide(function, &args.text, scope::nested());
            return Plan::Scope { function, hook, decision };
        }
        Some(Binding::Runtime(runtime)) => StateRef::Shared(runtime.state(function)),
        None => {
            if enable::scopes_running() {
                scope::unattributed(function);
            }
            match function.global_state(|function| global().map(|runtime| runtime.state(function))) {
                Some(state) => StateRef::Static(state),
                None => return Plan::Plain,
            }
        }
    };
    let mode = state.mode();
    let chosen = choose(&state, args, mode);
    Plan::Runtime { state, mode, chosen }
}

/// Decodes the planned outcome, or says how the function runs.
pub(crate) fn settle<R>(
    plan: Plan,
    args: &Args,
    decode: &dyn Fn(OutcomeKind, Source<'_>) -> Result<R, CodecError>,
) -> Start<R> {
    match plan {
        Plan::Plain => Start::Plain,
        Plan::Scope { function, hook, decision } => match decision {
            Decision::Replay(outcome) => {
                Start::Replay { value: scope::replay(function, &outcome, decode), stopped_early: outcome.partial }
            }
            Decision::Call { ticket: Some(ticket) } => Start::Run(Sink::Scope { hook, ticket }),
            Decision::Call { ticket: None } => Start::Plain,
            Decision::Fail(message) => panic!("{message}"),
        },
        Plan::Runtime { state, mode, chosen } => {
            if mode == Mode::Default {
                return Start::Run(Sink::Runtime { state, event: CallEvent::Recorded });
            }
            match replay(&state, args, decode, mode, chosen) {
                Some((value, replayed)) => {
                    let event = if mode == Mode::Mock { CallEvent::Mock } else { CallEvent::Hit };
                    // A replay takes the latency it waited, and no more.
                    state.log_call(event, args, Some(&replayed), state.latency());
                    Start::Replay { value, stopped_early: false }
                }
                None => Start::Run(Sink::Runtime { state, event: CallEvent::Miss }),
            }
        }
    }
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
/// picks another. Mock mode with nothing left to replay panics, as
/// documented; so does a recorded panic.
fn replay<R>(
    state: &FunctionState,
    args: &Args,
    decode: &dyn Fn(OutcomeKind, Source<'_>) -> Result<R, CodecError>,
    mode: Mode,
    chosen: Option<Replay>,
) -> Option<(R, Replay)> {
    let mut next = chosen;
    loop {
        let Some(outcome) = next.take().or_else(|| choose(state, args, mode)) else {
            if mode == Mode::Mock {
                panic_nothing_to_replay(state, args);
            }
            return None;
        };
        if outcome.kind() == OutcomeKind::Panic {
            let event = if mode == Mode::Mock { CallEvent::Mock } else { CallEvent::Hit };
            state.log_call(event, args, Some(&outcome), Duration::ZERO);
            panics::replay(outcome.payload());
        }
        match decode(outcome.kind(), outcome.source()) {
            Ok(value) => return Some((value, outcome)),
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
                state.discard(outcome.id, outcome.arg_key);
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

fn record<R>(sink: &Sink, function: &Function, args: &Args, codec: Codec<R>, started: Instant, value: &R) {
    match (codec.encode)(value) {
        Ok(encoded) => sink.record(args, encoded, started),
        Err(error) => sink.unrecordable(function, args, started, &error),
    }
}
