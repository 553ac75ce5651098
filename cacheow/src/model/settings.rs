//! [`Settings`]: the `CACHEOW_*` variables, else the defaults. A bad value
//! logs one warning naming the variable and falls back to the default; it
//! never panics.

use std::path::PathBuf;
use std::time::Duration;

use crate::model::env::{
    self, BadValue, DATA_DIR, PAYLOAD_CACHE_MB, REDIS_BUDGET_MS, REDIS_PREFIX, REDIS_URL, SEED, SERVER_HOST,
    SERVER_PORT, START_SERVER, TOKEN,
};
use crate::model::{report, secret_url};

/// Where cacheow keeps its data and how it serves the control panel.
///
/// Read once, from the environment, when cacheow starts:
///
/// | Variable | Default | |
/// |---|---|---|
/// | `CACHEOW_ENABLE` | unset | `1` turns cacheow on |
/// | `CACHEOW_DATA_DIR` | `.cacheow` | where outcomes are recorded |
/// | `CACHEOW_SERVER_HOST` | `127.0.0.1` | control panel address |
/// | `CACHEOW_SERVER_PORT` | `8765` | control panel port |
/// | `CACHEOW_START_SERVER` | `1` | `0` keeps the control panel off |
/// | `CACHEOW_SEED` | unset | makes mock choices reproducible |
/// | `CACHEOW_PAYLOAD_CACHE_MB` | `4` | the MiB of recorded payloads (and their parsed JSON) kept in memory for replays |
/// | `CACHEOW_TOKEN` | unset | a secret every control panel request must carry; needed to serve a non-loopback host |
/// | `CACHEOW_REDIS_URL` | unset | a Redis server shared by a team's machines and CI runners (the `redis` feature): `redis://127.0.0.1:6379/0` |
/// | `CACHEOW_REDIS_PREFIX` | `cacheow:` | what every key cacheow writes to Redis starts with |
/// | `CACHEOW_REDIS_BUDGET_MS` | `50` | the longest a local miss waits for Redis before it calls the function |
/// | `CACHEOW_LOG` | `info` | without a `tracing` subscriber, what cacheow prints on stderr: `off`, `warn` (warnings) or `info` (and the panel's URL) |
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// The data directory, made absolute when cacheow starts.
    pub data_dir: PathBuf,
    /// The control panel's host.
    pub server_host: String,
    /// The control panel's port; `0` picks a free one.
    pub server_port: u16,
    /// Whether the control panel starts with the program.
    pub start_server: bool,
    /// Seed of the random choice among mock outcomes; random when `None`.
    pub seed: Option<u64>,
    /// The secret every control panel request must carry, when set.
    pub server_token: Option<String>,
    /// How many MiB of payloads replays keep in memory; past it, a payload
    /// is read from its file again at its next replay.
    pub payload_cache_mb: u64,
    /// The shared tier's Redis URL, when set (the `redis` feature). Its
    /// password is never shown: not in `Debug`, a log or the panel.
    pub redis_url: Option<String>,
    /// What every key in Redis starts with.
    pub redis_prefix: String,
    /// The longest a local miss waits for Redis before calling the function.
    pub redis_budget: Duration,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a secret: settings end up in logs.
        f.debug_struct("Settings")
            .field("data_dir", &self.data_dir)
            .field("server_host", &self.server_host)
            .field("server_port", &self.server_port)
            .field("start_server", &self.start_server)
            .field("seed", &self.seed)
            .field("payload_cache_mb", &self.payload_cache_mb)
            .field("server_token", &self.server_token.as_ref().map(|_| "<redacted>"))
            .field("redis_url", &self.redis_url.as_deref().map(secret_url::without_password))
            .field("redis_prefix", &self.redis_prefix)
            .field("redis_budget", &self.redis_budget)
            .finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            data_dir: PathBuf::from(".cacheow"),
            server_host: "127.0.0.1".to_owned(),
            server_port: 8765,
            start_server: true,
            seed: None,
            server_token: None,
            payload_cache_mb: 4,
            redis_url: None,
            redis_prefix: "cacheow:".to_owned(),
            redis_budget: Duration::from_millis(50),
        }
    }
}

impl Settings {
    /// Reads the settings from the `CACHEOW_*` environment variables.
    ///
    /// A relative `CACHEOW_DATA_DIR` is resolved against the current directory.
    pub fn from_env() -> Settings {
        let mut settings = Settings::from_lookup(env::lookup);
        if settings.data_dir.is_relative()
            && let Ok(cwd) = std::env::current_dir()
        {
            settings.data_dir = cwd.join(&settings.data_dir);
        }
        settings
    }

