//! Whether a decorated call needs cacheow. Decided on the first call of a
//! decorated function; until then, and when off, a decorated function pays
//! one relaxed atomic load and a branch.
//!
//! One word holds every answer: the low two bits say whether cacheow is on
//! (`CACHEOW_ENABLE`); above them count the test scopes running, then the
//! runtimes bound to threads. The calls of either need cacheow whatever the
//! environment says.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::model::{env, report};

const UNDECIDED: u32 = 0;
const OFF: u32 = 1;
const ON: u32 = 2;
const DECISION: u32 = 0b11;
/// One running test scope: 16 bits of them.
const SCOPE: u32 = 1 << 2;
const SCOPES: u32 = 0xffff << 2;
/// One runtime bound to a thread.
const BOUND: u32 = 1 << 18;

static STATE: AtomicU32 = AtomicU32::new(UNDECIDED);

/// Whether a call may need cacheow: `false` only once it is known to be off
/// and no test scope runs and no runtime is bound.
#[inline(always)]
pub fn is_active() -> bool {
    STATE.load(Ordering::Relaxed) != OFF
}

/// Whether cacheow is on, reading `CACHEOW_ENABLE` the first time.
pub(crate) fn enabled() -> bool {
    if super::fork::in_child() {
        turn_off();
        return false;
    }
    match STATE.load(Ordering::Acquire) & DECISION {
        ON => true,
        OFF => false,
        _ => {
            let on = env::enabled().unwrap_or_else(|bad| {
                report::warn(format_args!("{bad}; cacheow stays off"));
                false
            });
            let decision = if cfg!(feature = "instrument") && on { ON } else { OFF };
            let _ = STATE.fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                (state & DECISION == UNDECIDED).then_some(state | decision)
            });
            STATE.load(Ordering::Acquire) & DECISION == ON
        }
    }
}

/// Turns cacheow off for good, whatever `CACHEOW_ENABLE` said: in a forked
/// child. Test scopes and bound runtimes still count.
pub(crate) fn turn_off() {
    let _ = STATE.fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| Some(state & !DECISION | OFF));
}

/// Whether test scopes are running.
pub(crate) fn scopes_running() -> bool {
    STATE.load(Ordering::Relaxed) & SCOPES != 0
}

/// Counts a test scope that started; `scope_ended` uncounts it.
pub(crate) fn scope_started() {
    STATE.fetch_add(SCOPE, Ordering::AcqRel);
}

pub(crate) fn scope_ended() {
    STATE.fetch_sub(SCOPE, Ordering::AcqRel);
}

/// Counts a runtime bound to a thread; `unbound` uncounts it.
pub(crate) fn bound() {
    STATE.fetch_add(BOUND, Ordering::AcqRel);
}

pub(crate) fn unbound() {
    STATE.fetch_sub(BOUND, Ordering::AcqRel);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_and_bindings_keep_calls_active_and_apart() {
        // The only test of this word in the unit tests: nothing else moves it.
        scope_started();
        bound();
        assert!(is_active() && scopes_running());
        scope_ended();
        assert!(is_active() && !scopes_running(), "a binding is not a test scope");
        unbound();
        assert!(!scopes_running());
    }
}
