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
use crate::model::outcome::{OutcomeKind, Recorded};
use crate::model::policy::{Rules, Verdict};
use crate::model::report::warn_once;
use crate::model::signal::Signal;
use crate::model::status::CallStatus;
use crate::runtime::Global;
use crate::runtime::binding::{self, Binding};
use crate::runtime::function::{Checker, Function};
use crate::runtime::hook::{Decision, Hook};
use crate::runtime::in_flight::Joined;
use crate::runtime::lease::Claim;
use crate::runtime::panics;
use crate::runtime::payloads::Replay;
use crate::runtime::pull::{self, Unfound};
use crate::runtime::request::{self, Request};
use crate::runtime::run::Run;
use crate::runtime::scope;
use crate::runtime::sink::Sink;
use crate::runtime::state::{FunctionState, StateRef};
use crate::runtime::{enable, fork, refresh};

/// Calls a synchronous function through cacheow, in the runtime `global`
/// gives unless the thread is bound to another.
#[track_caller]
pub(crate) fn call_sync<R>(
    function: &'static Function,
    args: Args,
    codec: Codec<R>,
    rules: Rules<R>,
    body: impl FnOnce() -> R,
    global: Global,
) -> R {
    match start_sync(function, &args, codec, rules, global, false) {
        Started::Done(value) => value,
        Started::Run(run) => run.sync(function, &args, codec, rules, body),
        Started::Stale(value, _) => value,
        Started::Verify(outcome, run) => run.verify_sync(function, &args, codec, rules, body, &outcome),
    }
}

/// [`call_sync`] for a function with `serve_stale`: an expired outcome is
/// returned at once, and the function runs on a cacheow thread to refresh it.
#[track_caller]
pub(crate) fn call_sync_stale<R: Send + 'static>(
    function: &'static Function,
    args: Args,
    codec: Codec<R>,
    rules: Rules<R>,
    body: impl FnOnce() -> R + Send + 'static,
    global: Global,
) -> R {
    match start_sync(function, &args, codec, rules, global, true) {
        Started::Done(value) => value,
        Started::Run(run) => run.sync(function, &args, codec, rules, body),
        Started::Stale(value, run) => {
            refresh::in_background(function, move || drop(run.sync(function, &args, codec, rules, body)));
            value
        }
        Started::Verify(outcome, run) => run.verify_sync(function, &args, codec, rules, body, &outcome),
    }
}

/// Plans and settles a synchronous call, waiting its latency.
#[track_caller]
fn start_sync<R>(
    function: &'static Function,
    args: &Args,
    codec: Codec<R>,
    rules: Rules<R>,
    global: Global,
    can_serve_stale: bool,
) -> Started<R> {
    function.learn(Checker::Value(codec.check), std::any::type_name::<R>());
    let mut plan = plan(function, args, global, can_serve_stale);
    match unfound(&plan).map_or(pull::Answer::Nothing, |unfound| pull::ask_blocking(unfound, function, args)) {
        pull::Answer::Replay(replay) => {
            if let Plan::Runtime { lookup, chosen, .. } = &mut plan {
                (*chosen, lookup.pulled) = (Some(replay), true);
            }
        }
        pull::Answer::Kept => plan = pulled_plan(function, args, global, can_serve_stale),
        pull::Answer::Nothing => {}
    }
    let latency = plan.latency();
    if !latency.is_zero() {
        std::thread::sleep(latency);
    }
    match started(settle(plan, args, &codec.decode, &rules), function, args) {
        Started::Run(Run { sink, joined: Some(Joined::Follow(call)), .. }) => {
            let done = call.wait(function.meta().policy.wait);
            after_waiting(function, args, codec, global, sink, done)
        }
        Started::Run(mut run) if matches!(run.claim, Claim::Elsewhere) => {
            let mut looking = Looking::new();
            loop {
                match look_elsewhere(function, args, codec, global, run, &mut looking) {
                    Ok(started) => return started,
                    Err(waiting) => run = waiting,
                }
                std::thread::sleep(LOOK_EVERY);
            }
        }
        started => started,
    }
}

