//! A function's runtime state in this process: mode, latency and outcome
//! index, served from memory and kept in step with the database.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use crate::model::args::Args;
use crate::model::event::CallEvent;
use crate::model::mock::MockEntries;
use crate::model::mode::Mode;
use crate::model::outcome::{Flags, Indexed, Outcome, Recorded};
use crate::model::policy::{Age, OnChange};
use crate::model::redact::Redaction;
use crate::model::report::warn_once;
use crate::model::status::CallStatus;
use crate::model::time::from_millis;
use crate::runtime::call_log::CallLog;
use crate::runtime::in_flight::InFlight;
use crate::runtime::index::OutcomeIndex;
use crate::runtime::payloads::{Budget, Cached, Replay};
use crate::store::files::{self, CorruptFile};
use crate::store::functions::Control;
use crate::store::shared::{Push, Pushed, Shared};
use crate::store::writer::{NewOutcome, Writer};

pub(crate) struct FunctionState {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    mode: AtomicU8,
    latency_nanos: AtomicU64,
    /// The database's generation of the outcomes this index was loaded from.
    generation: AtomicI64,
    index: RwLock<OutcomeIndex>,
    /// Seeded from `CACHEOW_SEED`: mock choices are reproducible.
    seeded_rng: Option<Mutex<SmallRng>>,
    /// Calls not yet written to the database.
    pub(crate) calls: CallLog,
    /// Its cache-mode calls running now, by argument key.
    in_flight: Arc<InFlight>,
    /// Mock mode asked the shared tier for every outcome: it asks once.
    pulled_all: AtomicBool,
    /// Whether some outcome was recorded by another body: the hit path
    /// looks no further when not.
    drifted: AtomicBool,
    /// `on_change = "warn"` warned already: later hits skip the warning.
    warned_change: AtomicBool,
    keeping: Keeping,
}

/// Where a function's state sends what it records, and finds payloads.
pub(crate) struct Keeping {
    /// `None` when the data dir could not be opened: then everything stays
    /// in memory.
    pub(crate) writer: Option<Writer>,
    /// The folder of the function's outcome files, in the data dir.
    pub(crate) outcomes_dir: Option<PathBuf>,
    pub(crate) budget: Arc<Budget>,
    pub(crate) seed: Option<u64>,
    /// `#[cacheow(redact(...))]`: the value fields kept off the disk.
    pub(crate) redaction: Option<Redaction>,
    /// The shared tier, unless the function is `shared = false`.
    pub(crate) sharing: Option<Sharing>,
    /// The function's body hash: each outcome it records carries it.
    pub(crate) body_hash: &'static str,
    /// What cache mode does with an outcome of another body.
    pub(crate) on_change: OnChange,
}

/// How a function's outcomes go to the shared tier.
pub(crate) struct Sharing {
    pub(crate) tier: Arc<Shared>,
    pub(crate) ttl: Option<Duration>,
    pub(crate) tags: &'static [&'static str],
}

impl FunctionState {
    pub(crate) fn new(
        id: &'static str,
        name: &'static str,
        control: Control,
        index: OutcomeIndex,
        keeping: Keeping,
    ) -> FunctionState {
        let state = FunctionState {
            id,
            name,
            mode: AtomicU8::new(0),
            latency_nanos: AtomicU64::new(0),
            generation: AtomicI64::new(control.generation),
            index: RwLock::new(index),
            seeded_rng: keeping.seed.map(|seed| {
                let per_function = seed ^ xxhash_rust::xxh3::xxh3_64(id.as_bytes());
                Mutex::new(SmallRng::seed_from_u64(per_function))
            }),
            calls: CallLog::new(),
            in_flight: Arc::default(),
            pulled_all: AtomicBool::new(false),
            drifted: AtomicBool::new(false),
            warned_change: AtomicBool::new(false),
            keeping,
        };
        state.drifted.store(state.index().has_other_bodies(), Ordering::Relaxed);
        state.apply(control);
        state
    }

    pub(crate) fn mode(&self) -> Mode {
        Mode::from_u8(self.mode.load(Ordering::Relaxed))
    }

    pub(crate) fn latency(&self) -> Duration {
        Duration::from_nanos(self.latency_nanos.load(Ordering::Relaxed))
    }

