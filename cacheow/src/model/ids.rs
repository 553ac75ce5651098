//! Names and ids: a function's qualified name and id, argument keys and
//! outcome ids. Ids are hashes of content, so they are the same in every
//! run and every process.

use xxhash_rust::xxh3::{xxh3_64, xxh3_128};

/// The nested function whose type name gives a decorated function's path.
const PROBE: &str = "::__cacheow_probe";

/// `crate::module::Client::fetch` from the type name of the probe that
/// `#[cacheow]` puts in `fetch`'s body, or from the type name of the function
/// item that `handle!` is given. Generic arguments are left out, so every
/// instantiation of a generic function is one function.
pub(crate) fn qualified_name(type_name: &str) -> String {
    let mut path = type_name.strip_suffix(PROBE).unwrap_or(type_name);
    // The body of an `async fn` is a closure to the compiler.
    while let Some(outer) = path.strip_suffix("::{{closure}}") {
        path = outer;
    }
    strip_generic_args(path)
}

/// The crate a qualified name belongs to: its first path segment.
pub(crate) fn crate_of(qualified_name: &str) -> &str {
    let name = qualified_name.trim_start_matches('<');
    name.split("::").next().unwrap_or(name)
}

/// The function id: 16 lowercase hex characters derived from the qualified
/// name (crate, module path, `Self` type and function name).
pub(crate) fn function_id(qualified_name: &str) -> String {
    id_hex(xxh3_64(qualified_name.as_bytes()))
}

/// Whether `text` has the shape of a function or outcome id; checked before
/// an id becomes part of a path.
pub(crate) fn is_id(text: &str) -> bool {
    text.len() == 16 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The key of a call's arguments, from their canonical text.
pub(crate) fn arg_key(args_text: &str) -> u128 {
    xxh3_128(args_text.as_bytes())
}

pub(crate) fn arg_key_hex(key: u128) -> String {
    format!("{key:032x}")
}

/// An outcome's id: the hash of everything that makes it this outcome, so
/// that recording the same outcome twice gives the same id (and file name).
pub(crate) fn outcome_id(parts: &[&str]) -> u64 {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for part in parts {
        hasher.update(part.as_bytes());
        // A separator that cannot occur in UTF-8 text.
        hasher.update(&[0xff]);
    }
    hasher.digest()
}

pub(crate) fn id_hex(id: u64) -> String {
    format!("{id:016x}")
}

/// The number behind a 16-hex-character id.
pub(crate) fn parse_id(text: &str) -> Option<u64> {
    if is_id(text) { u64::from_str_radix(text, 16).ok() } else { None }
}

/// Hashes ids for in-memory maps: they are already hashes, so their bits
/// are used as they are.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only reached for keys that are not ids; fold them in anyway.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0 ^ u64::from_le_bytes(word)).rotate_left(29).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 ^= id;
    }

    fn write_u128(&mut self, key: u128) {
        self.0 ^= (key as u64) ^ ((key >> 64) as u64);
    }
}

/// A map keyed by ids or argument keys.
pub(crate) type IdMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<IdHasher>>;

/// Removes `<...>` after a name (`Client<_>` → `Client`) but keeps the
/// brackets of a qualified path (`<Client<u8> as Fetch>` → `<Client as Fetch>`).
fn strip_generic_args(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut depth = 0usize;
    let mut chars = path.chars().peekable();
    let mut previous = ' ';
    while let Some(c) = chars.next() {
        if depth > 0 {
            match c {
                '-' if chars.peek() == Some(&'>') => {
                    chars.next();
                }
                '<' => depth += 1,
                '>' => depth -= 1,
                _ => {}
            }
            continue;
        }
        if c == '<' && (previous.is_alphanumeric() || previous == '_') {
            depth = 1;
            continue;
        }
        out.push(c);
        previous = c;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_names_drop_the_probe_and_generic_arguments() {
        assert_eq!(qualified_name("app::m::Client<_>::get::__cacheow_probe"), "app::m::Client::get");
        assert_eq!(qualified_name("app::m::Client<u8>::get"), "app::m::Client::get");
        assert_eq!(
            qualified_name("<app::m::Client<_> as app::m::Fetch<Box<dyn Fn() -> u8>>>::fetch::__cacheow_probe"),
            "<app::m::Client as app::m::Fetch>::fetch"
        );
        assert_eq!(qualified_name("app::free<u32>"), "app::free");
        assert_eq!(qualified_name("app::fetch::{{closure}}::__cacheow_probe"), "app::fetch");
        assert_eq!(crate_of("<app::m::Client as app::m::Fetch>::fetch"), "app");
    }

    #[test]
    fn ids_are_stable_hex() {
        let id = function_id("quickstart::sync_compute");
        assert!(is_id(&id), "{id}");
        assert_eq!(id, function_id("quickstart::sync_compute"));
        assert_ne!(id, function_id("quickstart::async_compute"));
        // The id of a name must never change: recorded data is filed under it.
        assert_eq!(function_id(""), "2d06800538d394c2");
        assert!(!is_id("../../etc/passwd"));
        assert!(!is_id("2D06800538D394C2"));
    }

    #[test]
    fn outcome_ids_separate_their_parts() {
        assert_ne!(outcome_id(&["ab", "c"]), outcome_id(&["a", "bc"]));
        assert_eq!(outcome_id(&["a", "b"]), outcome_id(&["a", "b"]));
        let id = outcome_id(&["a"]);
        assert_eq!(parse_id(&id_hex(id)), Some(id));
    }
}
