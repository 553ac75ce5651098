//! The in-memory index of a function's outcomes: their facts (ids, argument
//! keys, flags) and how often and lately each was seen, with no payload.
//! It answers cache mode (the newest outcome of an argument key) and mock
//! mode (a weighted draw) in time independent of the number of outcomes.
//! The payloads in memory sit beside it, within the runtime's budget.
//!
//! An entry is 40 bytes, about 84 with its share of the tables: the newest
//! outcome of each argument key sits in one table, found by its key; the
//! others (older outcomes of the same arguments, mock-only and partial
//! ones) in another, found by their id.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};

use hashbrown::{HashTable, hash_table};

use crate::model::ids::IdMap;
use crate::model::mock::{MockEntries, MockEntry};
use crate::model::outcome::{Facts, Indexed};
use crate::runtime::payloads::Cached;

/// What the index keeps of an outcome.
pub(crate) struct Entry {
    id: u64,
    /// The argument key, in two halves: the entry stays 8-byte aligned.
    key: [u64; 2],
    last_recorded_ms: AtomicI64,
    count: AtomicU32,
    mock_only: bool,
    partial: bool,
}

impl Entry {
    fn new(facts: Facts, count: u64, last_recorded_ms: i64) -> Entry {
        Entry {
            id: facts.id,
            key: split(facts.arg_key),
            last_recorded_ms: AtomicI64::new(last_recorded_ms),
            count: AtomicU32::new(u32::try_from(count).unwrap_or(u32::MAX)),
            mock_only: facts.flags.mock_only,
            partial: facts.partial,
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn arg_key(&self) -> u128 {
        u128::from(self.key[0]) | (u128::from(self.key[1]) << 64)
    }

    pub(crate) fn count(&self) -> u64 {
        u64::from(self.count.load(Ordering::Relaxed))
    }

    pub(crate) fn last_recorded_ms(&self) -> i64 {
        self.last_recorded_ms.load(Ordering::Relaxed)
    }

    fn cacheable(&self) -> bool {
        !self.mock_only && !self.partial
    }

    /// Counts one more call that gave this outcome, at `at_ms`.
    fn seen(&self, at_ms: i64) {
        let _ = self.count.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |count| count.checked_add(1));
        self.last_recorded_ms.fetch_max(at_ms, Ordering::Relaxed);
    }
}

fn split(arg_key: u128) -> [u64; 2] {
    [arg_key as u64, (arg_key >> 64) as u64]
}

/// Argument keys and ids are hashes already: their low bits hash them.
fn by_key(entry: &Entry) -> u64 {
    entry.key[0]
}

fn by_id(entry: &Entry) -> u64 {
    entry.id
}

#[derive(Default)]
pub(crate) struct OutcomeIndex {
    /// The newest cacheable outcome of each argument key.
    newest: HashTable<Entry>,
    /// Every other outcome.
    others: HashTable<Entry>,
    /// The payloads in memory, by outcome id.
    payloads: IdMap<u64, Arc<Cached>>,
    mock_entries: MockEntries,
    /// Built on the first mock call after a change.
    sampler: Option<Sampler>,
    /// The outcomes recorded by another body of the function (drift).
    other_bodies: std::collections::HashSet<u64>,
}

impl OutcomeIndex {
    /// The index of these outcomes, each of another id.
    pub(crate) fn of(outcomes: impl ExactSizeIterator<Item = Indexed>) -> OutcomeIndex {
        let mut index = OutcomeIndex::with_capacity(outcomes.len());
        outcomes.for_each(|outcome| index.load(outcome));
        index
    }

    /// An empty index with room for about `outcomes` outcomes.
    pub(crate) fn with_capacity(outcomes: usize) -> OutcomeIndex {
        OutcomeIndex { newest: HashTable::with_capacity(outcomes), ..OutcomeIndex::default() }
    }

    /// Adds an outcome known to be of another id than those it holds (a
    /// row, a file): one probe of its table.
    pub(crate) fn load(&mut self, outcome: Indexed) {
        let Indexed { facts, count, last_recorded_ms } = outcome;
        self.place(Entry::new(facts, count, last_recorded_ms));
        self.sampler = None;
    }

    /// How many outcomes it holds.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.newest.len() + self.others.len()
    }

