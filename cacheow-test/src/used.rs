//! Which fixtures tests use, noted in the file `CACHEOW_FIXTURES_USED`
//! names, so that `cacheow fixtures --unused` can tell what no test uses,
//! which are stale, for `cacheow fixtures --stale`, and which fields the
//! test redacts, for `cacheow fixtures redact --check`.

use std::io::Write;
use std::path::{Path, PathBuf};

/// What a test notes besides the fixtures it used.
pub(crate) struct Noted {
    /// The fixtures another body of their function recorded: function, file.
    pub(crate) stale: Vec<(String, PathBuf)>,
    /// The fields it redacts: `*` for the test's own, else the id of the
    /// function whose `#[cacheow(redact(..))]` does, and the field.
    pub(crate) redacted: Vec<(String, String)>,
}

/// Whether a command asked the tests to note what they use.
pub(crate) fn wanted() -> bool {
    crate::env::fixtures_used().is_some()
}

/// Notes that a test with the fixture directory `dir` ran and used `files`,
/// with what else it noted.
pub(crate) fn note(dir: &Path, files: &[PathBuf], noted: &Noted) {
    let Some(log) = crate::env::fixtures_used() else { return };
    let mut lines = format!("dir\t{}\n", dir.display());
    for file in files {
        lines.push_str(&format!("file\t{}\n", file.display()));
    }
    for (function, file) in &noted.stale {
        lines.push_str(&format!("stale\t{function}\t{}\n", file.display()));
    }
    for (by, field) in &noted.redacted {
        lines.push_str(&format!("redact\t{by}\t{field}\n"));
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
