//! The `cacheow` command line, run as a real process.

mod data;
mod delete;
mod drift;
mod fixtures;
mod redact;
mod review;
mod serve;
mod shared;

#[path = "../../../tests/support/fs.rs"]
mod fs;
#[path = "../../../tests/support/redis_server.rs"]
mod redis_server;

use fs::{copy_dir, tree};

/// What a command printed, on both streams.
fn text(output: &std::process::Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}
