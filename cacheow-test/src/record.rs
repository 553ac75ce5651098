//! Record modes, as VCR has them, for functions.

use std::fmt;
use std::str::FromStr;

/// What a test does with the calls its fixtures do not hold.
///
/// Chosen by `CACHEOW_RECORD`, else by the test (`#[cacheow_test(record =
/// "none")]`), else `None` when `CI` is set (to anything but empty, `false`
/// or `0`), else `Once`.
///
/// New modes may come: a `match` on it needs a `_` arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Record {
    /// Replay only: a call the fixtures do not hold fails the test.
    None,
    /// Replay what the fixtures hold; call and record what they lack.
    Once,
    /// Call everything and rewrite the test's fixtures: what this run did
    /// not use is removed.
    All,
    /// Call and record again every call of the functions whose fixtures
    /// were recorded by another body (drift: `cacheow fixtures --stale`
    /// lists them), removing what the new body no longer gives; replay the
    /// rest as `None` does.
    Stale,
    /// Call everything, like `All`, but write each new or changed outcome
    /// as a pending file beside the old one (and mark each one no longer
    /// given), for `cacheow fixtures review` to accept or reject. What did
    /// not change is left as it is.
    Review,
    /// Replay, like `None`, and also make each replayed call for real, end
    /// to end (decorated calls nested in it run for real too), comparing
    /// what it gives with the recording; fixtures never change. The report
    /// is `target/cacheow/verify/<test binary>.json`.
    Verify,
}

impl Record {
    /// `none`, `once`, `all`, `stale`, `review` or `verify`.
    pub fn as_str(self) -> &'static str {
        match self {
            Record::None => "none",
            Record::Once => "once",
            Record::All => "all",
            Record::Stale => "stale",
            Record::Review => "review",
            Record::Verify => "verify",
        }
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text is not a record mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRecord(pub String);

impl fmt::Display for UnknownRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown record mode `{}`: expected `none`, `once`, `all`, `stale`, `review` or `verify`", self.0)
    }
}

impl std::error::Error for UnknownRecord {}

impl FromStr for Record {
    type Err = UnknownRecord;

    fn from_str(text: &str) -> Result<Record, UnknownRecord> {
        match text.trim() {
            "none" => Ok(Record::None),
            "once" => Ok(Record::Once),
            "all" => Ok(Record::All),
            "stale" => Ok(Record::Stale),
            "review" => Ok(Record::Review),
            "verify" => Ok(Record::Verify),
            other => Err(UnknownRecord(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_its_names() {
        for record in [Record::None, Record::Once, Record::All, Record::Stale, Record::Review, Record::Verify] {
            assert_eq!(record.as_str().parse(), Ok(record));
        }
        assert_eq!(
            "twice".parse::<Record>().map_err(|e| e.to_string()),
            Err("unknown record mode `twice`: expected `none`, `once`, `all`, `stale`, `review` or `verify`".to_owned())
        );
    }
}
