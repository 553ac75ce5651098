//! Outcomes: what one call of a decorated function gave.
//!
//! [`Recorded`] is what a call gave (a value, an error, items or a panic),
//! as a codec encodes it and a test fixture keeps it. [`Outcome`] is a
//! recorded outcome of the data dir: the same content, with its id, its
//! arguments, how it came to be and how often it was seen.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::model::ids;

/// What an outcome holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum OutcomeKind {
    /// A returned value (for a `Result`, its `Ok` value).
    Return,
    /// The `Err` value of a function returning `Result`.
    #[serde(alias = "exception")]
    Error,
    /// The items an iterator or a stream gave, in order.
    Items,
    /// A panic of the function: its message and where it happened.
    Panic,
}

impl OutcomeKind {
    /// `return`, `error`, `items` or `panic`, as outcome files say.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Return => "return",
            OutcomeKind::Error => "error",
            OutcomeKind::Items => "items",
            OutcomeKind::Panic => "panic",
        }
    }

    /// An error or a panic: an exception, to the Python API, and an error
    /// in the stats.
    pub(crate) fn failed(self) -> bool {
        matches!(self, OutcomeKind::Error | OutcomeKind::Panic)
    }
}

impl std::fmt::Display for OutcomeKind {
    /// `return`, `error`, `items` or `panic`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// A recorded outcome, as [`Function::outcomes`](crate::Function::outcomes) lists it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct OutcomeInfo {
    /// The outcome's id: 16 lowercase hex characters, also its file name.
    pub id: String,
    /// A returned value, an error, the items of a sequence or a panic.
    pub kind: OutcomeKind,
    /// The key of the arguments it was recorded for: 32 lowercase hex characters.
    pub arg_key: String,
    /// The arguments, as canonical JSON: `{"n":3}`.
    pub args: String,
    /// The value, as JSON (or RON when JSON cannot hold it), cut at 200 characters.
    pub value_preview: String,
    /// When it was first recorded.
    pub recorded_at: SystemTime,
    /// When the same outcome was last recorded: a ttl counts its age from here.
    pub last_recorded_at: SystemTime,
    /// How long the call that first recorded it took.
    pub duration: Duration,
    /// How many calls gave this same outcome.
    pub count: u64,
    /// Added by hand, not recorded from a call.
    pub manual: bool,
    /// Replayed in mock mode only, never as a cache hit.
    pub mock_only: bool,
    /// The items of an iterator or stream dropped before its end: replayed
    /// in mock mode only.
    pub partial: bool,
    /// Recorded by another body of the function than the one its program
    /// registered last (drift): see `#[cacheow(on_change = ..)]`.
    pub body_changed: bool,
}

/// A value in one of the two encodings an outcome file can hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// Canonical JSON text.
    Json(Arc<str>),
    /// RON text, for values JSON cannot hold faithfully.
    Ron(Arc<str>),
}

impl Payload {
    /// The value's text, in its encoding.
    pub fn text(&self) -> &str {
        match self {
            Payload::Json(text) | Payload::Ron(text) => text,
        }
    }

    /// `json` or `ron`.
    pub fn encoding(&self) -> &'static str {
        match self {
            Payload::Json(_) => "json",
            Payload::Ron(_) => "ron",
        }
    }
}

/// What a call gave: a value, an error, the items of a sequence or a
/// panic, encoded. What a codec makes of a return value, and what a test
/// fixture keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// A value, an error, items or a panic.
    pub kind: OutcomeKind,
    /// The value in its encoding.
    pub payload: Payload,
    /// For errors, the error's type, as a label for people.
    pub error_type: Option<Cow<'static, str>>,
    /// The items of a sequence the caller stopped consuming before its end.
    pub partial: bool,
}

impl Recorded {
    /// A complete outcome of `kind`, without an error label.
    pub(crate) fn new(kind: OutcomeKind, payload: Payload) -> Recorded {
        Recorded { kind, payload, error_type: None, partial: false }
    }

    /// The same, labelled with the error's type.
    pub(crate) fn labelled(self, error_type: impl Into<Cow<'static, str>>) -> Recorded {
        Recorded { error_type: Some(error_type.into()), ..self }
    }
}

/// How an outcome came to be, besides what a call gave.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct Flags {
    /// Added by hand (the control panel, the API), not recorded from a call.
    pub(crate) manual: bool,
    /// Replayed in mock mode only, never as a cache hit.
    pub(crate) mock_only: bool,
}

/// What never changes about a recorded outcome and tells where it answers:
/// its id, the key of its arguments and its flags. What the index keeps of
/// it, besides how often and how lately it was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Facts {
    pub(crate) id: u64,
    pub(crate) arg_key: u128,
    pub(crate) flags: Flags,
    /// The items of a sequence its caller dropped before the end.
    pub(crate) partial: bool,
}

/// An outcome's facts with how often and how lately it was seen: what the
/// index is built from, and what a row of the database gives of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Indexed {
    pub(crate) facts: Facts,
    pub(crate) count: u64,
    /// When the same outcome was last recorded: the newest of its
    /// arguments, and the start of its age.
    pub(crate) last_recorded_ms: i64,
}

/// An outcome of the data dir, whole: what a call gave, with its id,
/// arguments and history. What is written and read back; the index keeps
/// only its [`Facts`].
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) id: u64,
    pub(crate) arg_key: u128,
    /// The arguments' canonical JSON text.
    pub(crate) args: Box<str>,
    /// `#[cacheow(key = f)]`: the key's canonical JSON text, which the
    /// argument key derives from instead of `args`.
    pub(crate) key: Option<Box<str>>,
    pub(crate) recorded: Recorded,
    pub(crate) flags: Flags,
    pub(crate) recorded_at_ms: i64,
    pub(crate) duration: Duration,
    /// The body hash of the function that recorded it, when known.
    pub(crate) body_hash: Option<Box<str>>,
    count: AtomicU64,
    last_seen_ms: AtomicI64,
    last_recorded_ms: AtomicI64,
}

