//! The project's own tests of expensive and external functions, recorded
//! with cacheow-test: a slow computation, an HTTP server the test starts,
//! and a child process. Their fixtures are committed under
//! `fixtures/recorded/`; CI replays them (`CI` set: record mode `none`).
//!
//! Re-record them with `CACHEOW_RECORD=all cargo test --test recorded`;
//! unchanged code leaves `git status` clean.

mod http;
mod process;
mod slow;
