//! The `cacheow` command line, run as a real process.

mod data;
mod delete;
mod fixtures;
mod serve;

#[path = "../../../tests/support/fs.rs"]
mod fs;

use fs::{copy_dir, tree};
