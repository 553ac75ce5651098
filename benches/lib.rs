//! The functions every benchmark runs, undecorated: each benchmark wraps
//! the same body in cacheow, in `cached`, or in nothing; and cacheow's
//! environment for them.
#![allow(unsafe_code)] // the environment is set before `main`, on the only thread

use std::path::Path;

/// Turns cacheow on over an emptied `data_dir`: cacheow reads its
/// settings on first use. `server` starts the control panel on a free port.
///
/// # Safety
///
/// Only before `main` (from a `#[ctor]`), while no other thread exists.
pub unsafe fn enable_cacheow(data_dir: &Path, server: bool) {
    let _ = std::fs::remove_dir_all(data_dir);
    // SAFETY: the caller runs before `main`, on the only thread.
    unsafe {
        std::env::set_var("CACHEOW_ENABLE", "1");
        std::env::set_var("CACHEOW_DATA_DIR", data_dir);
        std::env::set_var("CACHEOW_START_SERVER", if server { "1" } else { "0" });
        if server {
            std::env::set_var("CACHEOW_SERVER_PORT", "0");
        }
    }
}

/// A `u64` result.
#[inline(never)]
pub fn square(n: u64) -> u64 {
    n.wrapping_mul(n)
}

/// A 1 KB `String` result.
#[inline(never)]
pub fn text(n: u64) -> String {
    let letter = b'a' + u8::try_from(n % 26).unwrap_or(0);
    String::from_utf8(vec![letter; 1024]).unwrap_or_default()
}
