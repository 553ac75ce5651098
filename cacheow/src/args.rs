//! The arguments of a call: their canonical text and the key derived from it.

use serde::Serialize;

use crate::canonical::write_value;
use crate::ids;

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

/// Collects the arguments of a call, as `#[cacheow]` expands.
#[derive(Default)]
pub struct ArgsWriter {
    entries: Vec<(&'static str, Vec<u8>)>,
    failed: bool,
}

impl ArgsWriter {
    /// An empty writer.
    pub fn new() -> Self {
        ArgsWriter::default()
    }

    /// Adds one argument.
    pub fn arg<T: ?Sized + KeyArg>(&mut self, name: &'static str, value: &T) {
        let mut text = Vec::with_capacity(16);
        // Values JSON cannot hold still give a canonical text: a fine key.
        match write_value(value, &mut text, &mut true) {
            Ok(()) => self.entries.push((name, text)),
            Err(error) => {
                self.failed = true;
                crate::warn_once::warn_once(
                    "arg-serialize",
                    format_args!("cacheow cannot serialize the argument `{name}` ({error}); the call runs uncached"),
                );
            }
        }
    }

    /// The arguments, or `None` when one could not be serialized: the call
    /// then runs as if cacheow were off.
    pub fn finish(mut self) -> Option<Args> {
        if self.failed {
            return None;
        }
        self.entries.sort_unstable_by_key(|(name, _)| *name);
        let len = self.entries.iter().map(|(name, value)| name.len() + value.len() + 4).sum::<usize>() + 2;
        let mut text = Vec::with_capacity(len);
        text.push(b'{');
        for (i, (name, value)) in self.entries.iter().enumerate() {
            if i > 0 {
                text.push(b',');
            }
            // Parameter names are Rust identifiers: nothing to escape.
            text.push(b'"');
            text.extend_from_slice(name.as_bytes());
            text.extend_from_slice(b"\":");
            text.extend_from_slice(value);
        }
        text.push(b'}');
        let text =
            String::from_utf8(text).unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned());
        Some(Args::new(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn text_is_sorted_canonical_json() {
        let mut writer = ArgsWriter::new();
        writer.arg("name", "Ann");
        writer.arg("id", &7u32);
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
                let mut writer = ArgsWriter::new();
                writer.arg("m", &map);
                writer.finish().map(|args| args.key).unwrap_or_default()
            })
            .collect();
        assert!(keys.windows(2).all(|w| w[0] == w[1]));
    }

    #[test]
    fn no_arguments_is_an_empty_object() {
        assert_eq!(ArgsWriter::new().finish().map(|args| args.text), Some("{}".to_owned()));
    }
}
