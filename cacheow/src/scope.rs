//! Test scopes. While a test harness (cacheow-test) has entered a scope on a
//! thread, the decorated calls made there are answered by the scope (the
//! test's fixtures) instead of the data dir, whatever `CACHEOW_ENABLE` says.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::args::Args;
use crate::codec::Codec;
use crate::function::Function;
use crate::outcome::{OutcomeKind, Payload};

/// What a scope does with the calls made in it.
pub trait Hook: Send + Sync {
    /// How to answer a call of `function` with these arguments (their
    /// canonical JSON).
    fn decide(&self, function: &'static Function, args: &str) -> Decision;

    /// What a call that ran gave, when [`Decision::Call`] asked to record it.
    fn record(&self, function: &'static Function, args: &str, outcome: Recorded, duration: Duration);
}

/// How a scope answers a call.
pub enum Decision {
    /// Return this outcome without calling the function.
    Replay(Recorded),
    /// Call the function; record what it gives when `record` is set.
    Call {
        /// Whether to hand the outcome to [`Hook::record`].
        record: bool,
    },
    /// Fail the call, and so the test, with this message.
    Fail(String),
}

/// An outcome, as a scope keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// A value or an error.
    pub kind: OutcomeKind,
    /// The value in its encoding.
    pub payload: Payload,
    /// For errors, the error's type.
    pub error_type: Option<String>,
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<dyn Hook>>> = const { RefCell::new(None) };
}

/// The scope entered on this thread.
pub(crate) fn current() -> Option<Arc<dyn Hook>> {
    CURRENT.with(|current| current.borrow().clone())
}

/// Enters `hook` on this thread until the guard drops.
pub fn enter(hook: Arc<dyn Hook>) -> Entered {
    let previous = CURRENT.with(|current| current.borrow_mut().replace(hook));
    Entered { previous }
}

/// Leaves the scope when dropped, restoring the one entered before.
#[must_use = "the scope is left when this guard drops"]
pub struct Entered {
    previous: Option<Arc<dyn Hook>>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

/// Counts a running test while it lives: decorated calls then go through
/// cacheow even when `CACHEOW_ENABLE` is off.
#[must_use = "the test counts as running while this guard lives"]
pub struct Running(());

impl Running {
    /// Starts counting.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Running {
        crate::enable::scope_started();
        Running(())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        crate::enable::scope_ended();
    }
}

/// A call made outside every scope while tests run: which test it belongs
/// to cannot be known, so it fails rather than guessing.
pub(crate) fn unattributed(function: &Function) -> ! {
    let thread = std::thread::current();
    panic!(
        "cacheow-test: `{}` was called outside any #[cacheow_test] scope (thread `{}`) while cacheow tests run, \
         so it cannot be told which test's fixtures to use. A task a test spawns must be spawned with \
         `cacheow_test::spawn` (or wrapped with `cacheow_test::scoped`); a thread it starts must enter the test's \
         scope: `let scope = cacheow_test::current(); std::thread::spawn(move || {{ let _in = scope.enter(); .. }})`. \
         A plain #[test] that calls decorated functions must be a #[cacheow_test] too",
        function.name(),
        thread.name().unwrap_or("unnamed"),
    )
}

/// A synchronous call inside a scope.
pub(crate) fn call_sync<R>(
    hook: &dyn Hook,
    function: &'static Function,
    args: &Args,
    codec: Codec<R>,
    body: impl FnOnce() -> R,
) -> R {
    match hook.decide(function, &args.text) {
        Decision::Replay(outcome) => replay(function, codec, &outcome),
        Decision::Call { record } => {
            let started = Instant::now();
            let value = body();
            if record {
                record_outcome(hook, function, args, codec, &value, started.elapsed());
            }
            value
        }
        Decision::Fail(message) => panic!("{message}"),
    }
}

/// An `async` call inside a scope.
pub(crate) async fn call_async<R>(
    hook: Arc<dyn Hook>,
    function: &'static Function,
    args: &Args,
    codec: Codec<R>,
    body: impl Future<Output = R>,
) -> R {
    match hook.decide(function, &args.text) {
        Decision::Replay(outcome) => replay(function, codec, &outcome),
        Decision::Call { record } => {
            let started = Instant::now();
            let value = body.await;
            if record {
                record_outcome(&*hook, function, args, codec, &value, started.elapsed());
            }
            value
        }
        Decision::Fail(message) => panic!("{message}"),
    }
}

fn replay<R>(function: &Function, codec: Codec<R>, outcome: &Recorded) -> R {
    (codec.decode)(outcome.kind, &outcome.payload).unwrap_or_else(|error| {
        panic!(
            "cacheow-test: a fixture of `{}` no longer fits its return type ({error}). Re-record it: \
             CACHEOW_RECORD=all cargo test",
            function.name()
        )
    })
}

fn record_outcome<R>(
    hook: &dyn Hook,
    function: &'static Function,
    args: &Args,
    codec: Codec<R>,
    value: &R,
    duration: Duration,
) {
    match (codec.encode)(value) {
        Ok(encoded) => {
            let recorded = Recorded {
                kind: encoded.kind,
                payload: encoded.payload,
                error_type: encoded.error_type.map(str::to_owned),
            };
            hook.record(function, &args.text, recorded, duration);
        }
        Err(error) => panic!("cacheow-test: the outcome of `{}` cannot be recorded: {error}", function.name()),
    }
}
