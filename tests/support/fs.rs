//! Fixture trees on disk, for the tests that compare them.

use std::path::{Path, PathBuf};

/// Copies the directory tree `from` into `to`.
#[allow(dead_code)] // not every suite copies trees
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a directory");
    for entry in std::fs::read_dir(from).expect("readable").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("a copy");
        }
    }
}

/// Every file below `dir` but the body hashes beside fixtures (tests of
/// drift read those), by its path within `dir`, with its bytes.
pub(crate) fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files
                .extend(tree(&path).into_iter().map(|(file, bytes)| (Path::new(&entry.file_name()).join(file), bytes)));
        } else if entry.file_name() != "body-hashes.txt" {
            files.push((PathBuf::from(entry.file_name()), std::fs::read(&path).unwrap_or_default()));
        }
    }
    files.sort();
    files
}
