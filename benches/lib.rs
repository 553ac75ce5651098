//! The functions every benchmark runs, undecorated: each benchmark wraps
//! the same body in cacheow, in `cached`, or in nothing.

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
