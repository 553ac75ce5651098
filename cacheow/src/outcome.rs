//! Outcomes: what one call of a decorated function gave.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// What an outcome holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum OutcomeKind {
    /// A returned value (for a `Result`, its `Ok` value).
    Return,
    /// The `Err` value of a function returning `Result`.
    Error,
    /// The items an iterator or a stream gave, in order.
    Items,
    /// A panic of the function: its message and where it happened.
    Panic,
}

impl OutcomeKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Return => "return",
            OutcomeKind::Error => "error",
            OutcomeKind::Items => "items",
            OutcomeKind::Panic => "panic",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<OutcomeKind> {
        match text {
            "return" => Some(OutcomeKind::Return),
            "error" | "exception" => Some(OutcomeKind::Error),
            "items" => Some(OutcomeKind::Items),
            "panic" => Some(OutcomeKind::Panic),
            _ => None,
        }
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

/// How an outcome came to be, besides its content.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct Flags {
    /// Added by hand (the control panel, the API), not recorded from a call.
    pub(crate) manual: bool,
    /// Replayed in mock mode only, never as a cache hit.
    pub(crate) mock_only: bool,
    /// The items of an iterator or stream dropped before its end: replayed
    /// in mock mode, never as a cache hit.
    pub(crate) partial: bool,
}

impl Flags {
    /// Whether the outcome may answer a call in cache mode.
    pub(crate) fn cacheable(self) -> bool {
        !self.mock_only && !self.partial
    }

    /// The id of an outcome: a hash of what it holds and of its flags, so
    /// that a partial or hand-made outcome is not the recorded one.
    pub(crate) fn outcome_id(self, kind: OutcomeKind, args: &str, payload: &Payload) -> u64 {
        let mut parts = [kind.as_str(), args, payload.encoding(), payload.text(), "", "", ""];
        let mut len = 4;
        for (on, word) in [(self.manual, "manual"), (self.mock_only, "mock_only"), (self.partial, "partial")] {
            if on {
                parts[len] = word;
                len += 1;
            }
        }
        crate::ids::outcome_id(&parts[..len])
    }
}

/// What a replay needs of an outcome, cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Replay {
    pub(crate) id: u64,
    pub(crate) kind: OutcomeKind,
    pub(crate) payload: Payload,
}

/// An outcome in memory: everything needed to replay it without touching disk.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) id: u64,
    pub(crate) kind: OutcomeKind,
    pub(crate) arg_key: u128,
    /// The arguments' canonical JSON text.
    pub(crate) args: Box<str>,
    pub(crate) payload: Payload,
    /// For errors, the error's type, as a label for people.
    pub(crate) error_type: Option<Box<str>>,
    pub(crate) flags: Flags,
    pub(crate) recorded_at_ms: i64,
    pub(crate) duration: Duration,
    pub(crate) count: AtomicU64,
    pub(crate) last_seen_ms: AtomicI64,
}

impl Outcome {
    pub(crate) fn id_hex(&self) -> String {
        crate::ids::id_hex(self.id)
    }

    pub(crate) fn replay(&self) -> Replay {
        Replay { id: self.id, kind: self.kind, payload: self.payload.clone() }
    }

    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    pub(crate) fn last_seen_ms(&self) -> i64 {
        self.last_seen_ms.load(Ordering::Relaxed)
    }

    /// Counts one more call that gave this outcome.
    pub(crate) fn seen(&self, at_ms: i64) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.last_seen_ms.fetch_max(at_ms, Ordering::Relaxed);
    }

    pub(crate) fn info(&self) -> OutcomeInfo {
        OutcomeInfo {
            id: self.id_hex(),
            kind: self.kind,
            arg_key: crate::ids::arg_key_hex(self.arg_key),
            args: self.args.to_string(),
            value_preview: preview(self.payload.text(), 200),
            recorded_at: from_millis(self.recorded_at_ms),
            duration: self.duration,
            count: self.count(),
            manual: self.flags.manual,
            mock_only: self.flags.mock_only,
            partial: self.flags.partial,
        }
    }
}

/// The text cut at `max` characters, with an ellipsis when it was cut.
pub(crate) fn preview(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

pub(crate) fn now_millis() -> i64 {
    to_millis(SystemTime::now())
}

pub(crate) fn to_millis(time: SystemTime) -> i64 {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

pub(crate) fn from_millis(millis: i64) -> SystemTime {
    let magnitude = Duration::from_millis(millis.unsigned_abs());
    if millis >= 0 { SystemTime::UNIX_EPOCH + magnitude } else { SystemTime::UNIX_EPOCH - magnitude }
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
    fn millis_round_trip() {
        for millis in [0, 1_700_000_000_123, -5] {
            assert_eq!(to_millis(from_millis(millis)), millis);
        }
    }
}
