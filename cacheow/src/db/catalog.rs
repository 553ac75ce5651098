//! What the control panel shows: the functions, their outcomes page by page
//! and their recent calls, read from the database.
// Without the panel and the command line, only the queries the runtime
// shares with them are used.
#![cfg_attr(not(feature = "server"), allow(dead_code))]

use rusqlite::{Connection, OptionalExtension, Row};

use super::Db;
use crate::Error;

impl Db {
    /// Every registered function, by path.
    pub(crate) fn functions(&self) -> Result<Vec<FunctionRow>, Error> {
        functions(&self.lock()?.conn)
    }

    /// The registered function with this id, if there is one.
    pub(crate) fn function(&self, function_id: &str) -> Result<Option<FunctionRow>, Error> {
        function(&self.lock()?.conn, function_id)
    }

    /// A page of a function's outcomes, newest first, and how many there are.
    pub(crate) fn outcomes_page(
        &self,
        function_id: &str,
        offset: u64,
        limit: u64,
    ) -> Result<(u64, Vec<OutcomeRow>), Error> {
        outcomes(&self.lock()?.conn, function_id, offset, limit)
    }

    /// The outcome files of a function that the last rebuild left out.
    pub(crate) fn corrupt_files(&self, function_id: &str) -> Result<Vec<(String, String)>, Error> {
        let control = self.lock()?;
        let mut statement = control
            .conn
            .prepare_cached("SELECT path, error FROM corrupt_files WHERE function_id = ?1 ORDER BY path")?;
        let rows = statement.query_map([function_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A function's most recent calls, newest first.
    pub(crate) fn recent_calls(&self, function_id: &str, limit: u64) -> Result<Vec<CallRow>, Error> {
        recent_calls(&self.lock()?.conn, function_id, limit)
    }
}

/// A registered function, with its mode, latency and stats.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FunctionRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) qualified_name: String,
    pub(crate) module_path: String,
    pub(crate) source: String,
    pub(crate) signature: String,
    pub(crate) kind: String,
    pub(crate) mode: String,
    pub(crate) latency_ms: f64,
    pub(crate) stale: bool,
    pub(crate) max_outcomes: Option<i64>,
    pub(crate) stats: StatsRow,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct StatsRow {
    pub(crate) total_calls: i64,
    pub(crate) cache_hits: i64,
    pub(crate) cache_misses: i64,
    pub(crate) mock_calls: i64,
    pub(crate) errors: i64,
    pub(crate) total_duration_ms: f64,
    pub(crate) last_called_at_ms: Option<i64>,
}

impl StatsRow {
    pub(crate) fn average_duration_ms(&self) -> f64 {
        if self.total_calls > 0 { self.total_duration_ms / self.total_calls as f64 } else { 0.0 }
    }
}

/// An outcome's row: its previews, not its payload.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OutcomeRow {
    pub(crate) id: String,
    pub(crate) kind: String,
    pub(crate) arg_key: String,
    pub(crate) args: String,
    pub(crate) value_preview: String,
    pub(crate) error_type: Option<String>,
    pub(crate) duration_ms: f64,
    pub(crate) recorded_at_ms: i64,
    pub(crate) count: i64,
    pub(crate) manual: bool,
    pub(crate) mock_only: bool,
    /// The items of a sequence its caller dropped before the end.
    pub(crate) partial: bool,
}

impl OutcomeRow {
    /// A manual outcome given without arguments: it answers any, in mock
    /// mode only.
    pub(crate) fn answers_any_args(&self) -> bool {
        self.manual && self.args == "null"
    }
}

/// One recent call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CallRow {
    pub(crate) id: i64,
    pub(crate) at_ms: i64,
    /// `recorded`, `hit`, `miss` or `mock`.
    pub(crate) event: String,
    pub(crate) duration_ms: f64,
    pub(crate) arg_key: String,
    pub(crate) outcome_id: Option<String>,
    /// The kind of the outcome it gave, while that outcome is recorded.
    pub(crate) outcome_kind: Option<String>,
}

const FUNCTION_COLUMNS: &str = "f.id, f.name, f.qualified_name, f.module_path, f.source, f.signature, f.kind, f.mode,
    f.latency_ms, f.stale, f.max_outcomes, s.total_calls, s.cache_hits, s.cache_misses, s.mock_calls, s.errors, s.total_duration_ms,
    s.last_called_at_ms
    FROM functions f LEFT JOIN stats s ON s.function_id = f.id";

fn function_row(row: &Row<'_>) -> rusqlite::Result<FunctionRow> {
    let count = |i| row.get::<_, Option<i64>>(i).map(Option::unwrap_or_default);
    Ok(FunctionRow {
        id: row.get(0)?,
        name: row.get(1)?,
        qualified_name: row.get(2)?,
        module_path: row.get(3)?,
        source: row.get(4)?,
        signature: row.get(5)?,
        kind: row.get(6)?,
        mode: row.get(7)?,
        latency_ms: row.get(8)?,
        stale: row.get(9)?,
        max_outcomes: row.get(10)?,
        stats: StatsRow {
            total_calls: count(11)?,
            cache_hits: count(12)?,
            cache_misses: count(13)?,
            mock_calls: count(14)?,
            errors: count(15)?,
            total_duration_ms: row.get::<_, Option<f64>>(16)?.unwrap_or_default(),
            last_called_at_ms: row.get(17)?,
        },
    })
}

/// The id and path of every function marked stale.
#[cfg(feature = "cli")]
pub(super) fn functions_marked_stale(conn: &Connection) -> Result<Vec<(String, String)>, Error> {
    let mut statement =
        conn.prepare_cached("SELECT id, qualified_name FROM functions WHERE stale = 1 ORDER BY qualified_name")?;
    let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The ids of every registered function.
pub(super) fn function_ids(conn: &Connection) -> Result<Vec<String>, Error> {
    let mut statement = conn.prepare_cached("SELECT id FROM functions")?;
    let rows = statement.query_map([], |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn functions(conn: &Connection) -> Result<Vec<FunctionRow>, Error> {
    let mut statement = conn.prepare_cached(&format!("SELECT {FUNCTION_COLUMNS} ORDER BY f.qualified_name"))?;
    let rows = statement.query_map([], function_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn function(conn: &Connection, function_id: &str) -> Result<Option<FunctionRow>, Error> {
    let mut statement = conn.prepare_cached(&format!("SELECT {FUNCTION_COLUMNS} WHERE f.id = ?1"))?;
    Ok(statement.query_row([function_id], function_row).optional()?)
}

pub(super) fn outcomes(
    conn: &Connection,
    function_id: &str,
    offset: u64,
    limit: u64,
) -> Result<(u64, Vec<OutcomeRow>), Error> {
    let total: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM outcomes WHERE function_id = ?1")?
        .query_row([function_id], |row| row.get(0))?;
    let mut statement = conn.prepare_cached(
        "SELECT id, kind, arg_key, args, value_preview, error_type, duration_ms, recorded_at_ms, count, manual, mock_only,
                partial
         FROM outcomes WHERE function_id = ?1 ORDER BY recorded_at_ms DESC, seq DESC LIMIT ?2 OFFSET ?3",
    )?;
    let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let rows = statement.query_map(rusqlite::params![function_id, clamp(limit), clamp(offset)], |row| {
        Ok(OutcomeRow {
            id: row.get(0)?,
            kind: row.get(1)?,
            arg_key: row.get(2)?,
            args: row.get(3)?,
            value_preview: row.get(4)?,
            error_type: row.get(5)?,
            duration_ms: row.get(6)?,
            recorded_at_ms: row.get(7)?,
            count: row.get(8)?,
            manual: row.get(9)?,
            mock_only: row.get(10)?,
            partial: row.get(11)?,
        })
    })?;
    Ok((u64::try_from(total).unwrap_or(0), rows.collect::<Result<_, _>>()?))
}

fn recent_calls(conn: &Connection, function_id: &str, limit: u64) -> Result<Vec<CallRow>, Error> {
    let mut statement = conn.prepare_cached(
        "SELECT c.id, c.at_ms, c.event, c.duration_ms, c.arg_key, c.outcome_id, o.kind FROM calls c
         LEFT JOIN outcomes o ON o.function_id = c.function_id AND o.id = c.outcome_id
         WHERE c.function_id = ?1 ORDER BY c.id DESC LIMIT ?2",
    )?;
    let rows =
        statement.query_map(rusqlite::params![function_id, i64::try_from(limit).unwrap_or(i64::MAX)], |row| {
            Ok(CallRow {
                id: row.get(0)?,
                at_ms: row.get(1)?,
                event: row.get(2)?,
                duration_ms: row.get(3)?,
                arg_key: row.get(4)?,
                outcome_id: row.get(5)?,
                outcome_kind: row.get(6)?,
            })
        })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
