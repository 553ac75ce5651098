//! Every environment variable cacheow-test reads, read here: the variable,
//! else the default. A bad value fails the test with a message naming the
//! variable: a test run that records in the wrong mode is worse than none.

use std::path::PathBuf;

use crate::Record;

/// `CACHEOW_RECORD`: the record mode of every test, over what tests say.
const RECORD: &str = "CACHEOW_RECORD";
/// `CACHEOW_FIXTURES_DIR`: where fixtures live, instead of `<crate>/fixtures`.
const FIXTURES_DIR: &str = "CACHEOW_FIXTURES_DIR";
/// `CACHEOW_FIXTURES_USED`: a file to list the fixtures tests use in, for
/// `cacheow fixtures --unused`.
const FIXTURES_USED: &str = "CACHEOW_FIXTURES_USED";
/// `CACHEOW_STRICT`: every test fails when it leaves recorded calls unplayed.
const STRICT: &str = "CACHEOW_STRICT";
/// `CACHEOW_VERIFY_MAX_CALLS`: the most real calls of a verify run, per
/// test binary.
const VERIFY_MAX_CALLS: &str = "CACHEOW_VERIFY_MAX_CALLS";
/// `CI`, as continuous integration services set it.
const CI: &str = "CI";

/// The record mode from `CACHEOW_RECORD`.
pub(crate) fn record() -> Option<Record> {
    let raw = std::env::var(RECORD).ok().filter(|raw| !raw.trim().is_empty())?;
    match raw.parse() {
        Ok(record) => Some(record),
        Err(error) => panic!("cacheow-test: {RECORD}={raw:?} is not valid: {error}"),
    }
}

/// Whether `CACHEOW_STRICT` makes every test strict: `1` or `true`; unset,
/// empty, `0` or `false` do not.
pub(crate) fn strict() -> bool {
    let raw = std::env::var(STRICT).unwrap_or_default();
    match raw.trim() {
        "" | "0" | "false" => false,
        "1" | "true" => true,
        other => panic!("cacheow-test: {STRICT}={other:?} is not valid: expected `1` or `true` (or `0`, `false`)"),
    }
}

/// The cap `CACHEOW_VERIFY_MAX_CALLS` puts on the real calls of a verify
/// run, if any.
pub(crate) fn verify_max_calls() -> Option<u64> {
    let raw = std::env::var(VERIFY_MAX_CALLS).ok().filter(|raw| !raw.trim().is_empty())?;
    match raw.trim().parse() {
        Ok(max) => Some(max),
        Err(_) => panic!("cacheow-test: {VERIFY_MAX_CALLS}={raw:?} is not valid: expected a number of calls, like 50"),
    }
}

/// Whether this runs in continuous integration, by insta's rule: `CI` set to
/// anything but empty, `false` or `0`.
pub(crate) fn in_ci() -> bool {
    std::env::var(CI).is_ok_and(|value| ci_value_means_ci(&value))
}

fn ci_value_means_ci(value: &str) -> bool {
    !matches!(value.trim(), "" | "false" | "0")
}

pub(crate) fn fixtures_dir() -> Option<PathBuf> {
    std::env::var_os(FIXTURES_DIR).filter(|dir| !dir.is_empty()).map(PathBuf::from)
}

pub(crate) fn fixtures_used() -> Option<PathBuf> {
    std::env::var_os(FIXTURES_USED).filter(|file| !file.is_empty()).map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ci_is_any_value_but_empty_false_or_0() {
        for (value, ci) in [("true", true), ("1", true), ("yes", true), ("", false), ("false", false), ("0", false)] {
            assert_eq!(super::ci_value_means_ci(value), ci, "CI={value:?}");
        }
    }
}
