//! A test while it runs: answers its decorated calls from its fixtures,
//! records what they lack, and writes them when the test passes.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use cacheow::__harness::{
    Decision, FixtureOutcome, Hook, Recorded, Running, body_hash, function_dir_name, is_sequence, redacted_fields,
    registered, verifies_exactly,
};
use cacheow::{Function, Mode};

use crate::Record;
use crate::fixtures::{Fixtures, Nearest};
use crate::snapshot::Entry;
use crate::verify;
use cacheow::__harness::{Redaction, json_diff};

/// A running test.
pub(crate) struct Session {
    /// `crate::module::test`.
    pub(crate) test: String,
    pub(crate) dir: PathBuf,
    pub(crate) record: Record,
    /// Why the record mode is what it is, for error messages.
    record_reason: &'static str,
    pins: HashMap<&'static str, Mode>,
    save_on_failure: bool,
    /// Whether the test fails when it leaves recorded calls unplayed.
    strict: bool,
    state: Mutex<State>,
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
    /// Calls running, to record when they end, by ticket.
    pending: HashMap<u64, Pending>,
    next_ticket: u64,
    /// Whether this run changed the fixtures: recorded an outcome, or made
    /// one at the top level that only nested calls had made.
    changed: bool,
    /// Fixture files this run replayed.
    used: HashSet<PathBuf>,
    /// Every call a replay would make too, for snapshots: redacted when a
    /// snapshot is taken, with every secret known by then.
    log: Vec<(&'static Function, String, Recorded, Duration)>,
    /// The test counts as running until it ends.
    running: Option<Running>,
    /// Why a call of the test failed for its fixtures, if one did.
    fixture_failure: Option<String>,
    /// In `stale` mode, whether each function called has its calls
    /// recorded again: decided at its first call, for the whole test.
    stale_functions: HashMap<&'static str, bool>,
}

impl State {
    fn ticket(&mut self) -> u64 {
        self.next_ticket += 1;
        self.next_ticket - 1
    }

