//! Record-then-replay test fixtures for [`cacheow`] functions.
//!
//! A test that calls expensive functions (a paid API, a slow computation, a
//! database) records their outcomes on a developer's machine into fixture
//! files committed to git; CI replays them, fast and offline. VCR for any
//! `#[cacheow]` function, not only HTTP.
//!
//! ```no_run
//! use cacheow::cacheow;
//! use cacheow_test::cacheow_test;
//!
//! #[cacheow]
//! fn fetch_user(id: u32) -> String {
//!     // a slow HTTP call, in real life
//!     format!("user {id}")
//! }
//!
//! #[cacheow_test] // alone, it is a #[test]
//! fn looks_up_user() {
//!     assert_eq!(fetch_user(7), "user 7");
//! }
//! ```
//!
//! The first run records `fixtures/<crate>/<module>/looks_up_user/`; later
//! runs, and CI, replay it. See [`Record`] for the record modes and
//! [`Scope`] for every setting, which the attribute takes too:
//!
//! ```text
//! #[cacheow_test(record = "none")]             replay only
//! #[cacheow_test(mock(fetch_user), cache(score))]   pin modes for this test
//! #[cacheow_test(redact("api_key"), redact_env("TOKEN"))]   keep secrets out
//! #[cacheow_test(fixtures = "tests/fixtures")] another fixtures root
//! #[cacheow_test(snapshot)]                    snapshot the outcomes with insta
//! #[cacheow_test(save_on_failure)]             keep what a failing run recorded
//! #[cacheow_test(strict)]                      fail when a recorded call is not made
//! ```
//!
//! Tests run in parallel threads (`cargo test`) or processes (`cargo
//! nextest`): a test's settings and fixtures apply to the calls made on its
//! thread, inside its future across `.await`s, and in tasks it spawns with
//! [`spawn`] or [`scoped`], never to another test. A decorated call made
//! outside every test while tests run fails, rather than guessing whose it is.

mod env;
mod fixtures;
mod record;
mod scope;
mod session;
mod snapshot;
mod used;
mod verify;

pub use cacheow_macros::cacheow_test;
pub use record::{Record, UnknownRecord};
pub use scope::{CurrentTest, Entered, Scope, TestResult, current, scoped, spawn};

/// Replaces `secret` wherever it occurs in what the running test writes
/// from now on: for secrets known only once the test runs.
///
/// # Panics
///
/// Outside a `#[cacheow_test]`.
pub fn redact_value(secret: impl Into<String>) {
    current().redact_value(secret);
}

/// Snapshots, with insta, the outcomes the running test recorded or
/// replayed so far: function, arguments and value, in call order.
///
/// Durations are redacted; more redactions follow insta's syntax:
/// `assert_outcomes_snapshot!({ "[].value.created_at" => "[time]" })`.
/// Review changes with `cargo insta review`.
#[macro_export]
macro_rules! assert_outcomes_snapshot {
    () => {
        $crate::assert_outcomes_snapshot!({})
    };
    ({ $($selector:expr => $replacement:expr),* $(,)? }) => {{
        let outcomes = $crate::__private::outcomes();
        $crate::__private::insta::assert_json_snapshot!(
            outcomes,
            { "[].duration_ms" => "[duration]", $($selector => $replacement),* }
        )
    }};
}

#[doc(hidden)]
pub mod __private {
    pub use crate::scope::scope_for as scope;
    pub use cacheow::{Mode, handle};
    pub use insta;

    /// The running test's outcomes, for `assert_outcomes_snapshot!`.
    pub fn outcomes() -> Vec<crate::snapshot::Entry> {
        crate::current().session().log()
    }
}
