//! The `cacheow` command line, run as a real process.

mod fixtures;
mod serve;
