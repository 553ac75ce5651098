//! A local miss asks the shared tier: in cache mode, for the newest outcome
//! of the call's arguments; in mock mode, with nothing to draw, once for
//! every outcome of the function. What comes back is kept in the data dir
//! (even past the caller's budget, for its next call), and the call is
//! planned again.

use std::sync::Arc;
use std::time::Duration;

use crate::model::args::Args;
use crate::model::mode::Mode;
use crate::model::outcome::Outcome;
use crate::model::report::warn_once;
use crate::model::signal::Signal;
use crate::runtime::function::{Checker, Function};
use crate::runtime::payloads::Replay;
use crate::runtime::state::StateRef;
use crate::store::shared::{Keep, Shared};

/// A question to the shared tier, and how long the call waits for it.
pub(crate) struct Asked {
    pub(crate) answered: Arc<Signal>,
    pub(crate) budget: Duration,
}

/// What to ask the shared tier, when the plan found nothing and the
/// function is shared; `None` when nothing, or Redis is known down.
enum Question<'a> {
    Newest(&'a StateRef, &'a Arc<Shared>),
    Every(&'a StateRef, &'a Arc<Shared>),
}

/// A call that found nothing in the data dir: its function's state, and
/// how it looked (its mode; whether it waited for another call; the oldest
/// a cache hit may be).
pub(crate) struct Unfound<'a> {
    pub(crate) state: &'a StateRef,
    pub(crate) mode: Mode,
    pub(crate) waited: bool,
    pub(crate) max_age: Option<Duration>,
}

/// What a synchronous call's question gave.
pub(crate) enum Answer {
    /// Replay this outcome of the shared tier, now kept in the data dir.
    Replay(Replay),
    /// What the shared tier had is kept: plan the call again.
    Kept,
    Nothing,
}

fn question<'a>(unfound: &Unfound<'a>) -> Option<Question<'a>> {
    let Unfound { state, mode, waited, .. } = *unfound;
    let shared = state.shared().filter(|shared| shared.reachable())?;
    match mode {
        Mode::Cache if !waited => Some(Question::Newest(state, shared)),
        Mode::Mock if state.first_pull_of_all() => Some(Question::Every(state, shared)),
        _ => None,
    }
}

/// For a synchronous call: asks the shared tier from the caller's thread,
/// within the budget. An outcome found is kept in the data dir, and
/// replayed at once.
pub(crate) fn ask_blocking(unfound: Unfound<'_>, function: &'static Function, args: &Args) -> Answer {
    match question(&unfound) {
        Some(Question::Newest(state, shared)) => {
            let Some(mut pulled) = shared.pull_blocking(function.id(), args.key, keeper(state, function)) else {
                return Answer::Nothing;
            };
            if let Some(checker) = function.checker() {
                pulled.retain(|outcome| fits(state, checker, outcome));
            }
            // Of these arguments: a value edited by hand may name others.
            let replay = pulled
                .iter()
                .find(|outcome| outcome.arg_key == args.key)
                .and_then(|outcome| state.replay_pulled(outcome, unfound.max_age));
            state.keep_pulled(pulled);
            replay.map_or(Answer::Nothing, Answer::Replay)
        }
        Some(Question::Every(state, shared)) => {
            let answered = shared.pull_all(function.id(), keeper(state, function)).wait(shared.budget());
            if answered { Answer::Kept } else { Answer::Nothing }
        }
        None => Answer::Nothing,
    }
}

/// For an async call: asks the shared tier through its thread; the call
/// awaits the answer.
pub(crate) fn ask(unfound: Unfound<'_>, function: &'static Function, args: &Args) -> Option<Asked> {
    let (answered, shared) = match question(&unfound)? {
        Question::Newest(state, shared) => (shared.pull(function.id(), args.key, keeper(state, function)), shared),
        Question::Every(state, shared) => (shared.pull_all(function.id(), keeper(state, function)), shared),
    };
    Some(Asked { answered, budget: shared.budget() })
}

/// For a call that waits for another machine's call of its key: asks the
/// shared tier for its outcome, unless the last question is unanswered.
/// What comes back is kept, where the waiter's next look finds it.
pub(crate) fn ask_while_waiting(
    state: &StateRef,
    function: &'static Function,
    args: &Args,
    asking: &mut Option<Arc<Signal>>,
) {
    let Some(shared) = state.shared().filter(|shared| shared.reachable()) else { return };
    if asking.as_ref().is_none_or(|answered| answered.is_done()) {
        *asking = Some(shared.pull(function.id(), args.key, keeper(state, function)));
    }
}

/// Keeps what the shared tier answers in the function's state, but what
/// the function's return type cannot replay.
fn keeper(state: &StateRef, function: &'static Function) -> Keep {
    let state = state.clone();
    let checker = function.checker();
    Box::new(move |mut pulled| {
        if let Some(checker) = checker {
            pulled.retain(|outcome| fits(&state, checker, outcome));
        }
        state.keep_pulled(pulled);
    })
}

/// Whether an outcome pulled replays as the return type; warned of once when not.
fn fits(state: &StateRef, checker: Checker, outcome: &Outcome) -> bool {
    let Err(error) = checker.check(outcome.kind(), outcome.payload()) else { return true };
    warn_once(
        format!("redis-type:{}:{}", state.id, outcome.id),
        format_args!(
            "cacheow ignores the outcome {} of `{}` in Redis: it does not fit the return type ({error})",
            outcome.id_hex(),
            state.name
        ),
    );
    false
}
