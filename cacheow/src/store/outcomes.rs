//! The `outcomes` table, the index of the outcome files: what each holds
//! in preview, how often and how lately it was seen. The files are the
//! truth; these rows are what can be counted, sorted and paged.
//!
//! A change made by hand bumps the function's generation, so that other
//! processes reload its outcomes.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::model::error::Error;
use crate::model::ids;
use crate::model::outcome::{Outcome, OutcomeKind, preview};
use crate::model::time::{as_millis_f64, now_millis};
use crate::store::files::{self, CorruptFile};
use crate::store::sql;

/// An outcome's row: its previews, not its payload.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OutcomeRow {
    pub(crate) id: String,
    pub(crate) kind: OutcomeKind,
    pub(crate) arg_key: String,
    pub(crate) args: String,
    pub(crate) value_preview: String,
    pub(crate) error_type: Option<String>,
    pub(crate) duration_ms: f64,
    pub(crate) recorded_at_ms: i64,
    pub(crate) count: u64,
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

/// A page of a function's outcomes, newest first; the function's row
/// counts them all.
pub(crate) fn page(conn: &Connection, function_id: &str, offset: u64, limit: u64) -> Result<Vec<OutcomeRow>, Error> {
    let mut statement = conn.prepare_cached(
        "SELECT id, kind, arg_key, args, value_preview, error_type, duration_ms, recorded_at_ms, count, manual, mock_only,
                partial
         FROM outcomes WHERE function_id = ?1 ORDER BY recorded_at_ms DESC, seq DESC LIMIT ?2 OFFSET ?3",
    )?;
    let rows = statement.query_map(params![function_id, sql::count(limit), sql::count(offset)], |row| {
        Ok(OutcomeRow {
            id: row.get(0)?,
            kind: row.get(1)?,
            arg_key: row.get(2)?,
            args: row.get(3)?,
            value_preview: row.get(4)?,
            error_type: row.get(5)?,
            duration_ms: row.get(6)?,
            recorded_at_ms: row.get(7)?,
            count: sql::uncount(row.get(8)?),
            manual: row.get(9)?,
            mock_only: row.get(10)?,
            partial: row.get(11)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What the rows know of an outcome that its file does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct History {
    pub(crate) count: u64,
    pub(crate) last_seen_ms: i64,
}

/// The history of each of a function's outcomes, by outcome id.
pub(crate) fn histories(conn: &Connection, function_id: &str) -> Result<HashMap<u64, History>, Error> {
    let mut statement = conn.prepare_cached("SELECT id, count, last_seen_ms FROM outcomes WHERE function_id = ?1")?;
    let rows = statement
        .query_map([function_id], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?, row.get::<_, i64>(2)?)))?;
    let mut out = HashMap::new();
    for row in rows {
        let (id, count, last_seen_ms) = row?;
        if let Some(id) = ids::parse_id(&id) {
            out.insert(id, History { count: u64::try_from(count).unwrap_or(1), last_seen_ms });
        }
    }
    Ok(out)
}

/// Inserts an outcome's row, counting `calls` calls that gave it (0 for an
/// outcome found on disk, which another process may be about to count).
pub(crate) fn insert(conn: &Connection, function_id: &str, outcome: &Outcome, calls: u64) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO outcomes (function_id, id, kind, arg_key, args, encoding, value_preview, error_type,
                               duration_ms, recorded_at_ms, last_seen_ms, count, manual, mock_only, partial)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         ON CONFLICT (function_id, id) DO UPDATE SET count = count + excluded.count,
             last_seen_ms = max(last_seen_ms, excluded.last_seen_ms)",
    )?
    .execute(params![
        function_id,
        outcome.id_hex(),
        outcome.kind(),
        ids::arg_key_hex(outcome.arg_key),
        &*outcome.args,
        outcome.payload().encoding(),
        preview(outcome.payload().text(), 200),
        outcome.recorded.error_type.as_deref(),
        as_millis_f64(outcome.duration),
        outcome.recorded_at_ms,
        outcome.last_seen_ms().max(outcome.recorded_at_ms),
        sql::count(calls),
        outcome.flags.manual,
        outcome.flags.mock_only,
        outcome.recorded.partial,
    ])?;
    // Its file is written: whatever corrupt file stood there is gone.
    let path = files::outcome_path(Path::new(""), function_id, outcome.id);
    conn.prepare_cached("DELETE FROM corrupt_files WHERE function_id = ?1 AND path = ?2")?
        .execute(params![function_id, path.display().to_string()])?;
    Ok(())
}

/// Changes a function's outcome rows in one transaction, and tells other
/// processes to reload them.
fn change(
    conn: &mut Connection,
    function_id: &str,
    change: impl FnOnce(&Connection) -> Result<(), Error>,
) -> Result<(), Error> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    change(&tx)?;
    tx.execute("UPDATE functions SET generation = generation + 1 WHERE id = ?1", [function_id])?;
    tx.commit()?;
    Ok(())
}

