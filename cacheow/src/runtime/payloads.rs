//! Payloads in memory, within a budget of bytes that a runtime's functions
//! share. The index keeps no payload: an outcome's is read from its file at
//! its first replay, with one read, and kept here while it fits. Past the
//! budget, the payload replayed longest ago leaves first (a clock: one
//! replayed since the last pass gets another round). A payload not yet in
//! its file is pinned until the writer wrote it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use crate::model::codec::Source;
use crate::model::outcome::{OutcomeKind, Payload};

/// What keeping a payload costs besides its text: the structures that hold it.
const OVERHEAD: usize = 2 * std::mem::size_of::<Cached>() + 64;

/// An outcome in memory, with its payload.
pub(crate) struct Cached {
    pub(crate) kind: OutcomeKind,
    pub(crate) payload: Payload,
    /// Not yet in its file: it may not leave memory.
    pinned: AtomicBool,
    /// Replayed since the clock last passed it.
    replayed: AtomicBool,
    bytes: usize,
    /// A JSON payload, parsed at its second replay, with the bytes that
    /// takes; `None` for a RON one, or one that does not parse.
    parsed: OnceLock<Option<(serde_json::Value, usize)>>,
    /// Replayed once: the next replay parses it.
    replayed_once: AtomicBool,
    budget: Arc<Budget>,
}

impl Cached {
    /// A payload read from its file.
    pub(crate) fn new(kind: OutcomeKind, payload: Payload, budget: &Arc<Budget>) -> Arc<Cached> {
        Cached::with(kind, payload, budget, false)
    }

    /// The payload of an outcome just recorded, pinned until it is written.
    pub(crate) fn pinned(kind: OutcomeKind, payload: Payload, budget: &Arc<Budget>) -> Arc<Cached> {
        Cached::with(kind, payload, budget, true)
    }

    fn with(kind: OutcomeKind, payload: Payload, budget: &Arc<Budget>, pinned: bool) -> Arc<Cached> {
        let bytes = payload.text().len() + OVERHEAD;
        budget.used.fetch_add(bytes, Ordering::Relaxed);
        budget.live.fetch_add(1, Ordering::Relaxed);
        Arc::new(Cached {
            kind,
            payload,
            pinned: AtomicBool::new(pinned),
            replayed: AtomicBool::new(false),
            bytes,
            parsed: OnceLock::new(),
            replayed_once: AtomicBool::new(false),
            budget: Arc::clone(budget),
        })
    }

    /// The payload, as a replay decodes it: from the second on, from its
    /// parsed JSON, which costs a decode and no parse. A payload replayed
    /// once (a pass over many outcomes) is never parsed.
    pub(crate) fn source(&self) -> Source<'_> {
        if self.parsed.get().is_none() && !self.replayed_once.swap(true, Ordering::Relaxed) {
            return Source::from(&self.payload);
        }
        let parsed = self.parsed.get_or_init(|| {
            let Payload::Json(text) = &self.payload else { return None };
            let value: serde_json::Value = serde_json::from_str(text).ok()?;
            let bytes = value_bytes(&value);
            self.budget.charge(bytes);
            Some((value, bytes))
        });
        Source { payload: &self.payload, parsed: parsed.as_ref().map(|(value, _)| value) }
    }

    /// Notes a replay, for the clock. Written only when it changes: hot
    /// payloads are read by many threads, rarely written.
    pub(crate) fn note_replay(&self) {
        if !self.replayed.load(Ordering::Relaxed) {
            self.replayed.store(true, Ordering::Relaxed);
        }
    }

    /// The payload is in its file now; `true` when it was pinned.
    pub(crate) fn unpin(&self) -> bool {
        self.pinned.swap(false, Ordering::Relaxed)
    }
}

impl Drop for Cached {
    fn drop(&mut self) {
        let parsed = self.parsed.get().and_then(Option::as_ref).map_or(0, |(_, bytes)| *bytes);
        self.budget.used.fetch_sub(self.bytes + parsed, Ordering::Relaxed);
        self.budget.live.fetch_sub(1, Ordering::Relaxed);
    }
}

