//! Where the shared tier keeps things in Redis, under the prefix
//! (`cacheow:` by default). Every key of one function carries its id as a
//! hash tag, `{id}`, so that they live on one slot of a cluster and a
//! pipeline or a script may touch them together. Nothing needs `KEYS`: a
//! function's outcomes are listed from its set of ids. The newest outcome
//! of each arguments is kept twice, so that a pull is one `GET`.
//!
//! | Key | Type | Holds |
//! |---|---|---|
//! | `P{F}:o:<outcome id>` | string | the outcome, as its file's JSON (compressed past 64 KiB); expires with the ttl |
//! | `P{F}:a:<argument key>` | string | the newest outcome of these arguments: its id and when it was last recorded (16 hex digits each), then the same bytes; expires with the ttl |
//! | `P{F}:ids` | set | the ids of the function's outcomes |
//! | `P{F}:counts` | hash | id → how many times machines recorded it |
//! | `P{F}:f:<argument key>` | string | a call of these arguments in flight (`dedupe = "processes"`) |
//! | `Pfunctions` | hash | function id → its name and tags, as JSON |

use crate::model::ids;

/// The keys of one function, under one prefix.
pub(crate) struct Keys<'a> {
    prefix: &'a str,
    function_id: &'a str,
}

impl<'a> Keys<'a> {
    pub(crate) fn new(prefix: &'a str, function_id: &'a str) -> Keys<'a> {
        Keys { prefix, function_id }
    }

    pub(crate) fn function_id(&self) -> &'a str {
        self.function_id
    }

    fn key(&self, rest: &str) -> String {
        format!("{}{{{}}}:{rest}", self.prefix, self.function_id)
    }

    pub(crate) fn outcome(&self, id: u64) -> String {
        self.key(&format!("o:{}", ids::id_hex(id)))
    }

    /// The key of the outcome an id's text names, as Redis gave it.
    pub(crate) fn outcome_named(&self, id: &str) -> String {
        self.key(&format!("o:{id}"))
    }

    pub(crate) fn newest(&self, arg_key: u128) -> String {
        self.key(&format!("a:{}", ids::arg_key_hex(arg_key)))
    }

    pub(crate) fn in_flight(&self, arg_key: u128) -> String {
        self.key(&format!("f:{}", ids::arg_key_hex(arg_key)))
    }

    pub(crate) fn ids(&self) -> String {
        self.key("ids")
    }

    pub(crate) fn counts(&self) -> String {
        self.key("counts")
    }

    /// A `SCAN` pattern of every key of the function.
    pub(crate) fn every_key(&self) -> String {
        format!("{}{{{}}}:*", glob_escape(self.prefix), glob_escape(self.function_id))
    }
}

/// The hash of every function whose outcomes are shared.
pub(crate) fn functions(prefix: &str) -> String {
    format!("{prefix}functions")
}

/// `text` with the characters `SCAN MATCH` reads as a pattern escaped.
fn glob_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_a_function_carries_its_hash_tag() {
        let keys = Keys::new("cacheow:", "0123456789abcdef");
        assert_eq!(keys.outcome(0xff), "cacheow:{0123456789abcdef}:o:00000000000000ff");
        assert_eq!(keys.outcome_named("zz"), "cacheow:{0123456789abcdef}:o:zz");
        assert!(keys.newest(1).starts_with("cacheow:{0123456789abcdef}:a:"));
        assert_eq!(keys.ids(), "cacheow:{0123456789abcdef}:ids");
        assert_eq!(Keys::new("a*b:", "f").every_key(), "a\\*b:{f}:*");
        assert_eq!(functions("team:"), "team:functions");
    }
}
