//! The `cacheow` command line, run as a real process.

mod data;
mod fixtures;
mod serve;
