//! What calls did, tallied in memory on the caller's thread and written to
//! the database by the writer in its next batch: a replay costs a few
//! atomic increments, not a message to another thread.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::outcome::{OutcomeKind, now_millis};

/// Recent calls kept per function, for the control panel.
pub(crate) const RECENT_CALLS: usize = 200;

/// What a call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CallEvent::Recorded => "recorded",
            CallEvent::Hit => "hit",
            CallEvent::Miss => "miss",
            CallEvent::Mock => "mock",
        }
    }
}

/// One call, for the recent calls of the control panel.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecentCall {
    pub(crate) at_ms: i64,
    pub(crate) event: CallEvent,
    pub(crate) duration: Duration,
    pub(crate) arg_key: u128,
    pub(crate) outcome_id: Option<u64>,
}

/// Counts not yet written, per function.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) total_calls: u64,
    pub(crate) cache_hits: u64,
    pub(crate) cache_misses: u64,
    pub(crate) mock_calls: u64,
    pub(crate) errors: u64,
    /// The calls' durations added up, in microseconds.
    pub(crate) duration_micros: u64,
    /// When the last call started, in milliseconds since the Unix epoch.
    pub(crate) last_call_ms: i64,
}

/// Everything logged since the last drain.
#[derive(Debug, Default)]
pub(crate) struct Drained {
    pub(crate) tally: Tally,
    pub(crate) recent: Vec<RecentCall>,
    /// Outcome id → (calls that recorded it again, when last).
    pub(crate) repeats: HashMap<u64, (u64, i64)>,
}

impl Drained {
    pub(crate) fn is_empty(&self) -> bool {
        self.tally == Tally::default() && self.recent.is_empty() && self.repeats.is_empty()
    }
}

pub(crate) struct CallLog {
    total_calls: AtomicU64,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    mock_calls: AtomicU64,
    errors: AtomicU64,
    duration_micros: AtomicU64,
    /// Relative to `epoch`: one clock reading per call is enough.
    last_call_since_epoch_ms: AtomicU64,
    recent: Mutex<VecDeque<RecentCall>>,
    repeats: Mutex<HashMap<u64, (u64, i64)>>,
    /// A clock reading and the wall time at it: the wall time of a call
    /// without a second clock reading.
    epoch: (Instant, i64),
}

impl CallLog {
    pub(crate) fn new() -> CallLog {
        CallLog {
            total_calls: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
            cache_misses: AtomicU64::new(0),
            mock_calls: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            duration_micros: AtomicU64::new(0),
            last_call_since_epoch_ms: AtomicU64::new(0),
            recent: Mutex::new(VecDeque::new()),
            repeats: Mutex::new(HashMap::new()),
            epoch: (Instant::now(), now_millis()),
        }
    }

    /// The wall time of `instant`, in milliseconds since the Unix epoch.
    pub(crate) fn millis_at(&self, instant: Instant) -> i64 {
        let since = instant.saturating_duration_since(self.epoch.0).as_millis();
        self.epoch.1.saturating_add(i64::try_from(since).unwrap_or(i64::MAX))
    }

    /// Logs a call that started at `started` and took `duration`.
    pub(crate) fn log(
        &self,
        event: CallEvent,
        started: Instant,
        duration: Duration,
        arg_key: u128,
        outcome: Option<(u64, OutcomeKind)>,
    ) {
        let counter = match event {
            CallEvent::Hit => Some(&self.cache_hits),
            CallEvent::Miss => Some(&self.cache_misses),
            CallEvent::Mock => Some(&self.mock_calls),
            CallEvent::Recorded => None,
        };
        self.total_calls.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
        self.duration_micros.fetch_add(micros, Ordering::Relaxed);
        let since_epoch =
            u64::try_from(started.saturating_duration_since(self.epoch.0).as_millis()).unwrap_or(u64::MAX);
        self.last_call_since_epoch_ms.fetch_max(since_epoch + 1, Ordering::Relaxed);
        if let Some(counter) = counter {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        if outcome.is_some_and(|(_, kind)| matches!(kind, OutcomeKind::Error | OutcomeKind::Panic)) {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        // Recent calls are for people: under contention, one may be skipped.
        if let Ok(mut recent) = self.recent.try_lock() {
            if recent.len() == RECENT_CALLS {
                recent.pop_front();
            }
            let at_ms = self.millis_at(started);
            recent.push_back(RecentCall { at_ms, event, duration, arg_key, outcome_id: outcome.map(|(id, _)| id) });
        }
    }

    /// Counts one more call that recorded the outcome `outcome_id` again.
    pub(crate) fn repeat(&self, outcome_id: u64, at_ms: i64) {
        let mut repeats = self.repeats.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = repeats.entry(outcome_id).or_insert((0, at_ms));
        entry.0 += 1;
        entry.1 = entry.1.max(at_ms);
    }

    /// Takes everything logged since the last drain.
    pub(crate) fn drain(&self) -> Drained {
        let take = |counter: &AtomicU64| counter.swap(0, Ordering::Relaxed);
        let tally = Tally {
            total_calls: take(&self.total_calls),
            cache_hits: take(&self.cache_hits),
            cache_misses: take(&self.cache_misses),
            mock_calls: take(&self.mock_calls),
            errors: take(&self.errors),
            duration_micros: take(&self.duration_micros),
            // 0 when no call came since the last drain; else one more than
            // the milliseconds from the epoch.
            last_call_ms: match take(&self.last_call_since_epoch_ms) {
                0 => 0,
                since => self.epoch.1.saturating_add(i64::try_from(since - 1).unwrap_or(i64::MAX)),
            },
        };
        let recent = std::mem::take(&mut *self.recent.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        let repeats = std::mem::take(&mut *self.repeats.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        Drained { tally, recent: recent.into(), repeats }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_and_drains() {
        let log = CallLog::new();
        let now = Instant::now();
        log.log(CallEvent::Hit, now, Duration::ZERO, 1, Some((7, OutcomeKind::Error)));
        log.log(CallEvent::Recorded, now, Duration::ZERO, 1, None);
        log.repeat(7, 10);
        log.repeat(7, 5);
        let drained = log.drain();
        let Tally { total_calls, cache_hits, cache_misses, mock_calls, errors, last_call_ms, .. } = drained.tally;
        assert_eq!((total_calls, cache_hits, cache_misses, mock_calls, errors), (2, 1, 0, 0, 1));
        assert!(last_call_ms >= log.epoch.1);
        assert_eq!(drained.recent.len(), 2);
        assert_eq!(drained.repeats[&7], (2, 10));
        assert_eq!(log.drain().tally, Tally::default());
    }

    #[test]
    fn keeps_the_most_recent_calls() {
        let log = CallLog::new();
        for key in 0..(RECENT_CALLS as u128 + 5) {
            log.log(CallEvent::Mock, Instant::now(), Duration::ZERO, key, None);
        }
        let recent = log.drain().recent;
        assert_eq!(recent.len(), RECENT_CALLS);
        assert_eq!(recent[0].arg_key, 5);
    }
}
