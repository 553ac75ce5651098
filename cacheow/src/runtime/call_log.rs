//! What calls did, tallied in memory on the caller's thread and written to
//! the database by the writer in its next batch: a replay costs a few
//! atomic increments, not a message to another thread.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::model::event::{CallEvent, Stats};
use crate::model::outcome::OutcomeKind;
use crate::model::status::{self, CallStatus};
use crate::model::time::{coarse_monotonic_millis, now_millis};
use crate::store::calls::{CallBatch, CallTotals, RECENT_CALLS, RecentCall};

/// A call costs one counter increment (the total is their sum), one
/// reading of the coarse clock, and a slot among the recent calls; the
/// other words are written only when they change.
pub(crate) struct CallLog {
    recorded_calls: AtomicU64,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    mock_calls: AtomicU64,
    errors: AtomicU64,
    duration_micros: AtomicU64,
    /// One more than the coarse clock's milliseconds since `epoch`: 0 for
    /// no call since the last drain.
    last_call_since_epoch_ms: AtomicU64,
    recent: Mutex<VecDeque<RecentCall>>,
    repeats: Mutex<HashMap<u64, (u64, i64)>>,
    /// Two readings at the start: the precise clock and the wall time, for
    /// outcomes' times; the coarse clock, for calls' times.
    epoch: Epoch,
}

struct Epoch {
    instant: Instant,
    coarse_ms: u64,
    wall_ms: i64,
}

impl CallLog {
    pub(crate) fn new() -> CallLog {
        CallLog {
            recorded_calls: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
            cache_misses: AtomicU64::new(0),
            mock_calls: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            duration_micros: AtomicU64::new(0),
            last_call_since_epoch_ms: AtomicU64::new(0),
            recent: Mutex::new(VecDeque::new()),
            repeats: Mutex::new(HashMap::new()),
            epoch: Epoch { instant: Instant::now(), coarse_ms: coarse_monotonic_millis(), wall_ms: now_millis() },
        }
    }

    /// The wall time of `instant`, in milliseconds since the Unix epoch.
    pub(crate) fn millis_at(&self, instant: Instant) -> i64 {
        let since = instant.saturating_duration_since(self.epoch.instant).as_millis();
        self.epoch.wall_ms.saturating_add(i64::try_from(since).unwrap_or(i64::MAX))
    }

    /// The wall time now, in milliseconds since the Unix epoch, from the
    /// coarse clock: a few milliseconds behind at most, and cheap to read.
    pub(crate) fn now_ms(&self) -> i64 {
        self.coarse_wall_ms(coarse_monotonic_millis().saturating_sub(self.epoch.coarse_ms))
    }

    /// The wall time of `since_epoch` on the coarse clock.
    fn coarse_wall_ms(&self, since_epoch: u64) -> i64 {
        self.epoch.wall_ms.saturating_add(i64::try_from(since_epoch).unwrap_or(i64::MAX))
    }

    /// Logs a call that just ended, after `duration`, and notes its status
    /// for [`last_status`](crate::last_status) on this thread.
    pub(crate) fn log(
        &self,
        event: CallEvent,
        status: CallStatus,
        duration: Duration,
        arg_key: u128,
        outcome: Option<(u64, OutcomeKind)>,
    ) {
        status::set_last(status);
        let counter = match event {
            CallEvent::Hit => &self.cache_hits,
            CallEvent::Miss => &self.cache_misses,
            CallEvent::Mock => &self.mock_calls,
            CallEvent::Recorded => &self.recorded_calls,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        // A replay takes under a microsecond, unless it waited a latency.
        let micros = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
        if micros > 0 {
            self.duration_micros.fetch_add(micros, Ordering::Relaxed);
        }
        let since_epoch = coarse_monotonic_millis().saturating_sub(self.epoch.coarse_ms);
        if self.last_call_since_epoch_ms.load(Ordering::Relaxed) <= since_epoch {
            self.last_call_since_epoch_ms.fetch_max(since_epoch + 1, Ordering::Relaxed);
        }
        if outcome.is_some_and(|(_, kind)| kind.failed()) {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        // Recent calls are for people: under contention, one may be skipped.
        if let Ok(mut recent) = self.recent.try_lock() {
            if recent.len() == RECENT_CALLS {
                recent.pop_front();
            }
            let at_ms = self.coarse_wall_ms(since_epoch);
            let outcome_id = outcome.map(|(id, _)| id);
            recent.push_back(RecentCall { at_ms, event, status, duration, arg_key, outcome_id });
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
    pub(crate) fn drain(&self) -> CallBatch {
        let take = |counter: &AtomicU64| counter.swap(0, Ordering::Relaxed);
        let (cache_hits, cache_misses, mock_calls) =
            (take(&self.cache_hits), take(&self.cache_misses), take(&self.mock_calls));
        let total_calls = take(&self.recorded_calls) + cache_hits + cache_misses + mock_calls;
        let totals = CallTotals {
            counts: Stats { total_calls, cache_hits, cache_misses, mock_calls, errors: take(&self.errors) },
            duration_ms: take(&self.duration_micros) as f64 / 1000.0,
            // 0 when no call came since the last drain; else one more than
            // the milliseconds from the epoch.
            last_call_ms: match take(&self.last_call_since_epoch_ms) {
                0 => None,
                since => Some(self.coarse_wall_ms(since - 1)),
            },
        };
        let recent = std::mem::take(&mut *self.recent.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        let repeats = std::mem::take(&mut *self.repeats.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        CallBatch { totals, recent: recent.into(), repeats }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_and_drains() {
        let log = CallLog::new();
        log.log(CallEvent::Hit, CallStatus::Hit, Duration::ZERO, 1, Some((7, OutcomeKind::Error)));
        log.log(CallEvent::Recorded, CallStatus::Recorded, Duration::ZERO, 1, None);
        log.repeat(7, 10);
        log.repeat(7, 5);
        let drained = log.drain();
        let Stats { total_calls, cache_hits, cache_misses, mock_calls, errors } = drained.totals.counts;
        assert_eq!((total_calls, cache_hits, cache_misses, mock_calls, errors), (2, 1, 0, 0, 1));
        assert!(drained.totals.last_call_ms.is_some_and(|at| at >= log.epoch.wall_ms));
        assert_eq!(drained.recent.len(), 2);
        assert_eq!(drained.repeats[&7], (2, 10));
        assert!(log.drain().is_empty());
    }

    #[test]
    fn keeps_the_most_recent_calls() {
        let log = CallLog::new();
        for key in 0..(RECENT_CALLS as u128 + 5) {
            log.log(CallEvent::Mock, CallStatus::Mock, Duration::ZERO, key, None);
        }
        let recent = log.drain().recent;
        assert_eq!(recent.len(), RECENT_CALLS);
        assert_eq!(recent[0].arg_key, 5);
    }
}