/// Calls an `async` function through cacheow. The latency is awaited, not
/// slept, so it never blocks the executor.
pub(crate) async fn call_async<R, F: Future<Output = R>>(
    function: &'static Function,
    args: Args,
    codec: Codec<R>,
    rules: Rules<R>,
    body: F,
    global: Global,
) -> R {
    match start_async(function, &args, codec, rules, global, false).await {
        Started::Done(value) => value,
        Started::Run(run) => run.run_async(function, &args, codec, rules, body).await,
        Started::Stale(value, _) => value,
        Started::Verify(outcome, run) => run.verify_async(function, &args, codec, rules, body, &outcome).await,
    }
}

/// [`call_async`] for a function with `serve_stale`: an expired outcome is
/// returned at once, and the function is spawned on the tokio runtime the
/// call runs in to refresh it. Outside a tokio runtime, the call refreshes
/// in the foreground and returns the new outcome.
pub(crate) async fn call_async_stale<R: Send + 'static, F: Future<Output = R> + Send + 'static>(
    function: &'static Function,
    args: Args,
    codec: Codec<R>,
    rules: Rules<R>,
    body: F,
    global: Global,
) -> R {
    match start_async(function, &args, codec, rules, global, true).await {
        Started::Done(value) => value,
        Started::Run(run) => run.run_async(function, &args, codec, rules, body).await,
        Started::Stale(value, run) => {
            match refresh::spawn_async(
                function,
                async move { run.run_async(function, &args, codec, rules, body).await },
            ) {
                Ok(()) => value,
                Err(refresh) => {
                    drop(value);
                    refresh.await
                }
            }
        }
        Started::Verify(outcome, run) => run.verify_async(function, &args, codec, rules, body, &outcome).await,
    }
}

async fn start_async<R>(
    function: &'static Function,
    args: &Args,
    codec: Codec<R>,
    rules: Rules<R>,
    global: Global,
    can_serve_stale: bool,
) -> Started<R> {
    function.learn(Checker::Value(codec.check), std::any::type_name::<R>());
    let mut plan = plan(function, args, global, can_serve_stale);
    if let Some(asked) = unfound(&plan).and_then(|unfound| pull::ask(unfound, function, args))
        && asked.answered.wait_async(asked.budget, PULL_LOOK_EVERY).await
    {
        plan = pulled_plan(function, args, global, can_serve_stale);
    }
    let latency = plan.latency();
    if !latency.is_zero() {
        futures_timer::Delay::new(latency).await;
    }
    match started(settle(plan, args, &codec.decode, &rules), function, args) {
        Started::Run(Run { sink, joined: Some(Joined::Follow(call)), .. }) => {
            let done = call.wait_async(function.meta().policy.wait, Duration::from_millis(10)).await;
            after_waiting(function, args, codec, global, sink, done)
        }
        Started::Run(mut run) if matches!(run.claim, Claim::Elsewhere) => {
            let mut looking = Looking::new();
            loop {
                match look_elsewhere(function, args, codec, global, run, &mut looking) {
                    Ok(started) => return started,
                    Err(waiting) => run = waiting,
                }
                futures_timer::Delay::new(LOOK_EVERY).await;
            }
        }
        started => started,
    }
}

/// What a call of a value function does next, once settled.
enum Started<R> {
    /// Return this value: a replay, or a call that waited for another.
    Done(R),
    /// Run the function.
    Run(Run),
    /// Return this expired value, and refresh it with this run.
    Stale(R, Run),
    /// Run the function, then return this outcome.
    Verify(Recorded, Run),
}

fn started<R>(start: Start<R>, function: &Function, args: &Args) -> Started<R> {
    match start {
        Start::Replay { value, .. } => Started::Done(value),
        // One refresh at a time, dedupe or not: a call of the key in flight
        // is refreshing it.
        Start::Stale { value, sink } => match sink.join_in_flight(function, args, true) {
            Some(Joined::Follow(_)) => Started::Done(value),
            joined => Started::Stale(value, Run::new(sink, joined)),
        },
        Start::Run(sink) => {
            let joined = sink.join_in_flight(function, args, false);
            // The leader in this process asks the other processes.
            let claim = match &joined {
                Some(Joined::Lead(_)) => sink.claim(function, args),
                _ => Claim::None,
            };
            Started::Run(Run { claim, ..Run::new(sink, joined) })
        }
        Start::Plain { status } => Started::Run(Run::new(Sink::Plain { status }, None)),
        Start::Verify { outcome, sink } => Started::Verify(outcome, Run::new(sink, None)),
    }
}

