//! What calls did, tallied in memory on the caller's thread and written to
//! the database by the writer in its next batch: a replay costs a few
//! atomic increments, not a message to another thread.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::model::event::{CallEvent, Stats};
use crate::model::outcome::OutcomeKind;
use crate::model::time::now_millis;
use crate::store::calls::{CallBatch, CallTotals, RECENT_CALLS, RecentCall};

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
        if outcome.is_some_and(|(_, kind)| kind.failed()) {
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
    pub(crate) fn drain(&self) -> CallBatch {
        let take = |counter: &AtomicU64| counter.swap(0, Ordering::Relaxed);
        let totals = CallTotals {
            counts: Stats {
                total_calls: take(&self.total_calls),
                cache_hits: take(&self.cache_hits),
                cache_misses: take(&self.cache_misses),
                mock_calls: take(&self.mock_calls),
                errors: take(&self.errors),
            },
            duration_ms: take(&self.duration_micros) as f64 / 1000.0,
            // 0 when no call came since the last drain; else one more than
            // the milliseconds from the epoch.
            last_call_ms: match take(&self.last_call_since_epoch_ms) {
                0 => None,
                since => Some(self.epoch.1.saturating_add(i64::try_from(since - 1).unwrap_or(i64::MAX))),
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
        let now = Instant::now();
        log.log(CallEvent::Hit, now, Duration::ZERO, 1, Some((7, OutcomeKind::Error)));
        log.log(CallEvent::Recorded, now, Duration::ZERO, 1, None);
        log.repeat(7, 10);
        log.repeat(7, 5);
        let drained = log.drain();
        let Stats { total_calls, cache_hits, cache_misses, mock_calls, errors } = drained.totals.counts;
        assert_eq!((total_calls, cache_hits, cache_misses, mock_calls, errors), (2, 1, 0, 0, 1));
        assert!(drained.totals.last_call_ms.is_some_and(|at| at >= log.epoch.1));
        assert_eq!(drained.recent.len(), 2);
        assert_eq!(drained.repeats[&7], (2, 10));
        assert!(log.drain().is_empty());
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
