//! Outcomes added by hand: a value, an error, the items of a sequence or a
//! panic that a function never gave, to replay in cache or mock mode.

use serde::Serialize;

use crate::model::canonical::to_canonical;
use crate::model::codec::{CodecError, encode_value};
use crate::model::error::Error;
use crate::model::items;
use crate::model::outcome::{Flags, Outcome, OutcomeKind, Payload, Recorded};

/// An outcome to add to a function by hand, with
/// [`Function::add_manual_outcome`](crate::Function::add_manual_outcome).
///
/// Without arguments it answers any call in mock mode, and none in cache
/// mode; [`for_args`](Self::for_args) makes it the cache hit of those
/// arguments.
///
/// ```no_run
/// use cacheow::{ManualOutcome, Mode};
///
/// #[cacheow::cacheow]
/// fn fetch_user(id: u32) -> Result<String, String> {
///     Ok(format!("user {id}"))
/// }
///
/// # fn main() -> Result<(), cacheow::Error> {
/// let f = cacheow::handle!(fetch_user);
/// f.add_manual_outcome(ManualOutcome::error("rate limited").mock_only())?;
/// f.add_manual_outcome(ManualOutcome::returns("Ann").for_args(serde_json::json!({ "id": 7 })))?;
/// f.set_mode(Mode::Cache)?;
/// assert_eq!(fetch_user(7), Ok("Ann".to_owned()));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ManualOutcome {
    pub(crate) kind: OutcomeKind,
    pub(crate) payload: Result<Payload, CodecError>,
    /// A label for people: never resolved to a type.
    pub(crate) error_type: Option<String>,
    /// The arguments it answers, as canonical JSON; `null` for any.
    pub(crate) args: Result<String, CodecError>,
    pub(crate) mock_only: bool,
}

impl ManualOutcome {
    fn new(kind: OutcomeKind, payload: Result<Payload, CodecError>) -> ManualOutcome {
        ManualOutcome { kind, payload, error_type: None, args: Ok("null".to_owned()), mock_only: false }
    }

    /// The function returns `value` (for a function returning `Result`, its
    /// `Ok` value).
    pub fn returns(value: impl Serialize) -> ManualOutcome {
        ManualOutcome::new(OutcomeKind::Return, encode_value(&value))
    }

    /// A function returning `Result` returns `Err(error)`. For
    /// `std::io::Error` and `anyhow::Error`, give the message: it replays
    /// as an error with that message.
    pub fn error(error: impl Serialize) -> ManualOutcome {
        ManualOutcome {
            error_type: Some("manual".to_owned()),
            ..ManualOutcome::new(OutcomeKind::Error, encode_value(&error))
        }
    }

    /// A function returning an iterator or a stream gives these items.
    pub fn items<T: Serialize>(items: impl IntoIterator<Item = T>) -> ManualOutcome {
        let encoded: Result<Vec<Recorded>, CodecError> = items
            .into_iter()
            .map(|item| encode_value(&item).map(|payload| Recorded::new(OutcomeKind::Return, payload)))
            .collect();
        ManualOutcome::new(OutcomeKind::Items, encoded.map(|items| items::encode(&items)))
    }

    /// The function panics with this message.
    pub fn panics(message: impl Into<String>) -> ManualOutcome {
        let record = serde_json::json!({ "message": message.into() });
        ManualOutcome {
            error_type: Some("panic".to_owned()),
            ..ManualOutcome::new(OutcomeKind::Panic, Ok(Payload::Json(record.to_string().into())))
        }
    }

    /// The arguments it answers, named as the function's parameters:
    /// `json!({ "id": 7 })`, or a struct with the same fields. It is then
    /// the cache hit of those arguments.
    pub fn for_args(mut self, args: impl Serialize) -> ManualOutcome {
        self.args = to_canonical(&args).map(|canonical| canonical.text).map_err(|error| CodecError(error.to_string()));
        self
    }

    /// Replays in mock mode only, never as a cache hit.
    pub fn mock_only(mut self) -> ManualOutcome {
        self.mock_only = true;
        self
    }

    /// A label for the error, shown in the control panel; never resolved to
    /// a type.
    pub fn error_type(mut self, label: impl Into<String>) -> ManualOutcome {
        self.error_type = Some(label.into());
        self
    }

    /// What it replays as: a value, an error, items or a panic.
    pub fn kind(&self) -> OutcomeKind {
        self.kind
    }

    /// The outcome it makes, added at `now_ms`; an error when its value or
    /// its arguments could not be encoded.
    pub(crate) fn into_outcome(self, now_ms: i64) -> Result<Outcome, Error> {
        let invalid = |error: CodecError| Error::InvalidOutcome { reason: error.to_string() };
        let recorded = Recorded {
            kind: self.kind,
            payload: self.payload.map_err(invalid)?,
            error_type: self.error_type.map(Into::into),
            partial: false,
        };
        let args = self.args.map_err(invalid)?;
        let flags = Flags { manual: true, mock_only: self.mock_only };
        let id = Outcome::id_of(&args, &recorded, flags);
        Ok(Outcome::new(id, args, recorded, flags, now_ms, std::time::Duration::ZERO))
    }
}
