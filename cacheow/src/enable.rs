//! Whether cacheow is on in this process. Decided once, on the first call of
//! a decorated function; until then, and when off, a decorated function pays
//! one relaxed atomic load and a branch.

use std::sync::atomic::{AtomicU8, Ordering};

const UNDECIDED: u8 = 0;
const OFF: u8 = 1;
const ON: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(UNDECIDED);

/// Whether a call may need cacheow: `false` only once it is known to be off.
#[inline(always)]
pub fn is_active() -> bool {
    STATE.load(Ordering::Relaxed) != OFF
}

/// Whether cacheow is on, reading `CACHEOW_ENABLE` the first time.
pub(crate) fn enabled() -> bool {
    match STATE.load(Ordering::Acquire) {
        ON => true,
        OFF => false,
        _ => {
            let on = cfg!(feature = "instrument") && crate::settings::enabled_from_env();
            let _ = STATE.compare_exchange(UNDECIDED, if on { ON } else { OFF }, Ordering::AcqRel, Ordering::Acquire);
            STATE.load(Ordering::Acquire) == ON
        }
    }
}

/// Turns cacheow on whatever `CACHEOW_ENABLE` says (for test harnesses).
pub(crate) fn force_on() {
    STATE.store(ON, Ordering::Release);
}
