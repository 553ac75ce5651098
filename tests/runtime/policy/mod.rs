//! The cache policy: an outcome's age, what is kept, in-flight dedupe,
//! per-call control, tags and redaction.

mod age;
mod conditions;
mod dedupe;
mod redaction;
mod requests;
mod tags;

/// The error some functions under test return.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Timeout;