/// After waiting for the call in flight with the same key: its outcome if
/// it was recorded, else this call runs (the leader panicked, its outcome
/// was refused, or `wait` passed).
fn after_waiting<R>(
    function: &'static Function,
    args: &Args,
    codec: Codec<R>,
    global: Global,
    sink: Sink,
    done: bool,
) -> Started<R> {
    if done && let Some(value) = replay_waited(function, args, codec, global) {
        return Started::Done(value);
    }
    Started::Run(Run::new(sink, None))
}

/// The outcome of the call this one waited for, if it is recorded.
fn replay_waited<R>(function: &'static Function, args: &Args, codec: Codec<R>, global: Global) -> Option<R> {
    let mut plan = plan(function, args, global, false);
    if let Plan::Runtime { lookup, .. } = &mut plan {
        lookup.waited = true;
    }
    match settle(plan, args, &codec.decode, &Rules::NONE) {
        Start::Replay { value, .. } => Some(value),
        _ => None,
    }
}

/// A call of the data dir that found nothing to replay there.
fn unfound(plan: &Plan) -> Option<Unfound<'_>> {
    match plan {
        Plan::Runtime { state, lookup, chosen: None } => Some(Unfound {
            state,
            mode: lookup.mode,
            waited: lookup.waited,
            // As `choose` looks: an outcome that may be served stale is chosen whatever its age.
            max_age: lookup.max_age.filter(|_| !lookup.serve_stale),
        }),
        _ => None,
    }
}

/// The plan of a call once the shared tier answered: what it had is kept
/// here now.
fn pulled_plan(function: &'static Function, args: &Args, global: Global, can_serve_stale: bool) -> Plan {
    let mut plan = plan(function, args, global, can_serve_stale);
    if let Plan::Runtime { lookup, .. } = &mut plan {
        lookup.pulled = true;
    }
    plan
}

/// How often an async call waiting for the shared tier looks for its answer.
const PULL_LOOK_EVERY: Duration = Duration::from_millis(1);

/// How often a call waiting for another process's looks again.
const LOOK_EVERY: Duration = Duration::from_millis(10);

/// How long after another process's call released the key's lock its
/// outcome is looked for: it was in the database then, and reaches this
/// process's index at the next refresh.
const PUBLISHED_WITHIN: Duration = Duration::from_millis(100);

/// What a call waiting for another process's call of its key knows.
struct Looking {
    since: Instant,
    /// When the key's lock was found free.
    free: Option<Instant>,
    /// The last question to the shared tier, for a call on another machine.
    asking: Option<Arc<Signal>>,
}

impl Looking {
    fn new() -> Looking {
        Looking { since: Instant::now(), free: None, asking: None }
    }
}

/// One look of a call whose key another process's call runs (on this
/// machine, or another with a shared tier): its outcome, once this
/// process's index has it; else the key's lock, once that call ended
/// (done, crashed, or its outcome refused), and this call runs; else past
/// `wait`, this call runs. `Err`: look again later. Nothing is held between
/// looks but the lock, once taken.
fn look_elsewhere<R>(
    function: &'static Function,
    args: &Args,
    codec: Codec<R>,
    global: Global,
    mut run: Run,
    looking: &mut Looking,
) -> Result<Started<R>, Run> {
    if let Some(value) = replay_waited(function, args, codec, global) {
        return Ok(Started::Done(value));
    }
    if let Sink::Runtime { state, .. } = &run.sink {
        pull::ask_while_waiting(state, function, args, &mut looking.asking);
    }
    if looking.free.is_none() {
        run.claim = run.sink.claim(function, args);
        if !matches!(run.claim, Claim::Elsewhere) {
            looking.free = Some(Instant::now());
        }
    }
    let published = looking.free.is_some_and(|free| free.elapsed() >= PUBLISHED_WITHIN);
    if published || looking.since.elapsed() >= function.meta().policy.wait {
        return Ok(Started::Run(run));
    }
    Err(run)
}

