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

/// Milliseconds of a monotonic clock that is read in a few nanoseconds and
/// may lag by a scheduler tick (1 to 10 ms): enough to say when a call
/// was made, without the cost of a precise clock on every cache hit.
pub(crate) fn coarse_monotonic_millis() -> u64 {
    coarse_monotonic().as_millis().try_into().unwrap_or(u64::MAX)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[allow(unsafe_code)] // one read of the kernel's coarse clock, which std does not offer
fn coarse_monotonic() -> Duration {
    // The precise clock has the same origin: the fallback if the coarse one
    // is missing, which it is in no Linux since 2.6.32.
    for clock in [libc::CLOCK_MONOTONIC_COARSE, libc::CLOCK_MONOTONIC] {
        let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `now` is a valid, writable timespec for the call's duration.
        if unsafe { libc::clock_gettime(clock, &mut now) } == 0 {
            return Duration::new(now.tv_sec.try_into().unwrap_or(0), now.tv_nsec.try_into().unwrap_or(0));
        }
    }
    Duration::ZERO
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn coarse_monotonic() -> Duration {
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    ORIGIN.get_or_init(std::time::Instant::now).elapsed()
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