impl Outcome {
    /// An outcome seen once, at `recorded_at_ms`. Its argument key derives
    /// from `args`, so that editing the arguments of a file re-files it.
    pub(crate) fn new(
        id: u64,
        args: impl Into<Box<str>>,
        recorded: Recorded,
        flags: Flags,
        recorded_at_ms: i64,
        duration: Duration,
    ) -> Outcome {
        let args = args.into();
        Outcome {
            id,
            arg_key: ids::arg_key(&args),
            args,
            key: None,
            recorded,
            flags,
            recorded_at_ms,
            duration,
            body_hash: None,
            count: AtomicU64::new(1),
            last_seen_ms: AtomicI64::new(recorded_at_ms),
            last_recorded_ms: AtomicI64::new(recorded_at_ms),
        }
    }

    /// The id of an outcome: a hash of what it holds and of its flags, so
    /// that a partial or hand-made outcome is not the recorded one, and that
    /// recording the same outcome twice gives the same id (and file name).
    pub(crate) fn id_of(args: &str, recorded: &Recorded, flags: Flags) -> u64 {
        let Recorded { kind, payload, partial, .. } = recorded;
        let mut parts = [kind.as_str(), args, payload.encoding(), payload.text(), "", "", ""];
        let mut len = 4;
        for (on, word) in [(flags.manual, "manual"), (flags.mock_only, "mock_only"), (*partial, "partial")] {
            if on {
                parts[len] = word;
                len += 1;
            }
        }
        ids::outcome_id(&parts[..len])
    }

    /// Recorded by a body of this hash.
    pub(crate) fn by_body(self, body_hash: Option<Box<str>>) -> Outcome {
        Outcome { body_hash, ..self }
    }

    /// The same outcome, answering the custom key `key` (canonical JSON
    /// text) rather than its arguments, when it has one.
    pub(crate) fn keyed(self, key: Option<Box<str>>) -> Outcome {
        match key {
            Some(key) => Outcome { arg_key: ids::arg_key(&key), key: Some(key), ..self },
            None => self,
        }
    }

    /// The same outcome under the id of what it holds: after an edit of its
    /// arguments, for instance.
    pub(crate) fn reidentified(self) -> Outcome {
        Outcome { id: Outcome::id_of(&self.args, &self.recorded, self.flags), ..self }
    }

    pub(crate) fn kind(&self) -> OutcomeKind {
        self.recorded.kind
    }

    pub(crate) fn payload(&self) -> &Payload {
        &self.recorded.payload
    }

    pub(crate) fn id_hex(&self) -> String {
        ids::id_hex(self.id)
    }

    pub(crate) fn facts(&self) -> Facts {
        Facts { id: self.id, arg_key: self.arg_key, flags: self.flags, partial: self.recorded.partial }
    }

    /// Its facts with its history.
    pub(crate) fn indexed(&self) -> Indexed {
        Indexed { facts: self.facts(), count: self.count(), last_recorded_ms: self.last_recorded_ms() }
    }

    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    pub(crate) fn last_seen_ms(&self) -> i64 {
        self.last_seen_ms.load(Ordering::Relaxed)
    }

    pub(crate) fn last_recorded_ms(&self) -> i64 {
        self.last_recorded_ms.load(Ordering::Relaxed)
    }

    /// Notes that the outcome was seen at `at_ms`, if that is later.
    pub(crate) fn seen_at(&self, at_ms: i64) {
        self.last_seen_ms.fetch_max(at_ms, Ordering::Relaxed);
    }

    /// The same outcome, recorded again at `at_ms` if that is later (as its
    /// file says): a sighting too.
    pub(crate) fn recorded_again_at(self, at_ms: i64) -> Outcome {
        self.last_recorded_ms.fetch_max(at_ms, Ordering::Relaxed);
        self.seen_at(at_ms);
        self
    }

    /// Takes the count, last sighting and last recording the database holds.
    pub(crate) fn with_history(self, count: u64, last_seen_ms: i64, last_recorded_ms: i64) -> Outcome {
        self.count.store(count, Ordering::Relaxed);
        self.seen_at(last_seen_ms);
        self.recorded_again_at(last_recorded_ms)
    }
}

/// The text cut at `max` characters, with an ellipsis when it was cut.
pub(crate) fn preview(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_cuts_on_characters() {
        assert_eq!(preview("héllo", 2), "hé…");
        assert_eq!(preview("hé", 2), "hé");
    }

    #[test]
    fn ids_depend_on_content_and_flags() {
        let recorded = Recorded::new(OutcomeKind::Return, Payload::Json("9".into()));
        let plain = Outcome::id_of("{}", &recorded, Flags::default());
        assert_eq!(plain, Outcome::id_of("{}", &recorded, Flags::default()));
        assert_ne!(plain, Outcome::id_of("{}", &recorded, Flags { manual: true, mock_only: false }));
        let partial = Recorded { partial: true, ..recorded.clone() };
        assert_ne!(plain, Outcome::id_of("{}", &partial, Flags::default()));
        // The label is not part of what an outcome is.
        assert_eq!(plain, Outcome::id_of("{}", &recorded.labelled("E"), Flags::default()));
    }
}
