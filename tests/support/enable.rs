//! cacheow on, in a data dir of the test binary's own, without a panel.

/// Sets cacheow's environment before anything runs: cacheow reads its
/// settings on first use. The data dir is a fresh one below the target
/// dir, named `<prefix>…`, kept after the run for a look at what failed.
///
/// # Safety
///
/// Only before `main` (from a `#[ctor]`), while no other thread exists.
pub(crate) unsafe fn enable_cacheow(prefix: &str) {
    let data_dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("a temporary data dir")
        .keep();
    // SAFETY: the caller runs before `main`, on the only thread.
    unsafe {
        std::env::set_var("CACHEOW_ENABLE", "1");
        std::env::set_var("CACHEOW_DATA_DIR", data_dir);
        std::env::set_var("CACHEOW_START_SERVER", "0");
        // A team's Redis set in the developer's shell is not the tests' to write to.
        std::env::remove_var("CACHEOW_REDIS_URL");
    }
}
