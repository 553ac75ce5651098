//! The arguments of a call: their canonical text and the key derived from it.

use serde::Serialize;

use crate::model::canonical::write_value;
use crate::model::redact::Redaction;
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
    /// The hash of the text, or of the custom key's.
    pub(crate) key: u128,
    /// `#[cacheow(key = f)]`: the canonical text of what `f` returned.
    pub(crate) key_text: Option<Box<str>>,
}

impl Args {
    pub(crate) fn new(text: String) -> Args {
        let key = ids::arg_key(&text);
        Args { text, key, key_text: None }
    }

    /// The same arguments with the fields named `fields` replaced by
    /// `[redacted]` (`#[cacheow(redact(...))]`): in the data dir, and in the
    /// key, so that a key read back from the disk is the same.
    pub fn redacted(self, fields: &[&str]) -> Args {
        if fields.is_empty() {
            return self;
        }
        let redaction = Redaction::of_fields(fields.iter().copied());
        let text = redaction.json(&self.text);
        let key_text = self.key_text.map(|key| Box::from(redaction.json(&key)));
        let key = ids::arg_key(key_text.as_deref().unwrap_or(&text));
        Args { text, key, key_text }
    }

    /// The same arguments, keyed by `key` (what `#[cacheow(key = f)]`'s `f`
    /// returned) instead of themselves. An error when it could not be
    /// serialized (a warning says so).
    pub fn keyed_by<K: ?Sized + KeyArg>(self, key: &K) -> Result<Args, Uncaptured> {
        let mut text = Vec::new();
        if let Err(error) = write_value(key, &mut text, &mut true) {
            report::warn_once(
                "key-serialize",
                format_args!(
                    "cacheow cannot serialize the key its `key` function gave ({error}); the call runs uncached"
                ),
            );
            return Err(Uncaptured);
        }
        let text = String::from_utf8_lossy(&text).into_owned();
        Ok(Args { key: ids::arg_key(&text), key_text: Some(text.into()), ..self })
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
    fn a_custom_key_replaces_the_arguments_key_and_keeps_their_text() {
        let mut writer = ArgsWriter::default();
        writer.arg("id", &7u32);
        let args = writer.finish().map(|args| args.keyed_by("user-7")).and_then(Result::ok);
        let args = args.unwrap_or_else(|| Args::new(String::new()));
        assert_eq!((args.text.as_str(), args.key_text.as_deref()), (r#"{"id":7}"#, Some(r#""user-7""#)));
        assert_eq!(args.key, ids::arg_key(r#""user-7""#));
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
