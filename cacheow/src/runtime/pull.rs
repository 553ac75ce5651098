//! A local miss asks the shared tier: in cache mode, for the newest outcome
//! of the call's arguments; in mock mode, with nothing to draw, once for
//! every outcome of the function. What comes back is kept in the data dir
//! (even past the caller's budget, for its next call), and the call is
//! planned again.

use std::sync::Arc;
use std::time::Duration;

use crate::model::args::Args;
use crate::model::mode::Mode;
use crate::model::signal::Signal;
use crate::runtime::call::Plan;
use crate::runtime::function::Function;
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

fn question<'a>(plan: &'a Plan) -> Option<Question<'a>> {
    let Plan::Runtime { state, lookup, chosen: None } = plan else { return None };
    let shared = state.shared().filter(|shared| shared.reachable())?;
    match lookup.mode() {
        Mode::Cache if !lookup.waited() => Some(Question::Newest(state, shared)),
        Mode::Mock if state.first_pull_of_all() => Some(Question::Every(state, shared)),
        _ => None,
    }
}

/// For a synchronous call: asks the shared tier from the caller's thread,
/// within the budget. Whether it answered, and what it had is kept.
pub(crate) fn ask_blocking(plan: &Plan, function: &'static Function, args: &Args) -> bool {
    match question(plan) {
        Some(Question::Newest(state, shared)) => shared.pull_blocking(function.id(), args.key, keeper(state, function)),
        Some(Question::Every(state, shared)) => {
            shared.pull_all(function.id(), keeper(state, function)).wait(shared.budget())
        }
        None => false,
    }
}

/// For an async call: asks the shared tier through its thread; the call
/// awaits the answer.
pub(crate) fn ask(plan: &Plan, function: &'static Function, args: &Args) -> Option<Asked> {
    let (answered, shared) = match question(plan)? {
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

/// Keeps what the shared tier answers in the function's state.
fn keeper(state: &StateRef, function: &'static Function) -> Keep {
    let state = state.clone();
    let checker = function.checker();
    Box::new(move |pulled| state.keep_pulled(pulled, checker))
}
