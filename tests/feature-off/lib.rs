//! Checks that without the `instrument` feature of cacheow, `#[cacheow]`
//! compiles every function exactly as written; see `tests/`.
