//! Test scopes. While a test harness (cacheow-test) has entered a scope on a
//! thread, the decorated calls made there are answered by the scope (the
//! test's fixtures) instead of the data dir, whatever `CACHEOW_ENABLE` says.

use std::cell::Cell;
use std::future::Future;

use crate::model::codec::{CodecError, Source};
use crate::model::outcome::{OutcomeKind, Recorded};
use crate::runtime::binding;
use crate::runtime::enable;
use crate::runtime::function::Function;
use crate::runtime::panics;
use crate::runtime::polled::Polled;

thread_local! {
    /// How many calls of decorated functions run their body on this thread.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Counts a running test while it lives: decorated calls then go through
/// cacheow even when `CACHEOW_ENABLE` is off.
#[must_use = "the test counts as running while this guard lives"]
pub struct Running(());

impl Running {
    /// Starts counting.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Running {
        enable::scope_started();
        Running(())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        enable::scope_ended();
    }
}

/// Counts a body running on this thread while it lives, and back on unwind.
pub(crate) struct InBody;

impl InBody {
    pub(crate) fn enter() -> InBody {
        // Gone, as the thread ends (a call from a thread-local's
        // destructor): such a call is not nested in another.
        let _ = DEPTH.try_with(|depth| depth.set(depth.get() + 1));
        InBody
    }
}

impl Drop for InBody {
    fn drop(&mut self) {
        let _ = DEPTH.try_with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

pub(crate) fn nested() -> bool {
    DEPTH.try_with(|depth| depth.get() > 0).unwrap_or(false)
}

/// A call made outside every scope while tests run: which test it belongs
/// to cannot be known, so it fails rather than guessing.
#[track_caller]
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
    if binding::hook().is_some() || enable::scopes_running() {
        panic!(
            "cacheow-test: an argument of `{}` cannot be serialized (the warning logged says which), so the call \
             can be neither recorded nor replayed",
            function.name()
        );
    }
}

/// Counts the body as running on the thread during each of its polls: the
/// calls it makes then are nested in this one.
pub(crate) fn in_body<F: Future>(inner: F) -> impl Future<Output = F::Output> {
    Polled::new(InBody::enter, inner)
}

/// The value of a fixture; a recorded panic panics again.
#[track_caller]
pub(crate) fn replay<R>(
    function: &Function,
    outcome: &Recorded,
    decode: &dyn Fn(OutcomeKind, Source<'_>) -> Result<R, CodecError>,
) -> R {
    if outcome.kind == OutcomeKind::Panic {
        panics::replay(&outcome.payload);
    }
    decode(outcome.kind, (&outcome.payload).into()).unwrap_or_else(|error| {
        panic!(
            "cacheow-test: a fixture of `{}` no longer fits its return type ({error}). Re-record it: \
             CACHEOW_RECORD=all cargo test",
            function.name()
        )
    })
}
