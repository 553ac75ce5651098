//! The in-memory index of a function's outcomes: the newest outcome per
//! argument key for cache mode, and a weighted sampler for mock mode. Both
//! answer in time independent of the number of outcomes.

use std::sync::Arc;

use crate::model::ids::IdMap;
use crate::model::mock::{MockEntries, MockEntry};
use crate::model::outcome::{Outcome, OutcomeInfo, Replay};

#[derive(Default)]
pub(crate) struct OutcomeIndex {
    outcomes: IdMap<u64, Arc<Outcome>>,
    newest: IdMap<u128, Arc<Outcome>>,
    mock_entries: MockEntries,
    /// Built on the first mock call after a change.
    sampler: Option<Sampler>,
}

impl OutcomeIndex {
    /// The index of these outcomes, with the function's mock configuration.
    pub(crate) fn of(outcomes: impl IntoIterator<Item = Outcome>, mock_entries: MockEntries) -> OutcomeIndex {
        let mut index = OutcomeIndex::default();
        for outcome in outcomes {
            index.insert(Arc::new(outcome));
        }
        index.set_mock_entries(mock_entries);
        index
    }

    pub(crate) fn get(&self, id: u64) -> Option<&Arc<Outcome>> {
        self.outcomes.get(&id)
    }

    /// Adds an outcome, or counts one more call of it when it is there;
    /// `true` when it is new.
    pub(crate) fn record(&mut self, outcome: Arc<Outcome>, at_ms: i64) -> bool {
        if let Some(existing) = self.outcomes.get(&outcome.id).cloned() {
            existing.seen(at_ms);
            self.offer_newest(&existing);
            self.sampler = None;
            return false;
        }
        self.insert(outcome);
        true
    }

    /// Counts one more call of an outcome that is already the newest for its
    /// arguments; `false` when it is not (new, or older), which needs
    /// [`record`](Self::record). Under a read lock: the common repeat is cheap.
    pub(crate) fn repeat(&self, id: u64, at_ms: i64) -> bool {
        let Some(outcome) = self.outcomes.get(&id) else { return false };
        if !self.newest.get(&outcome.arg_key).is_some_and(|newest| Arc::ptr_eq(newest, outcome)) {
            return false;
        }
        // The sampler keeps the old count as the weight until it is rebuilt.
        outcome.seen(at_ms);
        true
    }

    pub(crate) fn remove(&mut self, id: u64) {
        self.remove_all(&[id]);
    }

    /// Removes outcomes; the newest of each of their arguments that is left
    /// takes their place, found in one pass over the rest, however many go.
    pub(crate) fn remove_all(&mut self, ids: &[u64]) {
        let mut orphaned: IdMap<u128, ()> = IdMap::default();
        for id in ids {
            let Some(removed) = self.outcomes.remove(id) else { continue };
            if self.newest.get(&removed.arg_key).is_some_and(|newest| newest.id == *id) {
                self.newest.remove(&removed.arg_key);
                orphaned.insert(removed.arg_key, ());
            }
        }
        if !orphaned.is_empty() {
            let successors: Vec<Arc<Outcome>> = self
                .outcomes
                .values()
                .filter(|outcome| orphaned.contains_key(&outcome.arg_key) && outcome.cacheable())
                .cloned()
                .collect();
            successors.iter().for_each(|successor| self.offer_newest(successor));
        }
        self.sampler = None;
    }

    /// Adds an outcome read from disk; one already known is kept.
    pub(crate) fn insert(&mut self, outcome: Arc<Outcome>) {
        if self.outcomes.contains_key(&outcome.id) {
            return;
        }
        self.offer_newest(&outcome);
        self.outcomes.insert(outcome.id, outcome);
        self.sampler = None;
    }

    fn offer_newest(&mut self, outcome: &Arc<Outcome>) {
        // A mock-only or partial outcome is never a cache hit.
        if !outcome.cacheable() {
            return;
        }
        let newer = match self.newest.get(&outcome.arg_key) {
            Some(current) => outcome.last_seen_ms() >= current.last_seen_ms(),
            None => true,
        };
        if newer {
            self.newest.insert(outcome.arg_key, Arc::clone(outcome));
        }
    }

    /// Cache mode: the newest outcome recorded for these arguments.
    pub(crate) fn newest(&self, arg_key: u128) -> Option<&Arc<Outcome>> {
        self.newest.get(&arg_key)
    }

    pub(crate) fn mock_entries(&self) -> &MockEntries {
        &self.mock_entries
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
            self.sampler = Some(Sampler::build(self.outcomes.values(), &self.mock_entries));
        }
    }

    /// Mock mode: an outcome for these arguments, chosen by `unit`, a number
    /// in `[0, 1)`. `None` until [`build_sampler`](Self::build_sampler) ran.
    pub(crate) fn pick(&self, arg_key: u128, unit: f64) -> Option<&Replay> {
        self.sampler.as_ref()?.pick(arg_key, unit)
    }

    /// The outcomes, oldest first.
    pub(crate) fn infos(&self) -> Vec<OutcomeInfo> {
        let mut outcomes: Vec<&Arc<Outcome>> = self.outcomes.values().collect();
        outcomes.sort_by_key(|outcome| (outcome.recorded_at_ms, outcome.id));
        outcomes.into_iter().map(|outcome| outcome.info()).collect()
    }
}