/// What a call does, once planned and settled.
pub(crate) enum Start<R> {
    /// Return this recorded value. `stopped_early`: a test's fixture of a
    /// sequence the test stopped consuming before its end.
    Replay { value: R, stopped_early: bool },
    /// Return this expired value, and refresh it through the sink.
    Stale { value: R, sink: Sink },
    /// Run the function; its outcome goes to the sink. Return this one.
    Verify { outcome: Recorded, sink: Sink },
    /// Run the function; its outcome goes to the sink.
    Run(Sink),
    /// Run the function; nothing is recorded. The status of a bypassed
    /// call, none when cacheow is off.
    Plain { status: Option<CallStatus> },
}

/// Which outcome a call replays, before it is decoded.
pub(crate) enum Plan {
    /// A test scope decided.
    Scope { function: &'static Function, hook: Arc<dyn Hook>, decision: Decision },
    /// The data dir's state decided.
    Runtime { state: StateRef, lookup: Lookup, chosen: Option<Replay> },
    /// cacheow is off for this call, or it is bypassed.
    Plain { status: Option<CallStatus> },
}

/// How a call of the data dir looks for an outcome: its mode, or what a
/// per-call request makes of it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lookup {
    mode: Mode,
    /// Cache mode: the oldest an outcome may be and still be a hit.
    max_age: Option<Duration>,
    /// Cache mode: an expired outcome is returned, and refreshed.
    serve_stale: bool,
    /// The call waited for another with the same key, whose outcome it looks for.
    waited: bool,
    /// The shared tier was asked, and what it had is kept here now.
    pulled: bool,
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

/// `can_serve_stale`: the caller can refresh an expired outcome after it
/// returned it.
#[track_caller]
pub(crate) fn plan(function: &'static Function, args: &Args, global: Global, can_serve_stale: bool) -> Plan {
    if fork::in_child() {
        return Plan::Plain { status: None };
    }
    let state = match binding::current() {
        Some(Binding::Scope(hook)) => {
            if request::current().is_some() {
                warn_once(
                    "request-in-test",
                    format_args!(
                        "cacheow: bypass, refresh and max_age are ignored inside a #[cacheow_test]: the test's \
                         record mode decides, so that its replays stay exact"
                    ),
                );
            }
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
                None => return Plan::Plain { status: None },
            }
        }
    };
    let policy = &function.meta().policy;
    let lookup = match request::current() {
        Some(Request::Bypass) => return Plan::Plain { status: Some(CallStatus::Bypassed) },
        Some(Request::Refresh) => {
            Lookup { mode: Mode::Default, max_age: None, serve_stale: false, waited: false, pulled: false }
        }
        Some(Request::MaxAge(age)) => {
            let max_age = Some(policy.ttl.map_or(age, |ttl| ttl.min(age)));
            Lookup { mode: Mode::Cache, max_age, serve_stale: false, waited: false, pulled: false }
        }
        None => {
            let serve_stale = can_serve_stale && policy.serve_stale;
            Lookup { mode: state.mode(), max_age: policy.ttl, serve_stale, waited: false, pulled: false }
        }
    };
    let chosen = choose(&state, args, lookup);
    Plan::Runtime { state, lookup, chosen }
}

