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
use crate::store::shared::Keep;

/// A question to the shared tier, and how long the call waits for it.
pub(crate) struct Asked {
    pub(crate) answered: Arc<Signal>,
    pub(crate) budget: Duration,
}

/// Asks the shared tier, when the plan found nothing and the function is
/// shared; `None` when there is nothing to ask, or Redis is known down.
pub(crate) fn ask(plan: &Plan, function: &'static Function, args: &Args) -> Option<Asked> {
    let Plan::Runtime { state, lookup, chosen: None } = plan else { return None };
    let shared = state.shared().filter(|shared| shared.reachable())?;
    let answered = match lookup.mode() {
        Mode::Cache if !lookup.waited() => shared.pull(function.id(), args.key, keeper(state, function)),
        Mode::Mock if state.first_pull_of_all() => shared.pull_all(function.id(), keeper(state, function)),
        _ => return None,
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