    /// Reads the settings from `lookup`, which plays the environment.
    pub(crate) fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Settings {
        // `CACHEOW_LOG` is read where cacheow reports; a bad value is told here.
        or_default(env::log_level(&lookup).map(Some), env::LogLevel::Info);
        let defaults = Settings::default();
        Settings {
            data_dir: or_default(env::parse(&lookup, DATA_DIR, "a directory path", env::parse_path), defaults.data_dir),
            server_host: or_default(
                env::parse(&lookup, SERVER_HOST, "a host name or IP address", env::parse_host),
                defaults.server_host,
            ),
            server_port: or_default(
                env::parse(&lookup, SERVER_PORT, "a port number from 0 to 65535", |raw| raw.parse().ok()),
                defaults.server_port,
            ),
            start_server: or_default(
                env::parse(&lookup, START_SERVER, "1 or 0", env::parse_bool),
                defaults.start_server,
            ),
            seed: or_default(env::parse(&lookup, SEED, "an unsigned integer", |raw| raw.parse().ok().map(Some)), None),
            server_token: lookup(TOKEN).filter(|token| !token.is_empty()),
            payload_cache_mb: or_default(
                env::parse(&lookup, PAYLOAD_CACHE_MB, "a number of MiB", |raw| raw.parse().ok()),
                defaults.payload_cache_mb,
            ),
            redis_url: lookup(REDIS_URL).map(|url| url.trim().to_owned()).filter(|url| !url.is_empty()),
            redis_prefix: lookup(REDIS_PREFIX).filter(|prefix| !prefix.is_empty()).unwrap_or(defaults.redis_prefix),
            redis_budget: or_default(
                env::parse(&lookup, REDIS_BUDGET_MS, "a number of milliseconds", |raw| {
                    raw.parse().ok().map(Duration::from_millis)
                }),
                defaults.redis_budget,
            ),
        }
    }
}

/// The variable's value when it is set and parses, else the default; a bad
/// value is logged, naming the variable, what it holds and what it should.
fn or_default<T: std::fmt::Debug>(read: Result<Option<T>, BadValue>, default: T) -> T {
    match read {
        Ok(value) => value.unwrap_or(default),
        Err(bad) => {
            report::warn(format_args!("{bad}; using the default {default:?}"));
            default
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Settings {
        Settings::from_lookup(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn defaults_are_the_python_ones() {
        let defaults = settings(&[]);
        assert_eq!(defaults.data_dir, PathBuf::from(".cacheow"));
        assert_eq!((defaults.server_host.as_str(), defaults.server_port), ("127.0.0.1", 8765));
        assert!(defaults.start_server);
        assert_eq!(defaults.seed, None);
    }

    #[test]
    fn reads_every_variable() {
        let read = settings(&[
            (DATA_DIR, "/tmp/x"),
            (SERVER_HOST, "0.0.0.0"),
            (SERVER_PORT, "0"),
            (START_SERVER, "0"),
            (SEED, "42"),
            (TOKEN, "s3cret"),
            (PAYLOAD_CACHE_MB, "64"),
            (REDIS_URL, "redis://me:hunter2@cache:6379/1"),
            (REDIS_PREFIX, "team:"),
            (REDIS_BUDGET_MS, "20"),
        ]);
        assert_eq!(read.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!((read.server_host.as_str(), read.server_port), ("0.0.0.0", 0));
        assert!(!read.start_server);
        assert_eq!(read.seed, Some(42));
        assert_eq!(read.server_token.as_deref(), Some("s3cret"));
        assert_eq!(read.payload_cache_mb, 64);
        assert!(!format!("{read:?}").contains("s3cret"), "the token stays out of logs");
        assert_eq!(read.redis_url.as_deref(), Some("redis://me:hunter2@cache:6379/1"));
        assert_eq!((read.redis_prefix.as_str(), read.redis_budget), ("team:", Duration::from_millis(20)));
        assert!(!format!("{read:?}").contains("hunter2"), "the Redis password stays out of logs");
    }

    #[test]
    fn bad_values_fall_back_to_defaults() {
        let read = settings(&[
            (SERVER_PORT, "abc"),
            (START_SERVER, "maybe"),
            (SEED, "-1"),
            (DATA_DIR, " "),
            (PAYLOAD_CACHE_MB, "lots"),
        ]);
        assert_eq!(read, Settings::default());
    }
}
