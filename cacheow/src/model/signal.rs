//! [`Signal`]: something one thread finishes and others wait for, with a
//! timeout, blocking or awaiting. Waiters hold no lock while they wait.
//! [`Reply`]: a signal that carries an answer.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Finished once; waited for by any number of threads or tasks.
#[derive(Default)]
pub(crate) struct Signal {
    done: Mutex<bool>,
    finished: Condvar,
}

impl Signal {
    /// Wakes every waiter, now and later.
    pub(crate) fn finish(&self) {
        *self.done.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.finished.notify_all();
    }

    pub(crate) fn is_done(&self) -> bool {
        *self.done.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Blocks until finished, or `wait` passed: whether it finished.
    pub(crate) fn wait(&self, wait: Duration) -> bool {
        let done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
        let (done, _) =
            self.finished.wait_timeout_while(done, wait, |done| !*done).unwrap_or_else(PoisonError::into_inner);
        *done
    }

    /// [`Signal::wait`] for async code, on any executor: it looks every
    /// `max_pause` at most, and never blocks the executor's thread.
    pub(crate) async fn wait_async(&self, wait: Duration, max_pause: Duration) -> bool {
        let deadline = Instant::now() + wait;
        let mut pause = (max_pause / 16).max(Duration::from_micros(50));
        loop {
            if self.is_done() {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            futures_timer::Delay::new(pause.min(left)).await;
            pause = (pause * 2).min(max_pause);
        }
    }
}

/// An answer one thread gives and another waits for, with a timeout.
pub(crate) struct Reply<T> {
    answered: Signal,
    answer: Mutex<Option<T>>,
}

impl<T> Default for Reply<T> {
    fn default() -> Self {
        Reply { answered: Signal::default(), answer: Mutex::new(None) }
    }
}

impl<T> Reply<T> {
    /// Gives the answer: `None` says there is none.
    pub(crate) fn give(&self, answer: Option<T>) {
        *self.answer.lock().unwrap_or_else(PoisonError::into_inner) = answer;
        self.answered.finish();
    }

    /// The answer, if one was given within `wait`.
    pub(crate) fn wait(&self, wait: Duration) -> Option<T> {
        self.answered.wait(wait);
        self.answer.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}