    /// The outcome `id` of the arguments `arg_key`.
    pub(crate) fn get(&self, id: u64, arg_key: u128) -> Option<&Entry> {
        self.newest(arg_key).filter(|entry| entry.id == id).or_else(|| self.others.find(id, |entry| entry.id == id))
    }

    /// Cache mode: the newest outcome recorded for these arguments.
    pub(crate) fn newest(&self, arg_key: u128) -> Option<&Entry> {
        let key = split(arg_key);
        self.newest.find(key[0], |entry| entry.key == key)
    }

    /// Adds an outcome read from disk or the database; one already known
    /// is kept as it is. `true` when it is new.
    pub(crate) fn insert(&mut self, outcome: Indexed) -> bool {
        let Indexed { facts, count, last_recorded_ms } = outcome;
        if self.get(facts.id, facts.arg_key).is_some() {
            return false;
        }
        self.place(Entry::new(facts, count, last_recorded_ms));
        self.sampler = None;
        true
    }

    /// Adds a recorded outcome, with its payload, or counts one more call
    /// of it when it is there; `true` when it is new.
    pub(crate) fn record(&mut self, facts: Facts, at_ms: i64, payload: Arc<Cached>) -> bool {
        self.sampler = None;
        if let Some(entry) = self.get(facts.id, facts.arg_key) {
            entry.seen(at_ms);
            self.promote(facts.id);
            return false;
        }
        self.add(facts, at_ms, payload)
    }

    /// Adds an outcome with its payload, recorded elsewhere (pulled from
    /// the shared tier): one already known is kept as it is, and counts
    /// nothing more. Whether it was new.
    pub(crate) fn add(&mut self, facts: Facts, at_ms: i64, payload: Arc<Cached>) -> bool {
        if self.get(facts.id, facts.arg_key).is_some() {
            return false;
        }
        self.sampler = None;
        self.payloads.insert(facts.id, payload);
        self.place(Entry::new(facts, 1, at_ms));
        true
    }

    /// Counts one more call of an outcome that is already the newest for
    /// its arguments; `false` when it is not (new, or older), which needs
    /// [`record`](Self::record). Under a read lock: the common repeat is cheap.
    pub(crate) fn repeat(&self, id: u64, arg_key: u128, at_ms: i64) -> bool {
        let Some(entry) = self.newest(arg_key).filter(|entry| entry.id == id) else { return false };
        // The sampler keeps the old count as the weight until it is rebuilt.
        entry.seen(at_ms);
        true
    }

    /// Puts an entry in its table: the newest of its arguments, or another.
    fn place(&mut self, entry: Entry) {
        if !entry.cacheable() {
            self.others.insert_unique(entry.id, entry, by_id);
            return;
        }
        let key = entry.key;
        match self.newest.entry(key[0], |current| current.key == key, by_key) {
            hash_table::Entry::Occupied(mut current)
                if entry.last_recorded_ms() >= current.get().last_recorded_ms() =>
            {
                let older = std::mem::replace(current.get_mut(), entry);
                self.others.insert_unique(older.id, older, by_id);
            }
            hash_table::Entry::Occupied(_) => {
                self.others.insert_unique(entry.id, entry, by_id);
            }
            hash_table::Entry::Vacant(slot) => {
                slot.insert(entry);
            }
        }
    }

    /// Makes an outcome seen again the newest of its arguments, if it now is.
    fn promote(&mut self, id: u64) {
        if let Some(entry) = self.take_other(id) {
            self.place(entry);
        }
    }

    /// Takes the outcome `id` out of the others.
    fn take_other(&mut self, id: u64) -> Option<Entry> {
        self.others.find_entry(id, |entry| entry.id == id).ok().map(|entry| entry.remove().0)
    }

    /// Removes an outcome, and its payload; the newest of its arguments
    /// that is left takes its place.
    pub(crate) fn remove(&mut self, id: u64, arg_key: u128) {
        self.remove_all(&[(id, arg_key)]);
    }

    /// Removes outcomes; for each argument key that lost its newest, the
    /// newest left takes its place, found in one pass over the others.
    pub(crate) fn remove_all(&mut self, outcomes: &[(u64, u128)]) {
        let mut orphaned: IdMap<u128, ()> = IdMap::default();
        for &(id, arg_key) in outcomes {
            self.payloads.remove(&id);
            let key = split(arg_key);
            if let Ok(newest) = self.newest.find_entry(key[0], |entry| entry.key == key && entry.id == id) {
                newest.remove();
                orphaned.insert(arg_key, ());
            } else {
                self.take_other(id);
            }
        }
        if !orphaned.is_empty() {
            let successors: Vec<u64> = self
                .others
                .iter()
                .filter(|entry| entry.cacheable() && orphaned.contains_key(&entry.arg_key()))
                .map(|entry| entry.id)
                .collect();
            for id in successors {
                if let Some(entry) = self.take_other(id) {
                    self.place(entry);
                }
            }
        }
        self.sampler = None;
    }

