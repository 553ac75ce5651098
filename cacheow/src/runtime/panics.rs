//! Panics as outcomes: a panic of a decorated function is recorded (its
//! message, and where it happened) and raised again; a recorded panic
//! replays as a panic with the same message.

use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Once;
use std::task::{Context, Poll};

use crate::model::outcome::{OutcomeKind, Payload, Recorded};

thread_local! {
    /// Where the last panic of this thread happened.
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// A panic caught in a function's body: its outcome, and the panic to
/// raise again.
pub(crate) struct Caught {
    pub(crate) outcome: Recorded,
    pub(crate) payload: Box<dyn Any + Send>,
}

impl Caught {
    /// Hands the outcome to `record`, then raises the panic again, as it was.
    pub(crate) fn record_and_resume(self, record: impl FnOnce(Recorded)) -> ! {
        record(self.outcome);
        panic::resume_unwind(self.payload)
    }
}

/// Runs `body`, catching its panic.
pub(crate) fn catch<R>(body: impl FnOnce() -> R) -> Result<R, Caught> {
    watch_locations();
    panic::catch_unwind(AssertUnwindSafe(body)).map_err(|payload| Caught { outcome: outcome(&*payload), payload })
}

/// Notes where each panic happens, for the outcome that records it. The
/// hook in place before still runs, and prints the panic as usual.
fn watch_locations() {
    // Swapping hooks panics while the thread unwinds (a call made in a
    // `Drop`): the hook is installed at the next call instead.
    if std::thread::panicking() {
        return;
    }
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let location = info.location().map(ToString::to_string);
            let _ = LOCATION.try_with(|slot| *slot.borrow_mut() = location);
            previous(info);
        }));
    });
}

#[derive(serde::Serialize, serde::Deserialize)]
struct PanicRecord {
    message: String,
    /// `src/lib.rs:12:5`, when the panic hook saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    location: Option<String>,
}

fn outcome(payload: &(dyn Any + Send)) -> Recorded {
    let message = crate::model::report::panic_message(payload);
    // Read, not taken: a decorated caller catches the same panic again.
    let location = LOCATION.try_with(|slot| slot.borrow().clone()).ok().flatten();
    let record = PanicRecord { message, location };
    let text = serde_json::to_string(&record).unwrap_or_default();
    Recorded::new(OutcomeKind::Panic, Payload::Json(text.into())).labelled("panic")
}

/// Raises a recorded panic, with its message.
#[track_caller]
pub(crate) fn replay(payload: &Payload) -> ! {
    let message = serde_json::from_str::<PanicRecord>(payload.text())
        .map(|record| record.message)
        .unwrap_or_else(|_| format!("a recorded panic: {}", payload.text()));
    panic::panic_any(message)
}

pin_project_lite::pin_project! {
    /// A future whose panics come out as [`Caught`].
    pub(crate) struct CatchPanic<F> {
        #[pin]
        inner: F,
    }
}

impl<F> CatchPanic<F> {
    pub(crate) fn new(inner: F) -> Self {
        CatchPanic { inner }
    }
}

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, Caught>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.project().inner;
        match catch(|| inner.poll(cx)) {
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(caught) => Poll::Ready(Err(caught)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_caught_with_its_message_and_location_and_replays() {
        let caught = catch(|| -> u8 { panic!("boom {}", 7) }).expect_err("it panicked");
        assert_eq!(caught.outcome.kind, OutcomeKind::Panic);
        let record: PanicRecord = serde_json::from_str(caught.outcome.payload.text()).expect("a record");
        assert_eq!(record.message, "boom 7");
        assert!(record.location.is_some_and(|at| at.contains("panics.rs:")), "where it happened");
        let replayed = panic::catch_unwind(|| replay(&caught.outcome.payload)).expect_err("it panics again");
        assert_eq!(replayed.downcast_ref::<String>().map(String::as_str), Some("boom 7"));
        assert_eq!(catch(|| 3).ok(), Some(3));
    }
}
