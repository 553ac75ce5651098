//! cacheow-test itself: record modes, failures, ordering, determinism,
//! redaction, pins, isolation of concurrent tests, and test stacks.
//!
//! Tests that need fixtures of their own write them in temporary
//! directories, through `Scope`, which is what `#[cacheow_test]` expands to.

mod drift;
mod isolation;
mod misses;
mod modes;
mod redaction;
mod should_panic;
mod stacks;
mod strict;
mod verify;

#[path = "../support/fs.rs"]
mod fs;
#[path = "../support/panics.rs"]
mod panics;

use fs::tree;

/// The message of a panic.
fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    panics::panic_text(&*panic)
}