    /// Removes the outcome `id`, whatever its arguments: a pass over the
    /// newest when it is one of them. For the rare outcome that turns out
    /// unreadable when a mock draw, which knows no arguments, replays it.
    pub(crate) fn remove_id(&mut self, id: u64) {
        let arg_key = self.others.find(id, |entry| entry.id == id).map(Entry::arg_key);
        let arg_key = arg_key.or_else(|| self.newest.iter().find(|entry| entry.id == id).map(Entry::arg_key));
        if let Some(arg_key) = arg_key {
            self.remove(id, arg_key);
        }
    }

    /// The payload of outcome `id`, if it is in memory.
    pub(crate) fn payload(&self, id: u64) -> Option<&Arc<Cached>> {
        self.payloads.get(&id)
    }

    /// Keeps a payload read from disk; `false` when another thread kept one
    /// first. Ids name contents: a payload kept for an outcome removed
    /// meanwhile is still its, and leaves with the budget's clock.
    pub(crate) fn keep_payload(&mut self, id: u64, payload: &Arc<Cached>) -> bool {
        if self.payloads.contains_key(&id) {
            return false;
        }
        self.payloads.insert(id, Arc::clone(payload));
        true
    }

    /// Lets a payload go, if it is still the one kept for `id`.
    pub(crate) fn drop_payload(&mut self, id: u64, payload: &Arc<Cached>) {
        if self.payloads.get(&id).is_some_and(|kept| Arc::ptr_eq(kept, payload)) {
            self.payloads.remove(&id);
        }
    }

    pub(crate) fn mock_entries(&self) -> &MockEntries {
        &self.mock_entries
    }

    /// Notes the outcomes another body of the function recorded.
    pub(crate) fn set_other_bodies(&mut self, ids: impl IntoIterator<Item = u64>) {
        self.other_bodies = ids.into_iter().collect();
    }

    /// Notes that another body of the function recorded the outcome `id`.
    pub(crate) fn add_other_body(&mut self, id: u64) {
        self.other_bodies.insert(id);
    }

    /// Whether another body of the function recorded the outcome `id`.
    pub(crate) fn by_other_body(&self, id: u64) -> bool {
        self.other_bodies.contains(&id)
    }

    /// Whether some outcome was recorded by another body.
    pub(crate) fn has_other_bodies(&self) -> bool {
        !self.other_bodies.is_empty()
    }

    /// The outcome `id` is recorded by the body of now; whether another's
    /// had recorded it.
    pub(crate) fn recorded_by_this_body(&mut self, id: u64) -> bool {
        self.other_bodies.remove(&id)
    }

    pub(crate) fn set_mock_entries(&mut self, entries: MockEntries) {
        if entries != self.mock_entries {
            self.mock_entries = entries;
            self.sampler = None;
        }
    }

    pub(crate) fn has_sampler(&self) -> bool {
        self.sampler.is_some()
    }

    pub(crate) fn build_sampler(&mut self) {
        if self.sampler.is_none() {
            self.sampler = Some(Sampler::build(self.newest.iter().chain(self.others.iter()), &self.mock_entries));
        }
    }

    /// Mock mode: the id of an outcome for these arguments, chosen by
    /// `unit`, a number in `[0, 1)`. `None` until
    /// [`build_sampler`](Self::build_sampler) ran.
    pub(crate) fn pick(&self, arg_key: u128, unit: f64) -> Option<u64> {
        self.sampler.as_ref()?.pick(arg_key, unit)
    }
}

/// A weighted choice in constant time (Vose's alias method): one draw picks
/// a slot and, by its fraction, the slot's outcome or its alias.
#[derive(Default)]
struct Weighted {
    weights: Vec<f64>,
    /// The outcome ids: a draw touches little memory.
    ids: Vec<u64>,
    /// Per slot: the chance of keeping its own outcome, and its alias.
    slots: Vec<(f32, u32)>,
    total: f64,
}