    pub(crate) fn set_mode(&self, mode: Mode) {
        self.mode.store(mode.to_u8(), Ordering::Relaxed);
    }

    pub(crate) fn set_latency(&self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.latency_nanos.store(nanos, Ordering::Relaxed);
    }

    /// Takes the mode and latency the database holds.
    pub(crate) fn apply(&self, control: Control) {
        self.set_mode(control.mode);
        self.set_latency(control.latency);
    }

    pub(crate) fn generation(&self) -> i64 {
        self.generation.load(Ordering::Relaxed)
    }

    /// Changes the index in place, to match `generation` of the database.
    pub(crate) fn change_index(&self, generation: i64, change: impl FnOnce(&mut OutcomeIndex)) {
        let mut index = self.index_mut();
        change(&mut index);
        self.drifted.store(index.has_other_bodies(), Ordering::Relaxed);
        drop(index);
        self.generation.store(generation, Ordering::Relaxed);
    }

    /// Swaps in an index reloaded from disk at `generation`.
    pub(crate) fn reload(&self, index: OutcomeIndex, generation: i64) {
        // The old index, its payloads with it, is dropped once unlocked.
        self.drifted.store(index.has_other_bodies(), Ordering::Relaxed);
        let old = std::mem::replace(&mut *self.index_mut(), index);
        self.generation.store(generation, Ordering::Relaxed);
        drop(old);
    }

