//! What calls did: each call's event, as the recent calls show it, and
//! the counts of them.

/// What a call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CallEvent {
    /// Default mode: the function ran and its outcome was recorded.
    Recorded,
    /// Cache mode: answered from a recording.
    Hit,
    /// Cache mode: no recording, the function ran.
    Miss,
    /// Mock mode: answered from a recording.
    Mock,
}

impl CallEvent {
    /// Every event, in the order a legend lists them.
    pub(crate) const ALL: [CallEvent; 4] = [CallEvent::Recorded, CallEvent::Hit, CallEvent::Miss, CallEvent::Mock];

    /// `recorded`, `hit`, `miss` or `mock`, as the database holds it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CallEvent::Recorded => "recorded",
            CallEvent::Hit => "hit",
            CallEvent::Miss => "miss",
            CallEvent::Mock => "mock",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<CallEvent> {
        CallEvent::ALL.into_iter().find(|event| event.as_str() == text)
    }
}

/// Hit, miss and call counts of a function, over every process that used
/// the data dir.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// Every call, in any mode.
    pub total_calls: u64,
    /// Calls answered from a recording in cache mode.
    pub cache_hits: u64,
    /// Calls in cache mode that found no recording and called the function.
    pub cache_misses: u64,
    /// Calls answered in mock mode.
    pub mock_calls: u64,
    /// Calls whose outcome was an error.
    pub errors: u64,
}