/// A weighted choice in constant time (Vose's alias method): one draw picks
/// a slot and, by its fraction, the slot's outcome or its alias.
#[derive(Default)]
struct Weighted {
    weights: Vec<f64>,
    /// What a replay needs of each outcome, so that a pick touches little memory.
    replays: Vec<Replay>,
    /// Per slot: the chance of keeping its own outcome, and its alias.
    slots: Vec<(f32, u32)>,
    total: f64,
}

impl Weighted {
    fn push(&mut self, weight: f64, outcome: &Outcome) {
        self.weights.push(weight);
        self.replays.push(outcome.replay());
    }

    fn seal(&mut self) {
        let weights = std::mem::take(&mut self.weights);
        let n = weights.len();
        self.total = weights.iter().sum();
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
    fn at(&self, unit: f64) -> Option<&Replay> {
        let x = unit * self.slots.len() as f64;
        let slot = (x as usize).min(self.slots.len().checked_sub(1)?);
        let (keep, alias) = self.slots[slot];
        let chosen = if x - (slot as f64) < f64::from(keep) { slot } else { alias as usize };
        self.replays.get(chosen)
    }
}

struct Sampler {
    /// Outcomes replayed for any arguments.
    any_args: Weighted,
    /// Outcomes replayed only for the arguments they were recorded with.
    by_args: IdMap<u128, Weighted>,
}

impl Sampler {
    fn build<'a>(outcomes: impl Iterator<Item = &'a Arc<Outcome>>, entries: &MockEntries) -> Sampler {
        // Sorted, so that a seeded choice is the same in every run.
        let mut outcomes: Vec<&Arc<Outcome>> = outcomes.collect();
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
                sampler.by_args.entry(outcome.arg_key).or_default()
            };
            list.push(entry.weight, outcome);
        }
        sampler.any_args.seal();
        sampler.by_args.values_mut().for_each(Weighted::seal);
        sampler
    }

    fn pick(&self, arg_key: u128, unit: f64) -> Option<&Replay> {
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
    use crate::model::outcome::{Flags, OutcomeKind, Payload, Recorded};
    use std::time::Duration;

    /// The argument key of the arguments `{"k":n}`.
    fn key(n: u32) -> u128 {
        ids::arg_key(&format!("{{\"k\":{n}}}"))
    }

    fn outcome(id: u64, args: u32, seen_ms: i64) -> Arc<Outcome> {
        let recorded = Recorded::new(OutcomeKind::Return, Payload::Json(id.to_string().into()));
        Arc::new(Outcome::new(id, format!("{{\"k\":{args}}}"), recorded, Flags::default(), seen_ms, Duration::ZERO))
    }

    fn picks(index: &mut OutcomeIndex, arg_key: u128) -> Vec<u64> {
        index.build_sampler();
        (0..1000).filter_map(|i| index.pick(arg_key, f64::from(i) / 1000.0).map(|o| o.id)).collect()
    }

    #[test]
    fn cache_replays_the_newest_outcome_of_the_arguments() {
        let mut index = OutcomeIndex::default();
        index.insert(outcome(1, 7, 100));
        index.insert(outcome(2, 7, 200));
        index.insert(outcome(3, 8, 300));
        assert_eq!(index.newest(key(7)).map(|o| o.id), Some(2));
        // Recording outcome 1 again makes it the newest.
        assert!(!index.record(outcome(1, 7, 400), 400), "already recorded");
        assert_eq!(index.newest(key(7)).map(|o| o.id), Some(1));
        assert!(index.repeat(1, 500), "the newest, counted under a read lock");
        assert!(!index.repeat(2, 600), "not the newest: needs the write lock");
        index.remove(1);
        assert_eq!(index.newest(key(7)).map(|o| o.id), Some(2));
        assert_eq!(index.newest(key(9)).map(|o| o.id), None);
    }

    #[test]
    fn alias_tables_pick_in_proportion_to_weights() {
        let mut weighted = Weighted::default();
        for (id, weight) in [(1, 1.0), (2, 2.0), (3, 0.5), (4, 4.5)] {
            weighted.push(weight, &outcome(id, 0, 0));
        }
        weighted.seal();
        let mut counts = [0usize; 5];
        for i in 0..8000 {
            let id = weighted.at(f64::from(i) / 8000.0).map_or(0, |o| o.id);
            counts[usize::try_from(id).unwrap_or(0)] += 1;
        }
        assert_eq!(counts, [0, 1000, 2000, 500, 4500]);
    }

    #[test]
    fn mock_weights_follow_counts_and_entries() {
        let mut index = OutcomeIndex::default();
        index.insert(outcome(1, 7, 1));
        index.insert(outcome(2, 8, 1));
        let even = picks(&mut index, key(7));
        assert_eq!(even.iter().filter(|&&id| id == 1).count(), 500);

        index.record(outcome(1, 7, 2), 2);
        index.record(outcome(1, 7, 3), 3);
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
        index.insert(outcome(3, 7, 4));
        assert!(picks(&mut index, key(7)).is_empty());
    }
}