impl Weighted {
    fn push(&mut self, weight: f64, id: u64) {
        self.weights.push(weight);
        self.ids.push(id);
    }

    fn seal(&mut self) {
        let weights = std::mem::take(&mut self.weights);
        let n = weights.len();
        self.total = weights.iter().sum();
        self.ids.shrink_to_fit();
        if n == 0 || self.total <= 0.0 {
            return;
        }
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / self.total).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| scaled[i] < 1.0);
        self.slots = (0..n).map(|i| (1.0, i as u32)).collect();
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            self.slots[s] = (scaled[s] as f32, l as u32);
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
    }

    fn total(&self) -> f64 {
        self.total
    }

    /// The outcome `unit` (in `[0, 1)`) picks.
    fn at(&self, unit: f64) -> Option<u64> {
        let x = unit * self.slots.len() as f64;
        let slot = (x as usize).min(self.slots.len().checked_sub(1)?);
        let (keep, alias) = self.slots[slot];
        let chosen = if x - (slot as f64) < f64::from(keep) { slot } else { alias as usize };
        self.ids.get(chosen).copied()
    }
}

struct Sampler {
    /// Outcomes replayed for any arguments.
    any_args: Weighted,
    /// Outcomes replayed only for the arguments they were recorded with.
    by_args: IdMap<u128, Weighted>,
}