/// About what a parsed JSON value takes in memory.
fn value_bytes(value: &serde_json::Value) -> usize {
    use serde_json::Value;
    std::mem::size_of::<Value>()
        + match value {
            Value::String(text) => text.capacity(),
            Value::Array(items) => items.iter().map(value_bytes).sum(),
            // A map entry: its key, and the map's own nodes.
            Value::Object(map) => map.iter().map(|(key, value)| key.capacity() + 32 + value_bytes(value)).sum(),
            _ => 0,
        }
}

impl std::fmt::Debug for Cached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cached").field("kind", &self.kind).field("payload", &self.payload).finish_non_exhaustive()
    }
}

/// An outcome chosen to replay, with its payload in hand.
#[derive(Debug, Clone)]
pub(crate) struct Replay {
    pub(crate) id: u64,
    /// The key of the arguments it answers, when it was chosen by them.
    pub(crate) arg_key: Option<u128>,
    pub(crate) cached: Arc<Cached>,
    /// When it was last recorded, in cache mode (0 in mock mode).
    pub(crate) recorded_ms: i64,
}

impl Replay {
    pub(crate) fn recorded_at(self, recorded_ms: i64) -> Replay {
        Replay { recorded_ms, ..self }
    }

    pub(crate) fn kind(&self) -> OutcomeKind {
        self.cached.kind
    }

    pub(crate) fn payload(&self) -> &Payload {
        &self.cached.payload
    }

    pub(crate) fn source(&self) -> Source<'_> {
        self.cached.source()
    }
}

/// Where payloads leave memory: the function's index drops its payload
/// `id` if it still holds `cached`.
pub(crate) trait Evict: Send + Sync {
    fn evict(&self, function_id: &str, id: u64, cached: &Arc<Cached>);
}

/// The bytes a runtime's payloads may take, and the order they leave in.
pub(crate) struct Budget {
    limit: usize,
    used: AtomicUsize,
    /// The payloads in memory.
    live: AtomicUsize,
    clock: Mutex<VecDeque<Kept>>,
    evict: OnceLock<Weak<dyn Evict>>,
}

/// A payload that may leave memory.
struct Kept {
    function_id: &'static str,
    id: u64,
    cached: Weak<Cached>,
}

impl Budget {
    pub(crate) fn new(limit_bytes: usize) -> Arc<Budget> {
        Arc::new(Budget {
            limit: limit_bytes,
            used: AtomicUsize::new(0),
            live: AtomicUsize::new(0),
            clock: Mutex::new(VecDeque::new()),
            evict: OnceLock::new(),
        })
    }

    /// Says where payloads leave memory; once.
    pub(crate) fn evict_through(&self, evict: Weak<dyn Evict>) {
        let _ = self.evict.set(evict);
    }

    /// The bytes the payloads in memory take.
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Lets the payloads the index now holds leave memory when the budget
    /// needs room, then makes room. The caller holds no lock.
    pub(crate) fn admit(&self, function_id: &'static str, kept: impl IntoIterator<Item = (u64, Arc<Cached>)>) {
        {
            let mut clock = self.clock();
            for (id, cached) in kept {
                clock.push_back(Kept { function_id, id, cached: Arc::downgrade(&cached) });
            }
            // Payloads dropped otherwise (deleted, replaced, reloaded) leave
            // their places behind: swept once they are half of the clock.
            if clock.len() >= 1024 && clock.len() > 2 * self.live.load(Ordering::Relaxed) {
                clock.retain(|kept| kept.cached.strong_count() > 0);
            }
        }
        self.make_room();
    }

    /// Counts `bytes` more, a payload parsed, and makes room. The caller
    /// holds no lock.
    fn charge(&self, bytes: usize) {
        if self.used.fetch_add(bytes, Ordering::Relaxed) + bytes > self.limit {
            self.make_room();
        }
    }

    /// Evicts payloads until the budget holds, skipping once each payload
    /// replayed since the last pass.
    fn make_room(&self) {
        let Some(evict) = self.evict.get().and_then(Weak::upgrade) else { return };
        let mut passes = 2 * self.clock().len();
        while self.used() > self.limit && passes > 0 {
            passes -= 1;
            let Some(kept) = self.clock().pop_front() else { return };
            let Some(cached) = kept.cached.upgrade() else { continue };
            if cached.replayed.swap(false, Ordering::Relaxed) {
                self.clock().push_back(kept);
                continue;
            }
            evict.evict(kept.function_id, kept.id, &cached);
        }
    }

