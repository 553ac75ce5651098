//! Which fixtures tests use, noted in the file `CACHEOW_FIXTURES_USED`
//! names, so that `cacheow fixtures --unused` can tell what no test uses,
//! and which are stale, for `cacheow fixtures --stale`.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Notes that a test with the fixture directory `dir` ran and used `files`,
/// and which of its fixtures another body of their function recorded
/// (function, file).
pub(crate) fn note(dir: &Path, files: &[PathBuf], stale: &[(String, PathBuf)]) {
    let Some(log) = crate::env::fixtures_used() else { return };
    let mut lines = format!("dir\t{}\n", dir.display());
    for file in files {
        lines.push_str(&format!("file\t{}\n", file.display()));
    }
    for (function, file) in stale {
        lines.push_str(&format!("stale\t{function}\t{}\n", file.display()));
    }
    // One write of whole lines, appended: safe from parallel tests.
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .and_then(|mut log| log.write_all(lines.as_bytes()));
    if let Err(error) = written {
        panic!("cacheow-test: cannot note the fixtures used in {}: {error}", log.display());
    }
}