/// Replaces the row of the outcome `old_id` with one of `outcome`, which
/// may have another id, keeping its count and its mock entry.
pub(crate) fn replace(conn: &mut Connection, function_id: &str, old_id: u64, outcome: &Outcome) -> Result<(), Error> {
    change(conn, function_id, |tx| {
        let old = ids::id_hex(old_id);
        let count: i64 = tx
            .query_row(
                "SELECT count FROM outcomes WHERE function_id = ?1 AND id = ?2",
                params![function_id, old],
                |row| row.get(0),
            )
            .optional()?
            .unwrap_or(1);
        tx.execute("DELETE FROM outcomes WHERE function_id = ?1 AND id = ?2", params![function_id, old])?;
        tx.execute(
            "UPDATE mock_outcomes SET outcome_id = ?3 WHERE function_id = ?1 AND outcome_id = ?2",
            params![function_id, old, outcome.id_hex()],
        )?;
        insert(tx, function_id, outcome, sql::uncount(count))
    })
}

/// Deletes an outcome's row and its mock entry.
pub(crate) fn delete(conn: &mut Connection, function_id: &str, outcome_id: u64) -> Result<(), Error> {
    change(conn, function_id, |tx| delete_rows(tx, function_id, &[outcome_id]))
}

/// Deletes a function's outcome rows and mock entries.
pub(crate) fn delete_all(conn: &mut Connection, function_id: &str) -> Result<(), Error> {
    change(conn, function_id, |tx| {
        tx.execute("DELETE FROM outcomes WHERE function_id = ?1", [function_id])?;
        tx.execute("DELETE FROM mock_outcomes WHERE function_id = ?1", [function_id])?;
        Ok(())
    })
}

/// Deletes outcome rows and their mock entries, without telling other
/// processes: they keep what they loaded until they next load it.
pub(crate) fn forget(conn: &mut Connection, function_id: &str, outcomes: &[u64]) -> Result<(), Error> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    delete_rows(&tx, function_id, outcomes)?;
    tx.commit()?;
    Ok(())
}

fn delete_rows(conn: &Connection, function_id: &str, outcomes: &[u64]) -> Result<(), Error> {
    for id in outcomes {
        let id = ids::id_hex(*id);
        conn.execute("DELETE FROM outcomes WHERE function_id = ?1 AND id = ?2", params![function_id, id])?;
        conn.execute("DELETE FROM mock_outcomes WHERE function_id = ?1 AND outcome_id = ?2", params![function_id, id])?;
    }
    Ok(())
}