    pub(crate) fn index(&self) -> RwLockReadGuard<'_, OutcomeIndex> {
        self.index.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn index_mut(&self) -> RwLockWriteGuard<'_, OutcomeIndex> {
        self.index.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Cache mode: the newest outcome recorded for these arguments, its
    /// payload from memory, or from its file at its first replay. With a
    /// `max_age`, none if it was last recorded longer ago: its payload is
    /// not read then.
    pub(crate) fn cached(&self, arg_key: u128, max_age: Option<Duration>) -> Option<Replay> {
        let oldest_ms = max_age
            .map(|max_age| self.calls.now_ms().saturating_sub(i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX)));
        let (id, recorded_ms, in_memory) = {
            let index = self.index();
            let entry = index.newest(arg_key)?;
            if oldest_ms.is_some_and(|oldest_ms| entry.last_recorded_ms() < oldest_ms) {
                return None;
            }
            (entry.id(), entry.last_recorded_ms(), index.payload(entry.id()).cloned())
        };
        self.replay_of(id, in_memory, Some(arg_key)).map(|replay| replay.recorded_at(recorded_ms))
    }

    /// How old a cache-mode replay is, now.
    pub(crate) fn age(&self, replay: &Replay, max_age: Option<Duration>) -> Age {
        let age_ms = self.calls.now_ms().saturating_sub(replay.recorded_ms).max(0);
        Age {
            recorded_at: from_millis(replay.recorded_ms),
            age: Duration::from_millis(u64::try_from(age_ms).unwrap_or(0)),
            max_age,
        }
    }

    /// Its cache-mode calls running now.
    pub(crate) fn in_flight(&self) -> &Arc<InFlight> {
        &self.in_flight
    }

    /// The folder of its outcome files, when it has a data dir.
    pub(crate) fn outcomes_dir(&self) -> Option<&PathBuf> {
        self.keeping.outcomes_dir.as_ref()
    }

    /// Waits until what it recorded so far is in the database; a failure
    /// was warned about where it happened.
    pub(crate) fn flush_writes(&self) {
        if let Some(writer) = &self.keeping.writer {
            let _ = writer.flush(false, Duration::from_secs(10));
        }
    }

    /// Mock mode: a weighted random outcome for these arguments.
    pub(crate) fn mock(&self, args: &Args) -> Option<Replay> {
        let unit = match &self.seeded_rng {
            Some(rng) => rng.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).random::<f64>(),
            None => random_unit(),
        };
        let picked = {
            let index = self.index();
            if index.has_sampler() {
                Some(index.pick(args.key, unit).map(|id| (id, index.payload(id).cloned())))
            } else {
                None
            }
        };
        let (id, in_memory) = match picked {
            Some(picked) => picked?,
            None => {
                let mut index = self.index_mut();
                index.build_sampler();
                let id = index.pick(args.key, unit)?;
                (id, index.payload(id).cloned())
            }
        };
        self.replay_of(id, in_memory, None)
    }

    /// The replay of the outcome `id`, from its payload in memory, or read
    /// from its file.
    fn replay_of(&self, id: u64, in_memory: Option<Arc<Cached>>, arg_key: Option<u128>) -> Option<Replay> {
        match in_memory {
            Some(cached) => {
                cached.note_replay();
                Some(Replay { id, arg_key, cached, recorded_ms: 0 })
            }
            None => self.read_payload(id, arg_key),
        }
    }

    /// Reads an outcome's payload from its file, with one read, and keeps
    /// it in memory within the budget. An outcome whose file is gone, no
    /// longer reads, or was edited in place to other arguments (`arg_key`
    /// is what the index says it answers) is dropped from the index, with a
    /// warning: the call then looks for another.
    fn read_payload(&self, id: u64, arg_key: Option<u128>) -> Option<Replay> {
        let dir = self.keeping.outcomes_dir.as_ref()?;
        let path = files::outcome_path_in(dir, id);
        let read = files::read_outcome(&path, id).and_then(|outcome| match arg_key {
            Some(key) if outcome.arg_key != key => Err(format!(
                "its arguments were edited in place to {} since it was indexed: run `cacheow rebuild-index` to index \
                 it under them",
                outcome.args
            )),
            _ => Ok(outcome),
        });
        let outcome = match read {
            Ok(outcome) => outcome,
            Err(error) => {
                files::warn_corrupt(self.name, &[CorruptFile { path, error }]);
                self.discard(id, arg_key);
                return None;
            }
        };
        let cached = Cached::new(outcome.kind(), outcome.recorded.payload, &self.keeping.budget);
        let kept = self.index_mut().keep_payload(id, &cached);
        if kept {
            self.keeping.budget.admit(self.id, [(id, Arc::clone(&cached))]);
        }
        Some(Replay { id, arg_key, cached, recorded_ms: 0 })
    }

    /// Records what a call of the function gave.
    pub(crate) fn record(
        &self,
        args: &Args,
        recorded: Recorded,
        started: Instant,
        duration: Duration,
        event: CallEvent,
    ) {
        let at_ms = self.calls.millis_at(started);
        let recorded = match &self.keeping.redaction {
            Some(redaction) => Recorded { payload: redaction.payload(&recorded.payload), ..recorded },
            None => recorded,
        };
        let id = Outcome::id_of(&args.text, &recorded, Flags::default());
        self.calls.log(event, CallStatus::of_record(event), duration, args.key, Some((id, recorded.kind)));
        let again = Pushed::Again { id, arg_key: args.key, at_ms };
        let outcome = |recorded| {
            Outcome::new(id, args.text.as_str(), recorded, Flags::default(), at_ms, duration)
                .keyed(args.key_text.clone())
                .by_body(Some(self.keeping.body_hash.into()))
        };
        // Recorded again, and still the newest for its arguments: a count.
        if self.index().repeat(id, args.key, at_ms) {
            if self.drifted() && self.index_mut().recorded_by_this_body(id) {
                // Of another body until now: its file and row, and the
                // team's copy in the shared tier, say this one.
                let outcome = Arc::new(outcome(recorded));
                self.write(Arc::clone(&outcome));
                return self.share(Pushed::Outcome(outcome));
            }
            self.calls.repeat(id, at_ms);
            return self.share(again);
        }
        let outcome = Arc::new(outcome(recorded));
        let payload = Cached::pinned(outcome.kind(), outcome.payload().clone(), &self.keeping.budget);
        let new = self.index_mut().record(outcome.facts(), at_ms, payload);
        if !new {
            self.calls.repeat(id, at_ms);
            return self.share(again);
        }
        self.share(Pushed::Outcome(Arc::clone(&outcome)));
        // Sent once the index lock is released: the writer's queue may be
        // full. A repeat another thread logs before this reaches the writer
        // waits there for the outcome's row.
        self.write(outcome);
    }

    /// The function's body hash.
    pub(crate) fn body_hash(&self) -> &'static str {
        self.keeping.body_hash
    }

    /// Whether another body of the function recorded some outcome.
    fn drifted(&self) -> bool {
        self.drifted.load(Ordering::Relaxed)
    }

    /// Whether a cache-mode replay of `replayed` is a miss instead, by the
    /// function's `on_change`: when another body recorded it, and the
    /// function records again. Else it replays, warned of once with `warn`.
    pub(crate) fn records_again(&self, replayed: &Replay) -> bool {
        if !self.drifted() || !self.index().by_other_body(replayed.id) {
            return false;
        }
        match self.keeping.on_change {
            OnChange::Rerecord => true,
            OnChange::Ignore => false,
            OnChange::Warn if self.warned_change.swap(true, Ordering::Relaxed) => false,
            OnChange::Warn => {
                warn_once(
                    format!("body-changed:{}", self.id),
                    format_args!(
                        "cacheow replays outcomes of `{}` that another body of it recorded: its code changed since. \
                         `cacheow invalidate {}` drops them, or #[cacheow(on_change = \"rerecord\")] records them \
                         again as they are asked for",
                        self.name, self.id
                    ),
                );
                false
            }
        }
    }

    /// Writes an outcome's file and row, through the data dir's writer.
    fn write(&self, outcome: Arc<Outcome>) {
        if let Some(writer) = &self.keeping.writer {
            writer.record(NewOutcome { function_id: self.id, function_name: self.name, outcome });
        }
    }

    /// Sends what a call recorded to the shared tier, if the function is shared.
    fn share(&self, what: Pushed) {
        if let Some(Sharing { tier, ttl, tags }) = &self.keeping.sharing {
            let body_hash = self.keeping.body_hash;
            let (function_id, function_name) = (self.id, self.name);
            tier.push(Push { function_id, function_name, tags, ttl: *ttl, body_hash, what });
        }
    }

    /// Whether mock mode has yet to ask the shared tier for every outcome:
    /// `true` once.
    pub(crate) fn first_pull_of_all(&self) -> bool {
        !self.pulled_all.swap(true, Ordering::Relaxed)
    }

    /// The shared tier, if the function is shared.
    pub(crate) fn shared(&self) -> Option<&Arc<Shared>> {
        self.keeping.sharing.as_ref().map(|sharing| &sharing.tier)
    }

    /// The replay of an outcome pulled from the shared tier, before it is
    /// kept; `None` when it was last recorded longer ago than `max_age`.
    pub(crate) fn replay_pulled(&self, outcome: &Outcome, max_age: Option<Duration>) -> Option<Replay> {
        let recorded_ms = outcome.last_recorded_ms();
        let age_ms = self.calls.now_ms().saturating_sub(recorded_ms);
        if max_age.is_some_and(|max_age| u128::try_from(age_ms).unwrap_or(0) > max_age.as_millis()) {
            return None;
        }
        let cached = Cached::new(outcome.kind(), outcome.payload().clone(), &self.keeping.budget);
        Some(Replay { id: outcome.id, arg_key: Some(outcome.arg_key), cached, recorded_ms })
    }

    /// Keeps outcomes pulled from the shared tier, as recorded at their
    /// origin: their age is the one they have there, and so is the body
    /// that recorded them, which cache mode judges by `on_change`. They are
    /// never pushed back.
    pub(crate) fn keep_pulled(&self, pulled: Vec<Outcome>) {
        for outcome in pulled {
            let at_ms = outcome.last_recorded_ms();
            let outcome = Arc::new(outcome);
            let payload = Cached::pinned(outcome.kind(), outcome.payload().clone(), &self.keeping.budget);
            let by_other_body = self.is_other_body(outcome.body_hash.as_deref());
            let new = {
                let mut index = self.index_mut();
                // A pull is no recording: one known here already counts nothing.
                let new = index.add(outcome.facts(), at_ms, payload);
                if new && by_other_body {
                    self.note_other_body(&mut index, outcome.id);
                }
                new
            };
            // Sent once the index lock is released: the writer's queue may be full.
            if new {
                self.write(outcome);
            }
        }
    }

    /// Takes in an outcome another process recorded, by the body of hash
    /// `body_hash`.
    pub(crate) fn take_in(&self, indexed: Indexed, body_hash: Option<&str>) {
        let (id, by_other_body) = (indexed.facts.id, self.is_other_body(body_hash));
        let mut index = self.index_mut();
        if index.insert(indexed) && by_other_body {
            self.note_other_body(&mut index, id);
        }
    }

    /// Whether `body_hash`, the hash an outcome says recorded it, is of
    /// another body than this one: an outcome of no known body (uploaded by
    /// `cacheow push`, or written by an older cacheow) is not.
    fn is_other_body(&self, body_hash: Option<&str>) -> bool {
        let this = self.keeping.body_hash;
        !this.is_empty() && body_hash.is_some_and(|recorded| recorded != this)
    }

    fn note_other_body(&self, index: &mut OutcomeIndex, id: u64) {
        index.add_other_body(id);
        self.drifted.store(true, Ordering::Relaxed);
    }

    /// The outcomes are in their files: their payloads may leave memory.
    pub(crate) fn written(&self, ids: &[u64]) {
        let unpinned: Vec<(u64, Arc<Cached>)> = {
            let index = self.index();
            ids.iter()
                .filter_map(|id| index.payload(*id).filter(|cached| cached.unpin()).map(|c| (*id, Arc::clone(c))))
                .collect()
        };
        self.keeping.budget.admit(self.id, unpinned);
    }

    /// Takes the mock configuration the database holds, if it changed.
    pub(crate) fn set_mock_entries(&self, entries: MockEntries) {
        if self.index().mock_entries() != &entries {
            self.index_mut().set_mock_entries(entries);
        }
    }

    /// Drops an outcome that no longer replays (its file is gone, or it no
    /// longer decodes into the function's type), so that it is not chosen
    /// again and recording it writes its file anew. `arg_key`, when known,
    /// finds it at once.
    pub(crate) fn discard(&self, id: u64, arg_key: Option<u128>) {
        let mut index = self.index_mut();
        match arg_key {
            Some(arg_key) => index.remove(id, arg_key),
            None => index.remove_id(id),
        }
    }

    /// Logs a call that recorded nothing: a replay, or a value that could
    /// not be encoded.
    pub(crate) fn log_call(
        &self,
        event: CallEvent,
        status: CallStatus,
        args: &Args,
        replayed: Option<&Replay>,
        duration: Duration,
    ) {
        self.calls.log(event, status, duration, args.key, replayed.map(|replay| (replay.id, replay.kind())));
    }
}

