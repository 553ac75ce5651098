//! Every `CACHEOW_*` environment variable cacheow reads, by name, and how
//! its text becomes a value. Nothing here logs: a value that does not parse
//! comes back as a [`BadValue`] naming the variable, for the caller to
//! report once it knows the default it falls back to.

use std::fmt;
use std::path::PathBuf;

/// `1` turns cacheow on.
pub(crate) const ENABLE: &str = "CACHEOW_ENABLE";
pub(crate) const DATA_DIR: &str = "CACHEOW_DATA_DIR";
pub(crate) const SERVER_HOST: &str = "CACHEOW_SERVER_HOST";
pub(crate) const SERVER_PORT: &str = "CACHEOW_SERVER_PORT";
pub(crate) const START_SERVER: &str = "CACHEOW_START_SERVER";
pub(crate) const SEED: &str = "CACHEOW_SEED";
pub(crate) const PAYLOAD_CACHE_MB: &str = "CACHEOW_PAYLOAD_CACHE_MB";
pub(crate) const TOKEN: &str = "CACHEOW_TOKEN";
/// The shared tier: a Redis URL.
pub(crate) const REDIS_URL: &str = "CACHEOW_REDIS_URL";
pub(crate) const REDIS_PREFIX: &str = "CACHEOW_REDIS_PREFIX";
pub(crate) const REDIS_BUDGET_MS: &str = "CACHEOW_REDIS_BUDGET_MS";
/// What cacheow prints on stderr when no `tracing` subscriber is in effect.
pub(crate) const LOG: &str = "CACHEOW_LOG";

/// A variable whose value does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadValue {
    pub(crate) variable: &'static str,
    pub(crate) value: String,
    pub(crate) expected: &'static str,
}

impl fmt::Display for BadValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={:?} is not valid: expected {}", self.variable, self.value, self.expected)
    }
}

/// The value of `variable` in the environment, if it is set.
pub(crate) fn lookup(variable: &str) -> Option<String> {
    std::env::var(variable).ok()
}

/// The parsed value of `variable`, `None` when it is unset.
pub(crate) fn parse<T>(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    expected: &'static str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, BadValue> {
    let Some(raw) = lookup(variable) else { return Ok(None) };
    match parse(raw.trim()) {
        Some(value) => Ok(Some(value)),
        None => Err(BadValue { variable, value: raw, expected }),
    }
}

/// Whether `CACHEOW_ENABLE` turns cacheow on.
pub(crate) fn enabled() -> Result<bool, BadValue> {
    parse(&lookup, ENABLE, "1 or 0", parse_bool).map(Option::unwrap_or_default)
}

/// What the stderr fallback prints, as `CACHEOW_LOG` says.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum LogLevel {
    /// Nothing.
    Off,
    /// Warnings.
    Warn,
    /// Warnings and the control panel's URL: the default.
    Info,
}

impl fmt::Debug for LogLevel {
    /// As `CACHEOW_LOG` names it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogLevel::Off => "off",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
        })
    }
}

/// `CACHEOW_LOG`: `off`, `warn` or `info`.
pub(crate) fn log_level(lookup: &impl Fn(&str) -> Option<String>) -> Result<LogLevel, BadValue> {
    let level = parse(lookup, LOG, "off, warn or info", |raw| match raw.to_ascii_lowercase().as_str() {
        "off" | "0" | "none" => Some(LogLevel::Off),
        "warn" => Some(LogLevel::Warn),
        "info" | "" => Some(LogLevel::Info),
        _ => None,
    });
    level.map(|level| level.unwrap_or(LogLevel::Info))
}

pub(crate) fn parse_bool(raw: &str) -> Option<bool> {
    match raw.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" | "" => Some(false),
        _ => None,
    }
}

pub(crate) fn parse_path(raw: &str) -> Option<PathBuf> {
    (!raw.is_empty()).then(|| PathBuf::from(raw))
}

pub(crate) fn parse_host(raw: &str) -> Option<String> {
    let valid = !raw.is_empty() && !raw.contains(|c: char| c.is_whitespace() || c == '/');
    valid.then(|| raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_value_names_the_variable_and_what_it_should_hold() {
        let lookup = |_: &str| Some("maybe".to_owned());
        let bad = parse(&lookup, START_SERVER, "1 or 0", parse_bool).expect_err("not a boolean");
        assert_eq!(bad.to_string(), r#"CACHEOW_START_SERVER="maybe" is not valid: expected 1 or 0"#);
        assert_eq!(parse(&|_: &str| None, START_SERVER, "1 or 0", parse_bool), Ok(None));
    }
}
