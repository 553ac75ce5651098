//! Where an outcome goes once the call that gave it ends: the data dir,
//! through the function's state, or a test's fixtures, through its scope.
//! The data dir keeps only what the function's policy lets it (`cache_if`,
//! `cache_errors`); a test's fixtures keep every outcome, so that replays
//! in CI stay exact.

use std::sync::Arc;
use std::time::Instant;

use crate::model::args::Args;
use crate::model::codec::{Codec, CodecError};
use crate::model::event::CallEvent;
use crate::model::outcome::Recorded;
use crate::model::policy::{Dedupe, Rules};
use crate::model::report::warn_once;
use crate::model::status::{self, CallStatus};
use crate::runtime::function::Function;
use crate::runtime::hook::Hook;
use crate::runtime::in_flight::Joined;
use crate::runtime::lease::{self, Claim};
use crate::runtime::state::StateRef;

pub(crate) enum Sink {
    /// The data dir, through the function's state.
    Runtime { state: StateRef, event: CallEvent },
    /// A test's fixtures, through its scope.
    Scope { hook: Arc<dyn Hook>, ticket: u64 },
    /// Nowhere: cacheow is off, or the call is bypassed.
    Plain { status: Option<CallStatus> },
}

impl Sink {
    /// A test scope's sink again, for a second look at the same call.
    pub(crate) fn clone_scope(&self) -> Option<Sink> {
        match self {
            Sink::Scope { hook, ticket } => Some(Sink::Scope { hook: Arc::clone(hook), ticket: *ticket }),
            _ => None,
        }
    }

    /// Records a panic of the function, or what a sequence gave.
    pub(crate) fn record(&self, args: &Args, outcome: Recorded, started: Instant) {
        match self {
            Sink::Runtime { state, event } => state.record(args, outcome, started, started.elapsed(), *event),
            Sink::Scope { hook, ticket } => hook.record(*ticket, outcome, started.elapsed()),
            Sink::Plain { .. } => {}
        }
    }

    /// Whether a panic of the function is recorded here.
    pub(crate) fn records_panics(&self, function: &Function) -> bool {
        let meta = function.meta();
        match self {
            Sink::Runtime { .. } => meta.record_panics && meta.policy.cache_errors,
            Sink::Scope { .. } => meta.record_panics,
            Sink::Plain { .. } => false,
        }
    }

    /// A cache-mode miss joins the call in flight with the same key, unless
    /// the function's `dedupe` is off. The `refresh` of an outcome served
    /// stale always joins: one refresh runs per key.
    pub(crate) fn join_in_flight(&self, function: &Function, args: &Args, refresh: bool) -> Option<Joined> {
        match self {
            Sink::Runtime { state, event: CallEvent::Miss }
                if refresh || function.meta().policy.dedupe != Dedupe::Off =>
            {
                state.in_flight().join(args.key)
            }
            _ => None,
        }
    }

    /// A cache-mode miss of a function with `dedupe = "processes"` takes its
    /// key's lock across processes, and its mark across machines with a
    /// shared tier, or finds another process's call of the key running.
    pub(crate) fn claim(&self, function: &Function, args: &Args) -> Claim {
        let Sink::Runtime { state, event: CallEvent::Miss } = self else { return Claim::None };
        if function.meta().policy.dedupe != Dedupe::Processes {
            return Claim::None;
        }
        let claim = state.outcomes_dir().map_or(Claim::None, |dir| lease::try_take(&lease::dir_of(dir), args.key));
        match (claim, state.shared()) {
            (Claim::Held(lease), Some(shared)) => {
                lease.marked(shared, (state.id, state.name), args.key, function.meta().policy.wait)
            }
            (claim, _) => claim,
        }
    }

    /// Lets what was recorded reach the database.
    pub(crate) fn flush_writes(&self) {
        if let Sink::Runtime { state, .. } = self {
            state.flush_writes();
        }
    }

    /// Records the value the function returned, if its policy keeps it,
    /// and notes the call's status.
    pub(crate) fn record_value<R>(
        &self,
        function: &Function,
        args: &Args,
        codec: Codec<R>,
        rules: Rules<R>,
        started: Instant,
        value: &R,
    ) {
        match self {
            Sink::Plain { status: Some(status) } => status::set_last(*status),
            Sink::Plain { status: None } => {}
            Sink::Scope { hook, ticket } => match (codec.encode)(value) {
                Ok(encoded) => hook.record(*ticket, encoded, started.elapsed()),
                Err(error) => {
                    panic!("cacheow-test: the outcome of `{}` cannot be recorded: {error}", function.name())
                }
            },
            Sink::Runtime { state, event } => {
                let refused = || state.log_call(*event, CallStatus::NotRecorded, args, None, started.elapsed());
                if !rules.keeps(value) {
                    return refused();
                }
                match (codec.encode)(value) {
                    Ok(encoded) if encoded.kind.failed() && !function.meta().policy.cache_errors => refused(),
                    Ok(encoded) => state.record(args, encoded, started, started.elapsed(), *event),
                    Err(error) => {
                        unrecordable(state, &error);
                        refused();
                    }
                }
            }
        }
    }
}

/// A value that could not be encoded: the call is logged without an outcome.
fn unrecordable(state: &StateRef, error: &CodecError) {
    warn_once(
        format!("encode:{}", state.id),
        format_args!("cacheow cannot record the outcome of `{}` ({error}); its calls are not recorded", state.name),
    );
}
