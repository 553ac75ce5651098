//! How the model's enums and counts are stored: as the words the files
//! and the API use, and as SQLite's signed integers.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use crate::model::event::CallEvent;
use crate::model::kind::FunctionKind;
use crate::model::mode::Mode;
use crate::model::outcome::OutcomeKind;

/// A word stored in a text column, read back by `parse`.
fn read_word<T>(value: ValueRef<'_>, what: &str, parse: impl FnOnce(&str) -> Option<T>) -> FromSqlResult<T> {
    let text = value.as_str()?;
    parse(text).ok_or_else(|| FromSqlError::Other(format!("`{text}` is not {what}").into()))
}

impl ToSql for Mode {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

/// A mode this version does not know (a hand edit of the database, a
/// later version) is the default one: a function still runs, and refreshes
/// still apply the other functions' modes.
impl FromSql for Mode {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Ok(value.as_str()?.parse().unwrap_or_default())
    }
}

impl ToSql for OutcomeKind {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for OutcomeKind {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        read_word(value, "an outcome kind", |text| {
            [OutcomeKind::Return, OutcomeKind::Error, OutcomeKind::Items, OutcomeKind::Panic]
                .into_iter()
                .find(|kind| kind.as_str() == text)
        })
    }
}

impl ToSql for CallEvent {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for CallEvent {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        read_word(value, "a call event", CallEvent::parse)
    }
}

impl ToSql for FunctionKind {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

/// A kind this version does not know is shown as `unregistered`.
impl FromSql for FunctionKind {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Ok(FunctionKind::parse(value.as_str()?).unwrap_or(FunctionKind::Unregistered))
    }
}

/// A count, in SQLite's signed integers.
pub(crate) fn count(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// A count read back; a negative one (never written) is 0.
pub(crate) fn uncount(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_are_stored_as_their_words() -> rusqlite::Result<()> {
        let conn = rusqlite::Connection::open_in_memory()?;
        let (mode, kind, event, function): (Mode, OutcomeKind, CallEvent, FunctionKind) = conn.query_row(
            "SELECT ?1, ?2, ?3, ?4",
            rusqlite::params![Mode::Mock, OutcomeKind::Panic, CallEvent::Miss, FunctionKind::Stream],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )?;
        assert_eq!(
            (mode, kind, event, function),
            (Mode::Mock, OutcomeKind::Panic, CallEvent::Miss, FunctionKind::Stream)
        );
        let word: String = conn.query_row("SELECT ?1", [Mode::Cache], |row| row.get(0))?;
        assert_eq!(word, "cache");
        let unknown: (Mode, FunctionKind) =
            conn.query_row("SELECT 'sideways', 'coroutine'", [], |row| Ok((row.get(0)?, row.get(1)?)))?;
        assert_eq!(unknown, (Mode::Default, FunctionKind::Unregistered), "unknown words of a later version");
        let bad = conn.query_row("SELECT 'maybe'", [], |row| row.get::<_, OutcomeKind>(0));
        assert!(bad.is_err_and(|error| error.to_string().contains("`maybe` is not an outcome kind")));
        Ok(())
    }
}
