//! Whether a decorated call needs cacheow. Decided on the first call of a
//! decorated function; until then, and when off, a decorated function pays
//! one relaxed atomic load and a branch.
//!
//! One word holds both answers: the low two bits say whether cacheow is on
//! (`CACHEOW_ENABLE`), the rest count the test scopes running, whose calls
//! need cacheow whatever the environment says.

use std::sync::atomic::{AtomicU32, Ordering};

const UNDECIDED: u32 = 0;
const OFF: u32 = 1;
const ON: u32 = 2;
const DECISION: u32 = 0b11;
/// One running test scope.
const SCOPE: u32 = 0b100;

static STATE: AtomicU32 = AtomicU32::new(UNDECIDED);

/// Whether a call may need cacheow: `false` only once it is known to be off
/// and no test scope runs.
#[inline(always)]
pub fn is_active() -> bool {
    STATE.load(Ordering::Relaxed) != OFF
}

/// Whether cacheow is on, reading `CACHEOW_ENABLE` the first time.
pub(crate) fn enabled() -> bool {
    match STATE.load(Ordering::Acquire) & DECISION {
        ON => true,
        OFF => false,
        _ => {
            let decision = if cfg!(feature = "instrument") && crate::settings::enabled_from_env() { ON } else { OFF };
            let _ = STATE.fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                (state & DECISION == UNDECIDED).then_some(state | decision)
            });
            STATE.load(Ordering::Acquire) & DECISION == ON
        }
    }
}

/// Turns cacheow on whatever `CACHEOW_ENABLE` says (for test harnesses).
pub(crate) fn force_on() {
    let _ = STATE.fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| Some(state & !DECISION | ON));
}

/// Whether test scopes are running.
pub(crate) fn scopes_running() -> bool {
    STATE.load(Ordering::Relaxed) >= SCOPE
}

/// Counts a test scope that started; `scope_ended` uncounts it.
pub(crate) fn scope_started() {
    STATE.fetch_add(SCOPE, Ordering::AcqRel);
}

pub(crate) fn scope_ended() {
    STATE.fetch_sub(SCOPE, Ordering::AcqRel);
}
