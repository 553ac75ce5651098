//! cacheow-test itself: record modes, failures, ordering, determinism,
//! redaction, pins, isolation of concurrent tests, and test stacks.
//!
//! Tests that need fixtures of their own write them in temporary
//! directories, through `Scope`, which is what `#[cacheow_test]` expands to.

mod isolation;
mod modes;
mod redaction;
mod stacks;

use std::path::{Path, PathBuf};

/// Every file below `dir` with its bytes, to compare fixture trees.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap_or_default();
                files.push((path.strip_prefix(dir.as_path()).map(Path::to_path_buf).unwrap_or(path), bytes));
            }
        }
    }
    files.sort();
    files
}

/// The message of a panic.
fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|message| (*message).to_owned()))
        .unwrap_or_default()
}
