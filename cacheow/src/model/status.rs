//! What a decorated call did: the status [`last_status`] gives and the
//! panel's recent calls show.

use std::cell::Cell;

/// What the last decorated call of a thread did.
///
/// ```no_run
/// use cacheow::{cacheow, CallStatus, Mode};
///
/// #[cacheow]
/// fn square(n: u64) -> u64 { n * n }
///
/// # fn main() -> Result<(), cacheow::Error> {
/// cacheow::handle!(square).set_mode(Mode::Cache)?;
/// square(3);
/// square(3);
/// assert_eq!(cacheow::last_status(), Some(CallStatus::Hit));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CallStatus {
    /// Cache mode: a recorded outcome was returned.
    Hit,
    /// Cache mode with `serve_stale`: an expired outcome was returned, and
    /// is being refreshed in the background.
    StaleHit,
    /// Cache mode: nothing fresh was recorded; the function ran and its
    /// outcome was recorded.
    Miss,
    /// Default mode: the function ran and its outcome was recorded.
    Recorded,
    /// The function ran, and its outcome was not recorded: `cache_if` or
    /// `cache_errors = false` refused it, or it could not be encoded.
    NotRecorded,
    /// Mock mode: a recorded outcome was drawn and returned.
    Mock,
    /// [`bypass`](crate::bypass): the function ran; nothing was read or recorded.
    Bypassed,
    /// Another call with the same key was in flight; this one waited for
    /// it and returned its outcome.
    Waited,
    /// Cache mode: nothing was recorded here, and the shared tier (Redis)
    /// had an outcome another machine recorded; it is kept here now.
    SharedHit,
}

impl CallStatus {
    /// `hit`, `stale_hit`, ..., as the API and the panel say.
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Hit => "hit",
            CallStatus::StaleHit => "stale_hit",
            CallStatus::Miss => "miss",
            CallStatus::Recorded => "recorded",
            CallStatus::NotRecorded => "not_recorded",
            CallStatus::Mock => "mock",
            CallStatus::Bypassed => "bypassed",
            CallStatus::Waited => "waited",
            CallStatus::SharedHit => "shared_hit",
        }
    }

    /// The status `as_str` names.
    pub(crate) fn parse(text: &str) -> Option<CallStatus> {
        (1..=9).filter_map(CallStatus::from_u8).find(|status| status.as_str() == text)
    }

    /// What recording an outcome is, for a call of this event.
    pub(crate) fn of_record(event: crate::model::event::CallEvent) -> CallStatus {
        match event {
            crate::model::event::CallEvent::Miss => CallStatus::Miss,
            _ => CallStatus::Recorded,
        }
    }

    pub(crate) fn to_u8(self) -> u8 {
        self as u8 + 1
    }

    pub(crate) fn from_u8(code: u8) -> Option<CallStatus> {
        const ALL: [CallStatus; 9] = [
            CallStatus::Hit,
            CallStatus::StaleHit,
            CallStatus::Miss,
            CallStatus::Recorded,
            CallStatus::NotRecorded,
            CallStatus::Mock,
            CallStatus::Bypassed,
            CallStatus::Waited,
            CallStatus::SharedHit,
        ];
        ALL.get(usize::from(code).checked_sub(1)?).copied()
    }
}

impl std::fmt::Display for CallStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

thread_local! {
    static LAST: Cell<u8> = const { Cell::new(0) };
}

/// The status of the last decorated call that finished on this thread;
/// `None` while cacheow is off, or before the first call.
///
/// For an `async` function, read it right after the `.await`: that runs on
/// the thread that finished the call.
pub fn last_status() -> Option<CallStatus> {
    LAST.try_with(Cell::get).ok().and_then(CallStatus::from_u8)
}

/// Notes the status of a call that just finished on this thread.
pub(crate) fn set_last(status: CallStatus) {
    let _ = LAST.try_with(|last| last.set(status.to_u8()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips() {
        for code in 1..=9 {
            let status = CallStatus::from_u8(code).unwrap_or(CallStatus::Hit);
            assert_eq!(status.to_u8(), code);
        }
        assert_eq!(CallStatus::parse("stale_hit"), Some(CallStatus::StaleHit));
        assert_eq!(CallStatus::parse("hits"), None);
        assert_eq!(CallStatus::from_u8(0), None);
        assert_eq!(CallStatus::parse("shared_hit"), Some(CallStatus::SharedHit));
        assert_eq!(CallStatus::from_u8(10), None);
    }
}