/// Decodes the planned outcome, or says how the function runs. In cache
/// mode, `rules` say whether the decoded value may be a hit.
#[track_caller]
pub(crate) fn settle<R>(
    plan: Plan,
    args: &Args,
    decode: &dyn Fn(OutcomeKind, Source<'_>) -> Result<R, CodecError>,
    rules: &Rules<R>,
) -> Start<R> {
    match plan {
        Plan::Plain { status } => Start::Plain { status },
        Plan::Scope { function, hook, decision } => match decision {
            Decision::Replay(outcome) => {
                Start::Replay { value: scope::replay(function, &outcome, decode), stopped_early: outcome.partial }
            }
            Decision::Call { ticket: Some(ticket) } => Start::Run(Sink::Scope { hook, ticket }),
            Decision::Call { ticket: None } => Start::Plain { status: None },
            Decision::Verify { outcome, ticket } => Start::Verify { outcome, sink: Sink::Scope { hook, ticket } },
            Decision::Fail(message) => panic!("{message}"),
        },
        Plan::Runtime { state, lookup, chosen } => {
            if lookup.mode == Mode::Default {
                return Start::Run(Sink::Runtime { state, event: CallEvent::Recorded });
            }
            let Some((value, replayed)) = replay(&state, args, decode, lookup, chosen) else {
                return Start::Run(Sink::Runtime { state, event: CallEvent::Miss });
            };
            let (event, status) = match lookup.mode {
                Mode::Mock => (CallEvent::Mock, CallStatus::Mock),
                _ => match judge(&state, rules, &value, &replayed, lookup) {
                    Verdict::Fresh if lookup.waited => (CallEvent::Hit, CallStatus::Waited),
                    Verdict::Fresh if lookup.pulled => (CallEvent::Hit, CallStatus::SharedHit),
                    Verdict::Fresh => (CallEvent::Hit, CallStatus::Hit),
                    Verdict::Expired if lookup.serve_stale => (CallEvent::Hit, CallStatus::StaleHit),
                    Verdict::Expired | Verdict::Invalid => {
                        return Start::Run(Sink::Runtime { state, event: CallEvent::Miss });
                    }
                },
            };
            // A replay takes the latency it waited, and no more.
            state.log_call(event, status, args, Some(&replayed), state.latency());
            if status == CallStatus::StaleHit {
                return Start::Stale { value, sink: Sink::Runtime { state, event: CallEvent::Miss } };
            }
            Start::Replay { value, stopped_early: false }
        }
    }
}

/// What the rules make of a cache-mode replay. Its age is read only when
/// something judges it: `ttl_from` or `validate`, or a ttl that may serve
/// it stale (without, `choose` skipped an expired outcome unread).
fn judge<R>(state: &FunctionState, rules: &Rules<R>, value: &R, replayed: &Replay, lookup: Lookup) -> Verdict {
    let judged = rules.judges_values() || (lookup.serve_stale && lookup.max_age.is_some());
    if judged { rules.judge(value, &state.age(replayed, lookup.max_age)) } else { Verdict::Fresh }
}

/// The recorded outcome for these arguments in cache or mock mode, without
/// waiting its latency. In cache mode, an outcome past its ttl is none,
/// unless it may be served stale.
fn choose(state: &FunctionState, args: &Args, lookup: Lookup) -> Option<Replay> {
    match lookup.mode {
        Mode::Default => None,
        // An outcome that may be served stale is chosen whatever its age.
        Mode::Cache => state.cached(args.key, lookup.max_age.filter(|_| !lookup.serve_stale)),
        Mode::Mock => state.mock(args),
    }
}

/// Cache and mock mode: the value of `chosen`, or of the next outcome when
/// it no longer decodes (a hand edit, a changed type): such an outcome is
/// dropped, with a warning; cache mode then calls the function, mock mode
/// picks another. Mock mode with nothing left to replay panics, as
/// documented; so does a recorded panic. In cache mode, an outcome of
/// another body is a miss when `on_change` records it again.
fn replay<R>(
    state: &FunctionState,
    args: &Args,
    decode: &dyn Fn(OutcomeKind, Source<'_>) -> Result<R, CodecError>,
    lookup: Lookup,
    chosen: Option<Replay>,
) -> Option<(R, Replay)> {
    let mut next = chosen;
    let mode = lookup.mode;
    loop {
        let Some(outcome) = next.take().or_else(|| choose(state, args, lookup)) else {
            if mode == Mode::Mock {
                panic_nothing_to_replay(state, args);
            }
            return None;
        };
        // Before it is decoded, or raised if a panic: a miss instead.
        if mode == Mode::Cache && state.records_again(&outcome) {
            return None;
        }
        if outcome.kind() == OutcomeKind::Panic {
            let (event, status) = if mode == Mode::Mock {
                (CallEvent::Mock, CallStatus::Mock)
            } else {
                (CallEvent::Hit, CallStatus::Hit)
            };
            state.log_call(event, status, args, Some(&outcome), Duration::ZERO);
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