    /// Whether a `stale` run records the calls of `function` again: when
    /// another body recorded some of its fixtures as the test started.
    fn records_again(&mut self, function: &'static Function) -> bool {
        let fixtures = &self.fixtures;
        *self
            .stale_functions
            .entry(function.id())
            .or_insert_with(|| fixtures.is_stale_function(function.id(), body_hash(function)))
    }
}

struct Pending {
    function: &'static Function,
    /// Redacted when the call was decided.
    args: String,
    call: u32,
    /// Whether the call shows in snapshots: it would be made when replaying.
    logged: bool,
    /// In a verify run, the recorded outcome the call is compared with,
    /// and its file.
    verifying: Option<(Recorded, PathBuf)>,
}

impl Session {
    pub(crate) fn new(
        test: String,
        dir: PathBuf,
        record: (Record, &'static str),
        pins: HashMap<&'static str, Mode>,
        redaction: Redaction,
        save_on_failure: bool,
        strict: bool,
    ) -> Session {
        let fixtures = Fixtures::load(&dir).unwrap_or_else(|error| panic!("cacheow-test: {error}"));
        let state = State { fixtures, redaction, running: Some(Running::new()), ..State::default() };
        Session {
            test,
            dir,
            record: record.0,
            record_reason: record.1,
            pins,
            save_on_failure,
            strict,
            state: Mutex::new(state),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn redact_value(&self, secret: String) {
        self.state().redaction.add_value(secret);
    }

    /// Why a call of the test failed for its fixtures, if one did.
    pub(crate) fn fixture_failure(&self) -> Option<String> {
        self.state().fixture_failure.clone()
    }

    pub(crate) fn log(&self) -> Vec<Entry> {
        let state = self.state();
        let redaction = &state.redaction;
        state
            .log
            .iter()
            .map(|(function, args, outcome, duration)| {
                let outcome = Recorded { payload: redaction.payload(&outcome.payload), ..outcome.clone() };
                Entry::new(function, &redaction.json(args), &outcome, *duration)
            })
            .collect()
    }

    /// Ends a test that ran to its end, as [`finish`](Self::finish) does;
    /// a strict test that passed but left recorded calls unplayed fails
    /// then, naming them, and saves nothing (unless `save_on_failure`).
    pub(crate) fn end(&self, passed: bool) {
        let unplayed = if passed { self.unplayed() } else { None };
        self.finish(passed && unplayed.is_none());
        if let Some(message) = unplayed {
            panic!("{message}");
        }
    }

    /// Ends the test: writes what it recorded if it passed (or if asked to
    /// save anyway), and notes the fixtures it used when asked to. The
    /// files are written once the test's lock is released.
    pub(crate) fn finish(&self, passed: bool) {
        let (to_write, used) = {
            let mut state = self.state();
            // A thread or task the test left behind no longer holds tests up.
            state.running = None;
            (self.to_write(&mut state, passed || self.save_on_failure), state.used.clone())
        };
        let written = match &to_write {
            Some((fixtures, Record::All)) => fixtures.write(&self.dir, true),
            // What changed waits for `cacheow fixtures review`.
            Some((fixtures, Record::Review)) => fixtures.write_pending(&self.dir),
            Some((fixtures, _)) => fixtures.write(&self.dir, false),
            None => Ok(Vec::new()),
        };
        let written = written.unwrap_or_else(|error| {
            panic!("cacheow-test: cannot write the fixtures of `{}` in {}: {error}", self.test, self.dir.display())
        });
        if !crate::used::wanted() {
            return;
        }
        let noted = {
            let state = self.state();
            let fixtures = to_write.as_ref().map_or(&state.fixtures, |(fixtures, _)| fixtures);
            self.noted(fixtures, &state.redaction)
        };
        let used: Vec<PathBuf> = used.into_iter().chain(written).collect();
        crate::used::note(&self.dir, &used, &noted);
    }

    /// What the test writes, in which record mode: its fixtures with what
    /// it recorded (`once`, `stale`), or what this run used (`all`,
    /// `review`); nothing when it replays only, or must not save.
    fn to_write(&self, state: &mut State, save: bool) -> Option<(Fixtures, Record)> {
        // Secrets the test learnt after a call was recorded
        // (`redact_value` of what `login()` returned) are redacted now.
        let redaction = state.redaction.clone();
        state.fixtures.redact(&redaction);
        state.this_run.redact(&redaction);
        if !save {
            return None;
        }
        match self.record {
            Record::Once if state.changed => Some((state.fixtures.clone(), self.record)),
            Record::Stale if state.changed => {
                // What the new body no longer gives goes.
                let again: Vec<&str> =
                    state.stale_functions.iter().filter(|(_, again)| **again).map(|(id, _)| *id).collect();
                let mut fixtures = state.fixtures.clone();
                again.into_iter().for_each(|function_id| fixtures.keep_only(function_id, &state.this_run));
                Some((fixtures, self.record))
            }
            Record::All | Record::Review => Some((state.this_run.clone(), self.record)),
            _ => None,
        }
    }

    /// A call, as a verify report names it.
    fn verify_call(&self, function: &Function, args: &str, call: u32) -> verify::Call {
        let (test, function) = (self.test.clone(), function.name().to_owned());
        verify::Call { test, function, args: serde_json::from_str(args).unwrap_or_default(), call }
    }

    /// The test's path within its crate, as `cargo test` filters by it.
    fn filter(&self) -> &str {
        self.test.split_once("::").map_or(self.test.as_str(), |(_, path)| path)
    }

    fn missing(&self, fixtures: &Fixtures, function: &Function, args: &str, call: u32) -> String {
        let dir = self.dir.join(function_dir_name(function.name(), function.id()));
        let filter = self.filter();
        format!(
            "cacheow-test: no recorded outcome for call {call} of `{name}` with the arguments {args} in the fixtures \
             of `{test}` ({dir}); calls are numbered from 0, as the fixtures' `calls` list them. {nearest}The \
             record mode is `{mode}` ({reason}), {so}. Record it on a machine that can reach what `{name}` calls: \
             CACHEOW_RECORD=once cargo test {filter}, then commit the fixtures",
            so = match self.record {
                Record::Verify => "which calls for real only what the fixtures hold",
                Record::Stale => "which records again only the functions another body recorded",
                _ => "so nothing is called",
            },
            name = function.name(),
            test = self.test,
            dir = dir.display(),
            nearest = self.nearest(fixtures, function, args),
            mode = self.record,
            reason = self.record_reason,
        )
    }

    /// What a miss message says of the fixtures the call did not find.
    fn nearest(&self, fixtures: &Fixtures, function: &Function, args: &str) -> String {
        match fixtures.nearest(function.id(), args) {
            Nearest::Nothing => format!("They hold no outcome of `{}`.\n", function.name()),
            Nearest::SameArgs(calls) => format!(
                "They hold the calls {calls:?} with these arguments: the test makes this call more often than when \
                 it was recorded.\n"
            ),
            Nearest::Closest { id, outcome, differences } => format!(
                "The closest recorded arguments, {which} in {file}, differ in {count} field(s):\n{diff}\n",
                which = match outcome.calls.as_slice() {
                    [] => "answering any call".to_owned(),
                    calls => format!("of the calls {calls:?}"),
                },
                file = fixtures.path(&self.dir, function.id(), id).display(),
                count = differences.len(),
                diff = json_diff::render(&differences, ("recorded", "called with")),
            ),
        }
    }

    /// What `cacheow fixtures --stale` is told of fixtures recorded by
    /// another body of a function of this program (the function, the
    /// file), and `cacheow fixtures redact --check` of the fields redacted.
    fn noted(&self, fixtures: &Fixtures, redaction: &Redaction) -> crate::used::Noted {
        let current = |function_id: &str| registered(function_id).map(body_hash);
        let stale = fixtures
            .stale(current)
            .into_iter()
            .map(|(function_id, id, outcome)| (outcome.function.clone(), fixtures.path(&self.dir, function_id, id)))
            .collect();
        let mut redacted: Vec<(String, String)> =
            redaction.fields().map(|field| ("*".to_owned(), field.to_owned())).collect();
        for function in fixtures.function_ids().filter_map(registered) {
            redacted
                .extend(redacted_fields(function).iter().map(|field| (function.id().to_owned(), (*field).to_owned())));
        }
        crate::used::Noted { stale, redacted }
    }

    /// For a strict test that replays, what it left unplayed: every call of
    /// its fixtures that it did not make. Functions pinned to a mode are
    /// left out: a mock pin replays any outcome, a default pin none.
    fn unplayed(&self) -> Option<String> {
        if !self.strict || matches!(self.record, Record::All | Record::Review) {
            return None;
        }
        let state = self.state();
        let made = |function_id: &str, args: &str| {
            state.calls.iter().find(|((id, made), _)| *id == function_id && made == args).map_or(0, |(_, n)| *n)
        };
        let pinned = |function_id: &str| self.pins.contains_key(function_id);
        let unplayed = state.fixtures.unplayed(made, pinned);
        if unplayed.is_empty() {
            return None;
        }
        let lines: Vec<String> = unplayed
            .iter()
            .map(|(id, outcome, call)| {
                let call = call.map_or_else(|| "any call".to_owned(), |call| format!("call {call}"));
                let file = state.fixtures.path(&self.dir, &outcome.function_id, id);
                format!("  - `{}` with the arguments {}, {call} ({})", outcome.function, outcome.args, file.display())
            })
            .collect();
        let filter = self.filter();
        Some(format!(
            "cacheow-test: `{test}` is strict, and left {count} recorded call(s) of its fixtures unplayed: the code \
             no longer makes them, or makes them with other arguments. If that is meant, re-record the test: \
             CACHEOW_RECORD=all cargo test {filter}\n{lines}",
            test = self.test,
            count = unplayed.len(),
            lines = lines.join("\n"),
        ))
    }

    fn mock_without_fixture(&self, function: &Function) -> String {
        format!(
            "cacheow-test: `{}` is pinned to mock mode in `{}` but its fixtures hold no outcome of it, and the record \
             mode is `none` ({}), so it cannot be recorded: run the test once with CACHEOW_RECORD=once",
            function.name(),
            self.test,
            self.record_reason
        )
    }
}

/// A call a test's scope is asked about.
struct Asked {
    function: &'static Function,
    /// Redacted.
    args: String,
    /// Numbered from 0 among the test's calls with these arguments.
    call: u32,
    nested: bool,
    pin: Option<Mode>,
}

impl Session {
    /// The fixture that answers the call, if one does in this record mode.
    fn answer(&self, state: &mut State, asked: &Asked) -> Option<(String, FixtureOutcome)> {
        let (function, args, call) = (asked.function.id(), asked.args.as_str(), asked.call);
        match asked.pin {
            Some(Mode::Default) => None,
            Some(Mode::Mock) => state.fixtures.any(function, args, call),
            Some(Mode::Cache) => state.fixtures.cached(function, args, call),
            None if matches!(self.record, Record::All | Record::Review) => None,
            None if self.record == Record::Stale && state.records_again(asked.function) => None,
            None => state.fixtures.find(function, args, call),
        }
        .map(|(id, fixture)| (id.to_owned(), fixture.clone()))
    }

    /// Replays a fixture; a verify run also makes the call for real.
    fn replay(&self, state: &mut State, asked: Asked, id: &str, mut fixture: FixtureOutcome) -> Decision {
        let function = asked.function;
        if fixture.nested && !asked.nested {
            state.fixtures.made_at_top_level(function.id(), id);
            fixture.nested = false;
            state.changed = true;
        }
        state.used.insert(state.fixtures.path(&self.dir, function.id(), id));
        if !asked.nested {
            state.log.push((function, asked.args.clone(), fixture.outcome.clone(), Duration::ZERO));
        }
        state.this_run.add(fixture.clone(), asked.call, state.fixtures.body_hash(function.id(), id));
        if self.record != Record::Verify || asked.pin.is_some() {
            return Decision::Replay(fixture.outcome);
        }
        let unverified =
            |why: String| verify::NotVerified { call: self.verify_call(function, &asked.args, asked.call), why };
        if is_sequence(function) {
            verify::not_verified(unverified(
                "it returns a sequence, whose items are recorded as they are consumed".into(),
            ));
            return Decision::Replay(fixture.outcome);
        }
        if !verify::may_call() {
            verify::not_verified(unverified("past the cap of CACHEOW_VERIFY_MAX_CALLS".into()));
            return Decision::Replay(fixture.outcome);
        }
        let ticket = state.ticket();
        let verifying = Some((fixture.outcome.clone(), state.fixtures.path(&self.dir, function.id(), id)));
        state
            .pending
            .insert(ticket, Pending { function, args: asked.args, call: asked.call, logged: false, verifying });
        Decision::Verify { outcome: fixture.outcome, ticket }
    }

    /// A call the fixtures do not answer: made, recorded, or failed.
    fn unanswered(&self, state: &mut State, asked: Asked) -> Decision {
        // A function pinned to default mode is always called, never recorded.
        if asked.pin == Some(Mode::Default) {
            return Decision::Call { ticket: None };
        }
        // A stale run replays the functions it does not record again as `none` does.
        let records = match self.record {
            Record::None | Record::Verify => false,
            Record::Stale => state.records_again(asked.function),
            _ => true,
        };
        if !records {
            let message = if asked.pin == Some(Mode::Mock) {
                self.mock_without_fixture(asked.function)
            } else {
                self.missing(&state.fixtures, asked.function, &asked.args, asked.call)
            };
            state.fixture_failure = Some(message.clone());
            return Decision::Fail(message);
        }
        let ticket = state.ticket();
        let Asked { function, args, call, nested, .. } = asked;
        state.pending.insert(ticket, Pending { function, args, call, logged: !nested, verifying: None });
        Decision::Call { ticket: Some(ticket) }
    }
}

impl Hook for Session {
    fn decide(&self, function: &'static Function, args: &str, nested: bool) -> Decision {
        let mut state = self.state();
        let args = state.redaction.json(args);
        let call = {
            let counter = state.calls.entry((function.id(), args.clone())).or_insert(0);
            *counter += 1;
            *counter - 1
        };
        // A verify run makes the calls nested in one it verifies for real.
        if self.record == Record::Verify && nested {
            return Decision::Call { ticket: None };
        }
        let asked = Asked { function, args, call, nested, pin: self.pins.get(function.id()).copied() };
        match self.answer(&mut state, &asked) {
            Some((id, fixture)) => self.replay(&mut state, asked, &id, fixture),
            None => self.unanswered(&mut state, asked),
        }
    }

    fn record(&self, ticket: u64, outcome: Recorded, duration: Duration) {
        let mut state = self.state();
        let Some(Pending { function, args, call, logged, verifying }) = state.pending.remove(&ticket) else { return };
        let outcome = Recorded { payload: state.redaction.payload(&outcome.payload), ..outcome };
        if let Some((recorded, fixture)) = verifying {
            let exact = verifies_exactly(function);
            let (result, changes) = verify::compare(&recorded, &outcome, exact);
            let (call, by) = (self.verify_call(function, &args, call), if exact { "exact" } else { "shape" });
            verify::verified(verify::Verified { call, fixture, by, result, changes });
            return;
        }
        if logged {
            state.log.push((function, args.clone(), outcome.clone(), duration));
        }
        let fixture = FixtureOutcome {
            function: function.name().to_owned(),
            function_id: function.id().to_owned(),
            args,
            outcome,
            calls: Vec::new(),
            nested: !logged,
        };
        state.fixtures.add(fixture.clone(), call, Some(body_hash(function)));
        state.this_run.add(fixture, call, Some(body_hash(function)));
        state.changed = true;
    }

    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}
