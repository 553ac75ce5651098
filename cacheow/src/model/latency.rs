//! The artificial latency added to replays, to mimic the real function's.

use std::time::Duration;

/// The longest artificial latency cacheow accepts.
pub const MAX_LATENCY: Duration = Duration::from_secs(3600);
