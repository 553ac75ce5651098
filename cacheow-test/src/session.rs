//! A test while it runs: answers its decorated calls from its fixtures,
//! records what they lack, and writes them when the test passes.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use cacheow::__private::scope::{Decision, FixtureOutcome, Hook, Recorded, Running};
use cacheow::{Function, Mode};

use crate::Record;
use crate::fixtures::{Fixtures, function_dir_name};
use crate::redact::Redaction;
use crate::snapshot::Entry;

/// A running test.
pub(crate) struct Session {
    /// `crate::module::test`.
    pub(crate) test: String,
    pub(crate) dir: PathBuf,
    pub(crate) record: Record,
    /// Why the record mode is what it is, for error messages.
    pub(crate) record_reason: &'static str,
    pub(crate) pins: HashMap<&'static str, Mode>,
    pub(crate) save_on_failure: bool,
    state: Mutex<State>,
    _running: Running,
}

#[derive(Default)]
struct State {
    /// What replays come from; in `once` mode, what is written when the
    /// test passes.
    fixtures: Fixtures,
    /// What this run replayed or recorded: in `all` mode, what is written.
    this_run: Fixtures,
    redaction: Redaction,
    /// (function id, arguments) → the number of the next call.
    calls: HashMap<(&'static str, String), u32>,
    /// Calls that run and are to be recorded, by function and arguments,
    /// in the order they were decided.
    pending: HashMap<(&'static str, String), VecDeque<u32>>,
    /// Whether this run recorded anything.
    recorded: bool,
    /// Fixture files this run replayed.
    used: HashSet<PathBuf>,
    /// Every call, for snapshots.
    log: Vec<Entry>,
}

impl Session {
    pub(crate) fn new(
        test: String,
        dir: PathBuf,
        record: (Record, &'static str),
        pins: HashMap<&'static str, Mode>,
        redaction: Redaction,
        save_on_failure: bool,
    ) -> Session {
        let fixtures = Fixtures::load(&dir).unwrap_or_else(|error| panic!("cacheow-test: {error}"));
        let state = State { fixtures, redaction, ..State::default() };
        Session {
            test,
            dir,
            record: record.0,
            record_reason: record.1,
            pins,
            save_on_failure,
            state: Mutex::new(state),
            _running: Running::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn redact_value(&self, secret: String) {
        self.state().redaction.add_value(secret);
    }

    pub(crate) fn log(&self) -> Vec<Entry> {
        self.state().log.clone()
    }

    /// Ends the test: writes what it recorded if it passed (or if asked to
    /// save anyway), and notes the fixtures it used when asked to.
    pub(crate) fn finish(&self, passed: bool) {
        let state = self.state();
        let save = passed || self.save_on_failure;
        let written = match self.record {
            Record::Once if save && state.recorded => state.fixtures.write(&self.dir, false),
            // The fixtures become what this run used, nothing else.
            Record::All if save => state.this_run.write(&self.dir, true),
            _ => Ok(Vec::new()),
        };
        let written = written.unwrap_or_else(|error| {
            panic!("cacheow-test: cannot write the fixtures of `{}` in {}: {error}", self.test, self.dir.display())
        });
        let used: Vec<PathBuf> = state.used.iter().cloned().chain(written).collect();
        crate::used::note(&self.dir, &used);
    }

    fn missing(&self, function: &Function, args: &str, call: u32) -> String {
        let dir = self.dir.join(function_dir_name(function.name(), function.id()));
        let test = self.test.rsplit("::").next().unwrap_or(&self.test);
        format!(
            "cacheow-test: no recorded outcome for call {n} of `{name}` with the arguments {args} in the fixtures of \
             `{test_path}` ({dir}). The record mode is `none` ({reason}), so nothing is called. Record it on a \
             machine that can reach what `{name}` calls: CACHEOW_RECORD=once cargo test {test}, then commit the \
             fixtures",
            n = call + 1,
            name = function.name(),
            test_path = self.test,
            dir = dir.display(),
            reason = self.record_reason,
        )
    }
}

impl State {
    /// The number of this call among the test's calls with these arguments.
    fn next_call(&mut self, function_id: &'static str, args: &str) -> u32 {
        let counter = self.calls.entry((function_id, args.to_owned())).or_insert(0);
        *counter += 1;
        *counter - 1
    }
}

impl Hook for Session {
    fn decide(&self, function: &'static Function, args: &str) -> Decision {
        let mut state = self.state();
        let args = state.redaction.json(args);
        let call = state.next_call(function.id(), &args);
        let pin = self.pins.get(function.id()).copied();
        let replay = match pin {
            Some(Mode::Mock) => state.fixtures.any(function.id(), &args, call),
            Some(Mode::Default) => None,
            _ if self.record == Record::All && pin.is_none() => None,
            _ => state.fixtures.find(function.id(), &args, call),
        }
        .cloned();
        if let Some(fixture) = replay {
            let file = self
                .dir
                .join(function_dir_name(&fixture.function, &fixture.function_id))
                .join(format!("{}.json", fixture.id()));
            state.used.insert(file);
            state.log.push(Entry::new(function, &args, &fixture.outcome, Duration::ZERO));
            state.this_run.add(fixture.clone(), call);
            return Decision::Replay(fixture.outcome);
        }
        if pin == Some(Mode::Mock) {
            return Decision::Fail(format!(
                "cacheow-test: `{}` is pinned to mock mode in `{}`, which never calls it, but its fixtures hold no \
                 outcome of it. Record one: run the test once without the pin, with CACHEOW_RECORD=once",
                function.name(),
                self.test
            ));
        }
        if self.record == Record::None && pin != Some(Mode::Default) {
            return Decision::Fail(self.missing(function, &args, call));
        }
        let record = self.record != Record::None;
        if record {
            state.pending.entry((function.id(), args)).or_default().push_back(call);
        }
        Decision::Call { record }
    }

    fn record(&self, function: &'static Function, args: &str, outcome: Recorded, duration: Duration) {
        let mut state = self.state();
        let args = state.redaction.json(args);
        let Some(call) = state.pending.get_mut(&(function.id(), args.clone())).and_then(VecDeque::pop_front) else {
            return;
        };
        let outcome = Recorded { payload: state.redaction.payload(&outcome.payload), ..outcome };
        state.log.push(Entry::new(function, &args, &outcome, duration));
        let fixture = FixtureOutcome {
            function: function.name().to_owned(),
            function_id: function.id().to_owned(),
            args,
            outcome,
            calls: Vec::new(),
        };
        state.fixtures.add(fixture.clone(), call);
        state.this_run.add(fixture, call);
        state.recorded = true;
    }
}
