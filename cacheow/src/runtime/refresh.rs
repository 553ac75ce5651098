//! Background refreshes of outcomes served stale (`serve_stale`): a sync
//! function's on a cacheow thread, an `async` one's on the tokio runtime
//! the call runs in. A normal exit waits for those still running, up to
//! each function's `wait`.

use std::future::Future;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::model::report::warn_once;
use crate::runtime::function::Function;

/// The refreshes running now, and the longest any of them may be waited for.
static PENDING: Mutex<Pending> = Mutex::new(Pending { running: 0, wait: Duration::ZERO });
static ENDED: Condvar = Condvar::new();

struct Pending {
    running: usize,
    wait: Duration,
}

/// Counts a refresh as running while it lives.
struct Running;

impl Running {
    fn start(function: &Function) -> Running {
        let mut pending = PENDING.lock().unwrap_or_else(PoisonError::into_inner);
        pending.running += 1;
        pending.wait = pending.wait.max(function.meta().policy.wait);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let mut pending = PENDING.lock().unwrap_or_else(PoisonError::into_inner);
        pending.running = pending.running.saturating_sub(1);
        drop(pending);
        ENDED.notify_all();
    }
}

/// Runs `refresh` on a thread of its own. When no thread can start, a
/// warning says so, and the outcome stays stale until a later call.
pub(crate) fn in_background(function: &'static Function, refresh: impl FnOnce() + Send + 'static) {
    let running = Running::start(function);
    let spawned = std::thread::Builder::new().name("cacheow-refresh".into()).spawn(move || {
        let _running = running;
        refresh();
    });
    if let Err(error) = spawned {
        warn_once(
            "refresh-thread",
            format_args!("cacheow cannot start a thread to refresh `{}` ({error})", function.name()),
        );
    }
}

/// Spawns `refresh` on the tokio runtime this runs in; gives it back when
/// there is none, to be awaited in the foreground.
pub(crate) fn spawn_async<F>(function: &'static Function, refresh: F) -> Result<(), F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            let running = Running::start(function);
            drop(runtime.spawn(async move {
                let _running = running;
                refresh.await;
            }));
            Ok(())
        }
        Err(_) => Err(refresh),
    }
}

/// Waits for the refreshes running now, up to the longest `wait` among
/// them; at exit. `true` when none is left.
pub(crate) fn wait_for_all() -> bool {
    let pending = PENDING.lock().unwrap_or_else(PoisonError::into_inner);
    let deadline = Instant::now() + pending.wait;
    let (pending, _) = ENDED
        .wait_timeout_while(pending, deadline.saturating_duration_since(Instant::now()), |pending| pending.running > 0)
        .unwrap_or_else(PoisonError::into_inner);
    pending.running == 0
}
