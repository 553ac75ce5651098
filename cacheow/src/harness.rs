//! What a test harness needs of cacheow: the hooks of a test's scope, and
//! the fixture files. For cacheow-test alone: **unstable**, it changes with
//! cacheow-test, without notice, in any release.

pub use crate::model::canonical::canonical_json;
pub use crate::model::json_diff;
pub use crate::model::outcome::{OutcomeKind, Payload, Recorded};
pub use crate::model::redact::{REDACTED, Redaction};
pub use crate::runtime::binding::{Entered, enter, hook as current};
pub use crate::runtime::hook::{Decision, Hook};
pub use crate::runtime::scope::Running;
pub use crate::store::files::write_atomic;
pub use crate::store::fixture::{FixtureOutcome, function_dir_name, function_id_of_dir};
pub use crate::store::fixture_folder::*;

use crate::runtime::function::Function;

/// The body hash of `function`, with what it `depends` on: 16 hex digits.
pub fn body_hash(function: &Function) -> &'static str {
    function.body_hash()
}

/// The decorated function of this program with the id `function_id`.
pub fn registered(function_id: &str) -> Option<&'static Function> {
    crate::runtime::registry::by_id(function_id)
}

/// Whether a verify run compares the values of `function` exactly
/// (`#[cacheow(verify = "exact")]`), not their shape.
pub fn verifies_exactly(function: &Function) -> bool {
    function.meta().verify_exact
}

/// Whether `function` returns an iterator or a stream, whose items are
/// recorded as they are consumed.
pub fn is_sequence(function: &Function) -> bool {
    matches!(
        function.meta().kind,
        crate::model::kind::FunctionKind::Iterator | crate::model::kind::FunctionKind::Stream
    )
}

/// The argument and value fields `#[cacheow(redact(..))]` keeps off the
/// disk for `function`.
pub fn redacted_fields(function: &Function) -> &'static [&'static str] {
    function.meta().policy.redact
}
