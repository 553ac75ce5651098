//! Per-call requests: [`bypass`], [`refresh`] and [`max_age`] change what the
//! decorated calls made inside a closure (or future) do, on its thread or
//! task alone, whatever the functions' modes say.

use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

use crate::runtime::polled::Polled;

/// What the calls made inside a request do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Request {
    /// Call the function: no read, no record.
    Bypass,
    /// Call the function and record its outcome.
    Refresh,
    /// Replay an outcome only if it was recorded within this time; call and
    /// record otherwise.
    MaxAge(Duration),
}

thread_local! {
    static CURRENT: Cell<Option<Request>> = const { Cell::new(None) };
}

/// The request the calls made now on this thread are under.
pub(crate) fn current() -> Option<Request> {
    CURRENT.try_with(Cell::get).ok().flatten()
}

/// Puts the thread under `request` while it lives, and back as it was.
struct Under(Option<Request>);

impl Under {
    fn enter(request: Request) -> Under {
        Under(CURRENT.try_with(|current| current.replace(Some(request))).ok().flatten())
    }
}

impl Drop for Under {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|current| current.set(self.0));
    }
}

/// Calls `f` with every decorated call inside it calling its function, with
/// no replay and no record, in any mode (cachier's `skip_cache`, cachu's
/// `original`).
///
/// It applies on this thread, nested decorated calls included, and never to
/// other threads. Inside a `#[cacheow_test]` it is ignored, with a warning:
/// the test's record mode decides.
///
/// ```no_run
/// # use cacheow::cacheow;
/// #[cacheow]
/// fn fetch_user(id: u32) -> String { format!("user {id}") }
///
/// let fresh = cacheow::bypass(|| fetch_user(3));
/// # let _ = fresh;
/// ```
pub fn bypass<T>(f: impl FnOnce() -> T) -> T {
    let _under = Under::enter(Request::Bypass);
    f()
}

/// Calls `f` with every decorated call inside it calling its function and
/// recording the outcome, in any mode: later cache hits return it
/// (cachier's `overwrite_cache`, cachu's `refresh`). Scoped as [`bypass`].
pub fn refresh<T>(f: impl FnOnce() -> T) -> T {
    let _under = Under::enter(Request::Refresh);
    f()
}

/// Calls `f` with every decorated call inside it replaying an outcome only
/// if it was recorded within `age`, and calling and recording otherwise, in
/// any mode (cachier's `max_age`). Scoped as [`bypass`].
///
/// ```no_run
/// # use cacheow::cacheow;
/// # use std::time::Duration;
/// #[cacheow]
/// fn fetch_user(id: u32) -> String { format!("user {id}") }
///
/// let recent = cacheow::max_age(Duration::from_secs(60), || fetch_user(3));
/// # let _ = recent;
/// ```
pub fn max_age<T>(age: Duration, f: impl FnOnce() -> T) -> T {
    let _under = Under::enter(Request::MaxAge(age));
    f()
}

/// [`bypass`] for a future: it applies during each of its polls.
pub fn bypass_async<F: Future>(future: F) -> impl Future<Output = F::Output> {
    under(Request::Bypass, future)
}

/// [`refresh`] for a future: it applies during each of its polls.
pub fn refresh_async<F: Future>(future: F) -> impl Future<Output = F::Output> {
    under(Request::Refresh, future)
}

/// [`max_age`] for a future: it applies during each of its polls.
pub fn max_age_async<F: Future>(age: Duration, future: F) -> impl Future<Output = F::Output> {
    under(Request::MaxAge(age), future)
}

/// A future polled under a request: the task's calls, wherever it runs.
fn under<F: Future>(request: Request, future: F) -> impl Future<Output = F::Output> {
    Polled::new(move || Under::enter(request), future)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_nest_and_end_with_their_closure() {
        assert_eq!(current(), None);
        bypass(|| {
            assert_eq!(current(), Some(Request::Bypass));
            refresh(|| assert_eq!(current(), Some(Request::Refresh)));
            assert_eq!(current(), Some(Request::Bypass));
            std::thread::spawn(|| assert_eq!(current(), None)).join().ok();
        });
        assert_eq!(current(), None);
    }
}