    fn clock(&self) -> std::sync::MutexGuard<'_, VecDeque<Kept>> {
        self.clock.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Forgets what it is told to evict, as an index would.
    #[derive(Default)]
    struct Held(Mutex<Vec<(u64, Arc<Cached>)>>);

    impl Evict for Held {
        fn evict(&self, _: &str, id: u64, _: &Arc<Cached>) {
            self.0.lock().unwrap_or_else(|p| p.into_inner()).retain(|(held, _)| *held != id);
        }
    }

    fn budget_evicting_into_held(limit: usize) -> (Arc<Budget>, Arc<Held>) {
        let (budget, held) = (Budget::new(limit), Arc::new(Held::default()));
        budget.evict_through(Arc::downgrade(&held) as Weak<dyn Evict>);
        (budget, held)
    }

    /// Payloads that `held` holds, as an index would, admitted one by one.
    fn hold(budget: &Arc<Budget>, held: &Held, ns: std::ops::Range<u64>, replayed: Option<u64>) {
        for n in ns {
            let cached = Cached::new(OutcomeKind::Return, payload(n), budget);
            held.0.lock().unwrap_or_else(|p| p.into_inner()).push((n, Arc::clone(&cached)));
            if replayed == Some(n) {
                cached.note_replay();
            }
            budget.admit("f", [(n, cached)]);
        }
    }

    fn payload(n: u64) -> Payload {
        Payload::Json(format!("\"{}\"", "x".repeat(1000 + n as usize % 2)).into())
    }

    #[test]
    fn payloads_leave_in_clock_order_within_the_budget() {
        let (budget, held) = budget_evicting_into_held(5 * (1000 + OVERHEAD));
        for n in 0..20 {
            hold(&budget, &held, n..n + 1, Some(1));
            assert!(budget.used() <= 5 * (1002 + OVERHEAD), "{} after {n}", budget.used());
        }
        let ids: Vec<u64> = held.0.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|(id, _)| *id).collect();
        assert_eq!(ids.len(), 4, "{ids:?}");
        assert_eq!(ids.last(), Some(&19), "the newest stays: {ids:?}");
        drop(held);
        assert_eq!(budget.used(), 0, "every byte is given back when its payload goes");
    }

    #[test]
    fn pinned_payloads_stay_until_admitted() {
        let (budget, held) = budget_evicting_into_held(10);
        let cached = Cached::pinned(OutcomeKind::Return, payload(0), &budget);
        held.0.lock().unwrap_or_else(|p| p.into_inner()).push((0, Arc::clone(&cached)));
        budget.admit("f", []);
        assert_eq!(held.0.lock().unwrap_or_else(|p| p.into_inner()).len(), 1, "not admitted: kept");
        assert!(cached.unpin());
        budget.admit("f", [(0, cached)]);
        assert!(held.0.lock().unwrap_or_else(|p| p.into_inner()).is_empty(), "admitted: over budget, evicted");
    }

    #[test]
    fn a_parsed_payload_counts_and_makes_room() {
        let (budget, held) = budget_evicting_into_held(3 * (1010 + OVERHEAD));
        hold(&budget, &held, 0..3, None);
        let hot = Arc::clone(&held.0.lock().unwrap_or_else(|p| p.into_inner())[2].1);
        let before = budget.used();
        // The second replay parses it: over budget, the coldest leave.
        assert!(hot.source().parsed.is_none(), "not at the first replay");
        assert!(hot.source().parsed.is_some(), "at the second");
        assert!(held.0.lock().unwrap_or_else(|p| p.into_inner()).len() < 3, "room was made");
        assert!(budget.used() <= 3 * (1010 + OVERHEAD), "{} from {before}", budget.used());
        drop(held);
        drop(hot);
        assert_eq!(budget.used(), 0, "the parsed bytes are given back too");
    }

    #[test]
    fn the_places_of_payloads_dropped_elsewhere_are_swept() {
        let budget = Budget::new(usize::MAX);
        for n in 0..5000 {
            // Dropped at once, as a deleted outcome's.
            budget.admit("f", [(n, Cached::new(OutcomeKind::Return, payload(n), &budget))]);
        }
        assert!(budget.clock().len() < 1100, "{} places kept", budget.clock().len());
    }
}
