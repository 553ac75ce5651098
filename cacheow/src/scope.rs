//! Test scopes. While a test harness (cacheow-test) has entered a scope on a
//! thread, the decorated calls made there are answered by the scope (the
//! test's fixtures) instead of the data dir, whatever `CACHEOW_ENABLE` says.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::codec::CodecError;
use crate::function::Function;
use crate::outcome::{OutcomeKind, Payload};

/// What a scope does with the calls made in it.
pub trait Hook: Send + Sync {
    /// How to answer a call of `function` with these arguments (their
    /// canonical JSON). `nested` when the call is made while another call
    /// in the scope runs the function it decorates.
    fn decide(&self, function: &'static Function, args: &str, nested: bool) -> Decision;

    /// What a call gave, when [`Decision::Call`] gave a ticket to record it.
    fn record(&self, ticket: u64, outcome: Recorded, duration: Duration);

    /// The scope, for its harness to find it again.
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

/// How a scope answers a call.
pub enum Decision {
    /// Return this outcome without calling the function.
    Replay(Recorded),
    /// Call the function; hand what it gives to [`Hook::record`] with this
    /// ticket, when there is one.
    Call {
        /// Names the call to [`Hook::record`].
        ticket: Option<u64>,
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
    /// The items of a sequence the caller stopped consuming before its end.
    pub partial: bool,
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<dyn Hook>>> = const { RefCell::new(None) };
    /// How many calls of decorated functions run their body on this thread.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// The scope entered on this thread.
pub fn current() -> Option<Arc<dyn Hook>> {
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

/// Counts a body running on this thread while it lives, and back on unwind.
pub(crate) struct InBody;

impl InBody {
    pub(crate) fn enter() -> InBody {
        DEPTH.set(DEPTH.get() + 1);
        InBody
    }
}

impl Drop for InBody {
    fn drop(&mut self) {
        DEPTH.set(DEPTH.get().saturating_sub(1));
    }
}

pub(crate) fn nested() -> bool {
    DEPTH.get() > 0
}

/// A call made outside every scope while tests run: which test it belongs
/// to cannot be known, so it fails rather than guessing.
pub(crate) fn unattributed(function: &Function) -> ! {
    let thread = std::thread::current();
    panic!(
        "cacheow-test: `{}` was called outside any #[cacheow_test] scope (thread `{}`) while cacheow tests run, \
         so it cannot be told which test's fixtures to use. A task a test spawns must be spawned with \
         `cacheow_test::spawn` (or wrapped with `cacheow_test::scoped`); a thread it starts must enter the test's \
         scope: `let test = cacheow_test::current(); std::thread::spawn(move || {{ let _in = test.enter(); .. }})`. \
         A plain #[test] that calls decorated functions must be a #[cacheow_test] too",
        function.name(),
        thread.name().unwrap_or("unnamed"),
    )
}

/// A call whose arguments could not be serialized runs uncached; inside a
/// test it can be neither recorded nor replayed, so it fails.
pub fn check_uncaptured(function: &'static Function) {
    if current().is_some() || crate::enable::scopes_running() {
        panic!(
            "cacheow-test: an argument of `{}` cannot be serialized (the warning logged says which), so the call \
             can be neither recorded nor replayed",
            function.name()
        );
    }
}

pin_project_lite::pin_project! {
    /// Counts the body as running on the thread during each of its polls:
    /// the calls it makes then are nested in this one.
    pub(crate) struct InBodyFuture<F> {
        #[pin]
        inner: F,
    }
}

impl<F> InBodyFuture<F> {
    pub(crate) fn new(inner: F) -> Self {
        InBodyFuture { inner }
    }
}

impl<F: Future> Future for InBodyFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _in = InBody::enter();
        self.project().inner.poll(cx)
    }
}

/// The value of a fixture; a recorded panic panics again.
pub(crate) fn replay<R>(
    function: &Function,
    outcome: &Recorded,
    decode: &dyn Fn(OutcomeKind, &Payload) -> Result<R, CodecError>,
) -> R {
    if outcome.kind == OutcomeKind::Panic {
        crate::panics::replay(&outcome.payload);
    }
    decode(outcome.kind, &outcome.payload).unwrap_or_else(|error| {
        panic!(
            "cacheow-test: a fixture of `{}` no longer fits its return type ({error}). Re-record it: \
             CACHEOW_RECORD=all cargo test",
            function.name()
        )
    })
}
