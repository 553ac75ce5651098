//! The arguments of a call: their canonical text and the key derived from it.

use serde::Serialize;

use crate::model::canonical::write_value;
use crate::model::{ids, report};

/// A type cacheow can put in a cache key.
#[diagnostic::on_unimplemented(
    message = "cacheow cannot use `{Self}` in a cache key",
    label = "this parameter's type must implement `serde::Serialize`",
    note = "derive `serde::Serialize` for it, or leave the parameter out of the key with `#[cacheow(skip)]`"
)]
pub trait KeyArg: Serialize {}

impl<T: ?Sized + Serialize> KeyArg for T {}

/// The arguments of one call.
#[derive(Debug, Clone)]
pub struct Args {
    /// `{"id":7,"name":"Ann"}`: names sorted, values canonical.
    pub(crate) text: String,
    pub(crate) key: u128,
}

impl Args {
    pub(crate) fn new(text: String) -> Args {
        let key = ids::arg_key(&text);
        Args { text, key }
    }
}

/// The arguments `write` adds; out of line, to keep decorated functions
/// small. An error when one could not be serialized.
#[inline(never)]
pub fn capture_args(write: impl FnOnce(&mut ArgsWriter)) -> Result<Args, Uncaptured> {
    let mut writer = ArgsWriter::default();
    write(&mut writer);
    writer.finish().ok_or(Uncaptured)
}

/// An argument of the call could not be serialized (a warning says which).
#[derive(Debug)]
pub struct Uncaptured;

/// Collects the arguments of a call, as `#[cacheow]` expands: one call of
/// [`arg`](Self::arg) per parameter, in the order of their names.
pub struct ArgsWriter {
    text: Vec<u8>,
    failed: bool,
}

impl Default for ArgsWriter {
    fn default() -> Self {
        ArgsWriter { text: Vec::with_capacity(32), failed: false }
    }
}

impl ArgsWriter {
    /// Adds one argument.
    pub fn arg<T: ?Sized + KeyArg>(&mut self, name: &'static str, value: &T) {
        self.text.push(if self.text.is_empty() { b'{' } else { b',' });
        // Parameter names are Rust identifiers: nothing to escape.
        self.text.push(b'"');
        self.text.extend_from_slice(name.as_bytes());
        self.text.extend_from_slice(b"\":");
        // Values JSON cannot hold still give a canonical text: a fine key.
        if let Err(error) = write_value(value, &mut self.text, &mut true) {
            self.failed = true;
            report::warn_once(
                "arg-serialize",
                format_args!("cacheow cannot serialize the argument `{name}` ({error}); the call runs uncached"),
            );
        }
    }

    /// The arguments, or `None` when one could not be serialized: the call
    /// then runs as if cacheow were off.
    pub fn finish(mut self) -> Option<Args> {
        if self.failed {
            return None;
        }
        if self.text.is_empty() {
            self.text.push(b'{');
        }
        self.text.push(b'}');
        let text =
            String::from_utf8(self.text).unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned());
        Some(Args::new(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn text_is_canonical_json() {
        let mut writer = ArgsWriter::default();
        writer.arg("id", &7u32);
        writer.arg("name", "Ann");
        let args = writer.finish().unwrap_or_else(|| Args::new(String::new()));
        assert_eq!(args.text, r#"{"id":7,"name":"Ann"}"#);
        assert_eq!(args.key, ids::arg_key(&args.text));
    }

    #[test]
    fn hash_map_arguments_give_one_key() {
        let keys: Vec<u128> = (0..10)
            .map(|_| {
                // Each map has its own random iteration order.
                let map: HashMap<String, usize> = (0..16).map(|i| (format!("k{i}"), i)).collect();
                let mut writer = ArgsWriter::default();
                writer.arg("m", &map);
                writer.finish().map(|args| args.key).unwrap_or_default()
            })
            .collect();
        assert!(keys.windows(2).all(|w| w[0] == w[1]));
    }

    #[test]
    fn no_arguments_is_an_empty_object() {
        assert_eq!(ArgsWriter::default().finish().map(|args| args.text), Some("{}".to_owned()));
    }
}
