//! The handle's reading and writing of one entry by its arguments (cachu's
//! `get` and `set`, cachier's `precache_value`): what a cache hit would
//! return now, and a value to return from now on.
//!
//! The arguments are given as the outcomes' `args` show them
//! (`json!({"id": 3})`), or as the key's JSON for a `key = ...` function.
//! A function returning `Result<T, E>` takes and gives the `Result`, for an
//! `E` that is a serde type; its `Ok` value is recorded as a return, its
//! `Err` value as an error, as its calls record them.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::model::canonical::canonical_json;
use crate::model::error::Error;
use crate::model::ids;
use crate::model::manual::ManualOutcome;
use crate::model::outcome::{OutcomeKind, Payload};
use crate::runtime::function::Function;

impl Function {
    /// What a cache hit would return now for these arguments, ttl included;
    /// `None` when there is none. It never calls the function. With
    /// cacheow off, `None`.
    ///
    /// `R` is checked against the function's return type once the function
    /// was called in this process.
    ///
    /// ```no_run
    /// # use cacheow::cacheow;
    /// #[cacheow(ttl = "10m")]
    /// fn fetch_user(id: u32) -> String { format!("user {id}") }
    ///
    /// # fn main() -> Result<(), cacheow::Error> {
    /// let f = cacheow::handle!(fetch_user);
    /// f.set(serde_json::json!({"id": 3}), &"Ann".to_owned())?;
    /// assert_eq!(f.get::<String>(serde_json::json!({"id": 3}))?.as_deref(), Some("Ann"));
    /// # Ok(()) }
    /// ```
    pub fn get<R: DeserializeOwned>(&self, args: Value) -> Result<Option<R>, Error> {
        self.check_return_type::<R>()?;
        let Some((_, state)) = self.state() else { return Ok(None) };
        let arg_key = ids::arg_key(&canonical_json(&args));
        let Some(replay) = state.cached(arg_key, self.meta().policy.ttl) else { return Ok(None) };
        self.read_as(replay.kind(), replay.payload()).map(Some)
    }

    /// Records `value` as the outcome of these arguments, by hand: from now
    /// on a cache hit, kept by retention, its age starting now. Its id.
    /// With cacheow off, does nothing.
    pub fn set<R: Serialize>(&self, args: Value, value: &R) -> Result<String, Error> {
        self.check_return_type::<R>()?;
        let value = serde_json::to_value(value)
            .map_err(|error| Error::InvalidOutcome { reason: format!("the value does not serialize: {error}") })?;
        let manual = match result_parts::<R>(value) {
            (OutcomeKind::Error, error) => ManualOutcome::error(error),
            (_, value) => ManualOutcome::returns(value),
        };
        self.add_manual_outcome(manual.for_args(args))
    }

    fn check_return_type<R>(&self) -> Result<(), Error> {
        let asked = std::any::type_name::<R>();
        match self.return_type() {
            Some(returns) if returns != asked => {
                Err(Error::WrongType { function: self.name().to_owned(), returns, asked })
            }
            _ => Ok(()),
        }
    }

    /// A recorded outcome as an `R`: a `Result` of it for a function
    /// returning one.
    fn read_as<R: DeserializeOwned>(&self, kind: OutcomeKind, payload: &Payload) -> Result<R, Error> {
        let unreadable = |reason: String| Error::InvalidOutcome {
            reason: format!(
                "the outcome of `{}` does not read as `{}`: {reason}",
                self.name(),
                std::any::type_name::<R>()
            ),
        };
        let Payload::Json(text) = payload else { return Err(unreadable("it is held in RON".to_owned())) };
        let value: Value = serde_json::from_str(text).map_err(|error| unreadable(error.to_string()))?;
        let value = match kind {
            OutcomeKind::Return if is_result::<R>() => json!({ "Ok": value }),
            OutcomeKind::Error => json!({ "Err": value }),
            OutcomeKind::Panic => return Err(unreadable("it is a recorded panic".to_owned())),
            _ => value,
        };
        serde_json::from_value(value).map_err(|error| unreadable(error.to_string()))
    }
}

/// Whether `R` is a `Result`, whose `Ok` and `Err` values are recorded apart.
fn is_result<R>() -> bool {
    std::any::type_name::<R>().starts_with("core::result::Result<")
}

/// A value of type `R` as it is recorded: a `Result`'s `Ok` value as a
/// return, its `Err` value as an error (serde writes them `{"Ok": ..}`).
fn result_parts<R>(value: Value) -> (OutcomeKind, Value) {
    match value {
        Value::Object(mut map) if is_result::<R>() && map.len() == 1 => match (map.remove("Ok"), map.remove("Err")) {
            (Some(ok), _) => (OutcomeKind::Return, ok),
            (None, Some(err)) => (OutcomeKind::Error, err),
            (None, None) => (OutcomeKind::Return, Value::Object(map)),
        },
        value => (OutcomeKind::Return, value),
    }
}
