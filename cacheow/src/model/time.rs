//! Wall-clock times as cacheow stores them: milliseconds since the Unix
//! epoch, which SQLite sorts and every process agrees on.

use std::time::{Duration, SystemTime};

pub(crate) fn now_millis() -> i64 {
    to_millis(SystemTime::now())
}

pub(crate) fn to_millis(time: SystemTime) -> i64 {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

pub(crate) fn from_millis(millis: i64) -> SystemTime {
    let magnitude = Duration::from_millis(millis.unsigned_abs());
    if millis >= 0 { SystemTime::UNIX_EPOCH + magnitude } else { SystemTime::UNIX_EPOCH - magnitude }
}

/// Milliseconds, with their fraction, as the database and the JSON API hold
/// durations.
pub(crate) fn as_millis_f64(duration: Duration) -> f64 {
    duration.as_micros() as f64 / 1000.0
}

/// `2026-11-21T10:04:05Z`.
pub(crate) fn rfc3339_seconds(millis: i64) -> String {
    humantime::format_rfc3339_seconds(from_millis(millis)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip() {
        for millis in [0, 1_700_000_000_123, -5] {
            assert_eq!(to_millis(from_millis(millis)), millis);
        }
    }
}