impl Sampler {
    fn build<'a>(outcomes: impl Iterator<Item = &'a Entry>, entries: &MockEntries) -> Sampler {
        // Sorted, so that a seeded choice is the same in every run.
        let mut outcomes: Vec<&Entry> = outcomes.collect();
        outcomes.sort_by_key(|outcome| outcome.id);
        let mut sampler = Sampler { any_args: Weighted::default(), by_args: IdMap::default() };
        for outcome in outcomes {
            // Without a configuration every outcome replays for any
            // arguments, as often as it was recorded (an outcome copied in by
            // hand, as often as one recorded once). With one, as in the
            // Python cacheow, only the configured outcomes replay.
            let entry = match entries.get(&outcome.id) {
                Some(entry) => *entry,
                None if entries.is_empty() => {
                    MockEntry { weight: outcome.count().max(1) as f64, enabled: true, ignore_args: true }
                }
                None => continue,
            };
            let usable = entry.enabled && entry.weight > 0.0 && entry.weight.is_finite();
            if !usable {
                continue;
            }
            let list = if entry.ignore_args {
                &mut sampler.any_args
            } else {
                sampler.by_args.entry(outcome.arg_key()).or_default()
            };
            list.push(entry.weight, outcome.id);
        }
        sampler.any_args.seal();
        sampler.by_args.values_mut().for_each(Weighted::seal);
        sampler
    }

    fn pick(&self, arg_key: u128, unit: f64) -> Option<u64> {
        let keyed = self.by_args.get(&arg_key);
        let any_total = self.any_args.total();
        let total = any_total + keyed.map_or(0.0, Weighted::total);
        if total <= 0.0 {
            return None;
        }
        let x = unit * total;
        match keyed {
            Some(keyed) if x >= any_total => keyed.at((x - any_total) / keyed.total()),
            _ => self.any_args.at(x / any_total),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids;
    use crate::model::outcome::{Flags, OutcomeKind, Payload};
    use crate::runtime::payloads::Budget;

    fn facts_of(id: u64, arg_key: u128, flags: Flags) -> Facts {
        Facts { id, arg_key, flags, partial: false }
    }

    /// The argument key of the arguments `{"k":n}`.
    fn key(n: u32) -> u128 {
        ids::arg_key(&format!("{{\"k\":{n}}}"))
    }

    fn indexed(id: u64, args: u32, seen_ms: i64) -> Indexed {
        Indexed { facts: facts_of(id, key(args), Flags::default()), count: 1, last_recorded_ms: seen_ms }
    }

    fn payload(id: u64) -> Arc<Cached> {
        Cached::new(OutcomeKind::Return, Payload::Json(id.to_string().into()), &Budget::new(1 << 20))
    }

    fn picks(index: &mut OutcomeIndex, arg_key: u128) -> Vec<u64> {
        index.build_sampler();
        (0..1000).filter_map(|i| index.pick(arg_key, f64::from(i) / 1000.0)).collect()
    }

    #[test]
    fn cache_replays_the_newest_outcome_of_the_arguments() {
        let mut index = OutcomeIndex::default();
        index.insert(indexed(1, 7, 100));
        index.insert(indexed(2, 7, 200));
        index.insert(indexed(3, 8, 300));
        assert_eq!(index.newest(key(7)).map(Entry::id), Some(2));
        assert_eq!(index.len(), 3);
        // Recording outcome 1 again makes it the newest.
        assert!(!index.record(indexed(1, 7, 0).facts, 400, payload(1)), "already recorded");
        assert_eq!(index.newest(key(7)).map(Entry::id), Some(1));
        assert_eq!(index.get(1, key(7)).map(Entry::count), Some(2));
        assert!(index.repeat(1, key(7), 500), "the newest, counted under a read lock");
        assert!(!index.repeat(2, key(7), 600), "not the newest: needs the write lock");
        index.remove(1, key(7));
        assert_eq!(index.newest(key(7)).map(Entry::id), Some(2));
        assert_eq!(index.newest(key(9)).map(Entry::id), None);
        index.remove_id(3);
        assert_eq!((index.len(), index.newest(key(8)).map(Entry::id)), (1, None));
    }

    #[test]
    fn mock_only_and_partial_outcomes_are_never_the_newest() {
        let mut index = OutcomeIndex::default();
        let mock_only = Flags { manual: true, mock_only: true };
        index.insert(Indexed { facts: facts_of(1, key(7), mock_only), count: 1, last_recorded_ms: 900 });
        let partial = Facts { partial: true, ..facts_of(2, key(7), Flags::default()) };
        index.insert(Indexed { facts: partial, count: 1, last_recorded_ms: 900 });
        assert!(index.newest(key(7)).is_none());
        assert!(index.get(1, key(7)).is_some() && index.get(2, key(7)).is_some());
        index.insert(indexed(3, 7, 1));
        assert_eq!(index.newest(key(7)).map(Entry::id), Some(3));
    }

    #[test]
    fn a_payload_is_kept_once_and_dropped_as_kept() {
        let mut index = OutcomeIndex::default();
        index.insert(indexed(1, 7, 100));
        let kept = payload(1);
        assert!(index.keep_payload(1, &kept));
        assert!(!index.keep_payload(1, &payload(1)), "one is kept already");
        index.drop_payload(1, &payload(1));
        assert!(index.payload(1).is_some(), "another payload does not drop the kept one");
        index.drop_payload(1, &kept);
        assert!(index.payload(1).is_none());
    }

    #[test]
    fn alias_tables_pick_in_proportion_to_weights() {
        let mut weighted = Weighted::default();
        for (id, weight) in [(1, 1.0), (2, 2.0), (3, 0.5), (4, 4.5)] {
            weighted.push(weight, id);
        }
        weighted.seal();
        let mut counts = [0usize; 5];
        for i in 0..8000 {
            let id = weighted.at(f64::from(i) / 8000.0).unwrap_or(0);
            counts[usize::try_from(id).unwrap_or(0)] += 1;
        }
        assert_eq!(counts, [0, 1000, 2000, 500, 4500]);
    }

    #[test]
    fn mock_weights_follow_counts_and_entries() {
        let mut index = OutcomeIndex::default();
        index.insert(indexed(1, 7, 1));
        index.insert(indexed(2, 8, 1));
        let even = picks(&mut index, key(7));
        assert_eq!(even.iter().filter(|&&id| id == 1).count(), 500);

        index.record(indexed(1, 7, 0).facts, 2, payload(1));
        index.record(indexed(1, 7, 0).facts, 3, payload(1));
        let by_count = picks(&mut index, key(7));
        assert_eq!(by_count.iter().filter(|&&id| id == 1).count(), 750);

        let mut entries = MockEntries::new();
        entries.insert(1, MockEntry { weight: 1.0, enabled: false, ignore_args: true });
        entries.insert(2, MockEntry { weight: 5.0, enabled: true, ignore_args: false });
        index.set_mock_entries(entries);
        // Outcome 2 is bound to its own arguments now, and outcome 1 is off.
        assert!(picks(&mut index, key(7)).is_empty());
        assert!(picks(&mut index, key(8)).iter().all(|&id| id == 2));

        // Once configured, an outcome without an entry no longer replays.
        index.insert(indexed(3, 7, 4));
        assert!(picks(&mut index, key(7)).is_empty());
    }
}