/// Replaces a function's outcome rows with rows made from `outcomes`,
/// keeping the counts of those that had one, and its marks of corrupt files
/// with `corrupt` (paths within the data dir); mock entries of outcomes
/// that are gone are dropped.
pub(crate) fn rebuild(
    conn: &mut Connection,
    function_id: &str,
    outcomes: &[Outcome],
    corrupt: &[CorruptFile],
) -> Result<(), Error> {
    change(conn, function_id, |tx| {
        tx.execute("DELETE FROM corrupt_files WHERE function_id = ?1", [function_id])?;
        for file in corrupt {
            tx.execute(
                "INSERT OR REPLACE INTO corrupt_files (function_id, path, error, found_at_ms) VALUES (?1, ?2, ?3, ?4)",
                params![function_id, file.path.display().to_string(), file.error, now_millis()],
            )?;
        }
        let histories = histories(tx, function_id)?;
        tx.execute("DELETE FROM outcomes WHERE function_id = ?1", [function_id])?;
        for outcome in outcomes {
            // The files say when each was recorded; the rows, how often and
            // how lately it was seen since.
            let mut count = 1;
            if let Some(history) = histories.get(&outcome.id) {
                count = history.count;
                outcome.seen_at(history.last_seen_ms);
            }
            insert(tx, function_id, outcome, count)?;
        }
        tx.execute(
            "DELETE FROM mock_outcomes WHERE function_id = ?1
             AND outcome_id NOT IN (SELECT id FROM outcomes WHERE function_id = ?1)",
            [function_id],
        )?;
        Ok(())
    })
}

/// Makes the rows of a function's outcomes match its files: the files are
/// the truth, and people edit, copy and delete them by hand.
pub(crate) fn reconcile(
    conn: &mut Connection,
    function_id: &str,
    missing_rows: &[&Outcome],
    missing_files: &[u64],
) -> Result<(), Error> {
    if missing_rows.is_empty() && missing_files.is_empty() {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for outcome in missing_rows {
        insert(&tx, function_id, outcome, 0)?;
    }
    for id in missing_files {
        tx.execute("DELETE FROM outcomes WHERE function_id = ?1 AND id = ?2", params![function_id, ids::id_hex(*id)])?;
    }
    tx.commit()?;
    Ok(())
}

/// The outcomes added since sequence number `after`, as (function id,
/// outcome id), and the newest number.
pub(crate) fn added_since(conn: &Connection, after: i64) -> Result<(Vec<(String, u64)>, i64), Error> {
    let mut statement = conn.prepare_cached("SELECT seq, function_id, id FROM outcomes WHERE seq > ?1 ORDER BY seq")?;
    let rows = statement
        .query_map([after], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?)))?;
    let mut newest = after;
    let mut out = Vec::new();
    for row in rows {
        let (seq, function_id, id) = row?;
        newest = newest.max(seq);
        if let Some(id) = ids::parse_id(&id) {
            out.push((function_id, id));
        }
    }
    Ok((out, newest))
}

pub(crate) fn newest_seq(conn: &Connection) -> Result<i64, Error> {
    Ok(conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM outcomes", [], |row| row.get(0))?)
}

/// The recorded outcomes of a function beyond the `keep` seen (recorded
/// again, or hit) most recently. Hand-made outcomes and those the mock
/// weights list were chosen by someone: they are kept, and not counted.
pub(crate) fn oldest_beyond(conn: &Connection, function_id: &str, keep: u64) -> Result<Vec<u64>, Error> {
    let mut statement = conn.prepare_cached(
        "SELECT id FROM outcomes WHERE function_id = ?1 AND manual = 0
             AND id NOT IN (SELECT outcome_id FROM mock_outcomes WHERE function_id = ?1)
         ORDER BY last_seen_ms DESC, seq DESC LIMIT -1 OFFSET ?2",
    )?;
    let rows = statement.query_map(params![function_id, sql::count(keep)], |row| row.get::<_, String>(0))?;
    Ok(rows.filter_map(|row| row.ok().and_then(|id| ids::parse_id(&id))).collect())
}

/// The outcome files of a function that the last rebuild left out, with
/// their paths within the data dir.
pub(crate) fn corrupt_files(conn: &Connection, function_id: &str) -> Result<Vec<CorruptFile>, Error> {
    let mut statement =
        conn.prepare_cached("SELECT path, error FROM corrupt_files WHERE function_id = ?1 ORDER BY path")?;
    let rows = statement.query_map([function_id], |row| {
        Ok(CorruptFile { path: row.get::<_, String>(0)?.into(), error: row.get(1)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