/// A random number in `[0, 1)`, from this thread's generator, or a shared
/// one once the thread is ending and its own is gone: a mock call made from
/// a thread-local's destructor still picks.
fn random_unit() -> f64 {
    thread_local! {
        static RNG: std::cell::RefCell<SmallRng> = std::cell::RefCell::new(SmallRng::seed_from_u64(fresh_seed()));
    }
    static SHARED: Mutex<Option<SmallRng>> = Mutex::new(None);
    RNG.try_with(|rng| rng.borrow_mut().random::<f64>()).unwrap_or_else(|_| {
        let mut shared = SHARED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        shared.get_or_insert_with(|| SmallRng::seed_from_u64(fresh_seed())).random::<f64>()
    })
}

/// A seed that differs from thread to thread and run to run, made without
/// another thread-local (the operating system's generator's may be gone).
fn fresh_seed() -> u64 {
    static THREADS: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_nanos());
    xxhash_rust::xxh3::xxh3_64(
        &[nanos.to_le_bytes(), u128::from(THREADS.fetch_add(1, Ordering::Relaxed)).to_le_bytes()].concat(),
    )
}

/// A function's state, as a call holds it: borrowed from its handle, for
/// the process-wide runtime, or shared with a runtime bound to the thread.
/// The common case costs no reference count.
#[derive(Clone)]
pub(crate) enum StateRef {
    Static(&'static FunctionState),
    Shared(Arc<FunctionState>),
}

impl std::ops::Deref for StateRef {
    type Target = FunctionState;

    fn deref(&self) -> &FunctionState {
        match self {
            StateRef::Static(state) => state,
            StateRef::Shared(state) => state,
        }
    }
}
