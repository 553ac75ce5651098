//! The interface a test harness (cacheow-test) implements to answer the
//! decorated calls made in a test's scope from the test's fixtures.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use crate::model::outcome::Recorded;
use crate::runtime::function::Function;

/// What a scope does with the calls made in it.
pub trait Hook: Send + Sync {
    /// How to answer a call of `function` with these arguments (their
    /// canonical JSON). `nested` when the call is made while another call
    /// in the scope runs the function it decorates.
    fn decide(&self, function: &'static Function, args: &str, nested: bool) -> Decision;

    /// What a call gave, when [`Decision::Call`] gave a ticket to record it.
    fn record(&self, ticket: u64, outcome: Recorded, duration: Duration);

    /// The scope, for its harness to find it again.
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

/// How a scope answers a call.
pub enum Decision {
    /// Return this outcome without calling the function.
    Replay(Recorded),
    /// Call the function; hand what it gives to [`Hook::record`] with this
    /// ticket, when there is one.
    Call {
        /// Names the call to [`Hook::record`].
        ticket: Option<u64>,
    },
    /// Call the function and hand what it gives to [`Hook::record`] with
    /// this ticket, but return this outcome, as a replay would: a verify
    /// run checks a recording against the real thing. A panic of the
    /// function is recorded, not raised.
    Verify {
        /// What the call returns.
        outcome: Recorded,
        /// Names the call to [`Hook::record`].
        ticket: u64,
    },
    /// Fail the call, and so the test, with this message.
    Fail(String),
}
