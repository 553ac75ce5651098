//! In-flight dedupe, within a process: in cache mode, while a call with
//! some key runs, another call with that key waits for it and replays its
//! outcome, so that the function runs once.
//!
//! The first call of a key leads: it marks the key as in flight while it
//! runs and records. A later one follows: it waits, holding no lock, until
//! the leader is done or `wait` has passed, then looks for the outcome
//! again. A follower that finds none (the leader panicked, or its outcome
//! was not recorded) calls the function itself. A call never follows its
//! own thread's leader (a re-entrant call with the same key): it runs.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use crate::runtime::polled::Polled;

/// The calls of one function in flight, by argument key.
#[derive(Default)]
pub(crate) struct InFlight {
    calls: Mutex<HashMap<u128, Arc<Call>>>,
}

/// One call in flight: finished when it ends, however it ends.
pub(crate) use crate::model::signal::Signal as Call;

/// What a call of a key in flight does.
pub(crate) enum Joined {
    /// Runs the function; the key is in flight while this lives.
    Lead(Lead),
    /// Waits for the call in flight, then looks for its outcome.
    Follow(Arc<Call>),
}

/// The mark of a key in flight: dropped when the leader's outcome is
/// recorded, or it panicked, and its followers wake.
pub(crate) struct Lead {
    in_flight: Arc<InFlight>,
    key: u128,
    call: Arc<Call>,
}

thread_local! {
    /// The keys this thread leads now, by function: the bodies running on it.
    static LEADING: RefCell<Vec<(usize, u128)>> = const { RefCell::new(Vec::new()) };
}

impl InFlight {
    /// Joins the call of `key` in flight, or leads one; `None` for a call
    /// made inside the body of this thread's own leader of the key.
    pub(crate) fn join(self: &Arc<Self>, key: u128) -> Option<Joined> {
        let mark = (Arc::as_ptr(self) as usize, key);
        if LEADING.try_with(|leading| leading.borrow().contains(&mark)).unwrap_or(false) {
            return None;
        }
        let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(call) = calls.get(&key) {
            return Some(Joined::Follow(Arc::clone(call)));
        }
        let call = Arc::new(Call::default());
        calls.insert(key, Arc::clone(&call));
        Some(Joined::Lead(Lead { in_flight: Arc::clone(self), key, call }))
    }

    /// How many calls are in flight now.
    #[cfg_attr(not(feature = "server"), allow(dead_code))] // shown by the panel, and tested
    pub(crate) fn len(&self) -> usize {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Forgets every mark: their followers wake and call the function.
    pub(crate) fn clear(&self) -> usize {
        let calls = std::mem::take(&mut *self.calls.lock().unwrap_or_else(PoisonError::into_inner));
        calls.values().for_each(|call| call.finish());
        calls.len()
    }
}

impl Lead {
    /// Marks the leader's body as running on this thread while the guard
    /// lives: a call it makes with the same key runs rather than waits.
    pub(crate) fn running(&self) -> Running {
        Running::enter((Arc::as_ptr(&self.in_flight) as usize, self.key))
    }

    /// The same, during each poll of an `async` body.
    pub(crate) fn running_future<F: Future>(&self, inner: F) -> impl Future<Output = F::Output> {
        let mark = (Arc::as_ptr(&self.in_flight) as usize, self.key);
        Polled::new(move || Running::enter(mark), inner)
    }
}

impl Drop for Lead {
    fn drop(&mut self) {
        let mut calls = self.in_flight.calls.lock().unwrap_or_else(PoisonError::into_inner);
        if calls.get(&self.key).is_some_and(|call| Arc::ptr_eq(call, &self.call)) {
            calls.remove(&self.key);
        }
        drop(calls);
        self.call.finish();
    }
}

pub(crate) struct Running((usize, u128));

impl Running {
    fn enter(mark: (usize, u128)) -> Running {
        let _ = LEADING.try_with(|leading| leading.borrow_mut().push(mark));
        Running(mark)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = LEADING.try_with(|leading| {
            let mut leading = leading.borrow_mut();
            if let Some(at) = leading.iter().rposition(|mark| *mark == self.0) {
                leading.remove(at);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_second_call_follows_until_the_leader_is_done() {
        let in_flight = Arc::new(InFlight::default());
        let Some(Joined::Lead(lead)) = in_flight.join(7) else { panic!("the first call leads") };
        let Some(Joined::Follow(call)) = in_flight.join(7) else { panic!("the second follows") };
        assert!(!call.wait(Duration::from_millis(10)), "still in flight");
        {
            let _running = lead.running();
            assert!(in_flight.join(7).is_none(), "a re-entrant call runs");
        }
        drop(lead);
        assert!(call.wait(Duration::ZERO));
        assert_eq!(in_flight.len(), 0);
        assert!(matches!(in_flight.join(7), Some(Joined::Lead(_))));
    }
}
