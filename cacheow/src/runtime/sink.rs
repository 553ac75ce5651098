//! Where an outcome goes once the call that gave it ends: the data dir,
//! through the function's state, or a test's fixtures, through its scope.

use std::sync::Arc;
use std::time::Instant;

use crate::model::args::Args;
use crate::model::codec::CodecError;
use crate::model::event::CallEvent;
use crate::model::outcome::Recorded;
use crate::model::report::warn_once;
use crate::runtime::function::Function;
use crate::runtime::hook::Hook;
use crate::runtime::state::StateRef;

pub(crate) enum Sink {
    /// The data dir, through the function's state.
    Runtime { state: StateRef, event: CallEvent },
    /// A test's fixtures, through its scope.
    Scope { hook: Arc<dyn Hook>, ticket: u64 },
}

impl Sink {
    pub(crate) fn record(&self, args: &Args, outcome: Recorded, started: Instant) {
        match self {
            Sink::Runtime { state, event } => state.record(args, outcome, started, started.elapsed(), *event),
            Sink::Scope { hook, ticket } => hook.record(*ticket, outcome, started.elapsed()),
        }
    }

    /// A value that could not be encoded: the call is logged without an
    /// outcome; in a test, which needs it, the call fails.
    pub(crate) fn unrecordable(&self, function: &Function, args: &Args, started: Instant, error: &CodecError) {
        match self {
            Sink::Runtime { state, event } => {
                warn_once(
                    format!("encode:{}", state.id),
                    format_args!(
                        "cacheow cannot record the outcome of `{}` ({error}); its calls are not recorded",
                        state.name
                    ),
                );
                state.log_call(*event, args, None, started.elapsed());
            }
            Sink::Scope { .. } => {
                panic!("cacheow-test: the outcome of `{}` cannot be recorded: {error}", function.name())
            }
        }
    }
}
