//! What calls did, in the database: the `stats` of every function (its
//! counts, their durations, the last call) and its most recent `calls`.
//! The runtime tallies calls in memory; the writer adds each batch here.

use std::collections::HashMap;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::model::error::Error;
use crate::model::event::{CallEvent, Stats};
use crate::model::ids;
use crate::model::outcome::OutcomeKind;
use crate::model::status::CallStatus;
use crate::model::time::as_millis_f64;
use crate::store::sql;

/// Recent calls kept per function, for the control panel.
pub(crate) const RECENT_CALLS: usize = 200;

/// A function's call counts, their durations added up, and when the last
/// call started: what the database holds, or what a batch adds to it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct CallTotals {
    pub(crate) counts: Stats,
    pub(crate) duration_ms: f64,
    /// Milliseconds since the Unix epoch.
    pub(crate) last_call_ms: Option<i64>,
}

impl CallTotals {
    #[cfg_attr(not(feature = "server"), allow(dead_code))] // shown by the panel
    pub(crate) fn average_duration_ms(&self) -> f64 {
        match self.counts.total_calls {
            0 => 0.0,
            calls => self.duration_ms / calls as f64,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        *self == CallTotals::default()
    }

    /// The totals in the columns of `stats` from `first` on.
    pub(crate) fn from_row(row: &Row<'_>, first: usize) -> rusqlite::Result<CallTotals> {
        let count = |i| row.get::<_, Option<i64>>(first + i).map(|n| n.map_or(0, sql::uncount));
        Ok(CallTotals {
            counts: Stats {
                total_calls: count(0)?,
                cache_hits: count(1)?,
                cache_misses: count(2)?,
                mock_calls: count(3)?,
                errors: count(4)?,
            },
            duration_ms: row.get::<_, Option<f64>>(first + 5)?.unwrap_or_default(),
            last_call_ms: row.get(first + 6)?,
        })
    }
}

/// One call, for the recent calls of the control panel.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecentCall {
    pub(crate) at_ms: i64,
    pub(crate) event: CallEvent,
    pub(crate) status: CallStatus,
    pub(crate) duration: Duration,
    pub(crate) arg_key: u128,
    pub(crate) outcome_id: Option<u64>,
}

/// What a function's calls did since the last batch.
#[derive(Debug, Default)]
pub(crate) struct CallBatch {
    pub(crate) totals: CallTotals,
    pub(crate) recent: Vec<RecentCall>,
    /// Outcome id → (calls that recorded it again, when last).
    pub(crate) repeats: HashMap<u64, (u64, i64)>,
}

impl CallBatch {
    pub(crate) fn is_empty(&self) -> bool {
        self.totals.is_empty() && self.recent.is_empty() && self.repeats.is_empty()
    }
}

/// A function's call counts.
pub(crate) fn stats(conn: &Connection, function_id: &str) -> Result<Stats, Error> {
    let totals = conn
        .prepare_cached(
            "SELECT total_calls, cache_hits, cache_misses, mock_calls, errors, total_duration_ms, last_called_at_ms
             FROM stats WHERE function_id = ?1",
        )?
        .query_row([function_id], |row| CallTotals::from_row(row, 0))
        .optional()?;
    Ok(totals.unwrap_or_default().counts)
}

/// Adds a function's batch of calls: counts, repeats, hits and recent
/// calls. The repeats of outcomes that have no row yet come back.
pub(crate) fn add(conn: &Connection, function_id: &str, batch: &CallBatch) -> Result<HashMap<u64, (u64, i64)>, Error> {
    let mut unmatched = HashMap::new();
    for (id, (count, last_seen)) in &batch.repeats {
        if !repeat(conn, function_id, *id, *count, *last_seen)? {
            unmatched.insert(*id, (*count, *last_seen));
        }
    }
    if !batch.totals.is_empty() {
        add_totals(conn, function_id, &batch.totals)?;
    }
    if !batch.recent.is_empty() {
        add_recent(conn, function_id, &batch.recent)?;
    }
    Ok(unmatched)
}

/// Counts `count` more calls that gave an outcome; `false` when it has no
/// row.
pub(crate) fn repeat(
    conn: &Connection,
    function_id: &str,
    outcome_id: u64,
    count: u64,
    last_seen: i64,
) -> Result<bool, Error> {
    let changed = conn
        .prepare_cached(
            "UPDATE outcomes SET count = count + ?3, last_seen_ms = max(last_seen_ms, ?4),
                 last_recorded_ms = max(coalesce(last_recorded_ms, 0), ?4)
             WHERE function_id = ?1 AND id = ?2",
        )?
        .execute(params![function_id, ids::id_hex(outcome_id), sql::count(count), last_seen])?;
    Ok(changed > 0)
}

fn add_totals(conn: &Connection, function_id: &str, totals: &CallTotals) -> Result<(), Error> {
    let counts = &totals.counts;
    conn.prepare_cached(
        "INSERT INTO stats (function_id, total_calls, cache_hits, cache_misses, mock_calls, errors,
                            total_duration_ms, last_called_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (function_id) DO UPDATE SET total_calls = total_calls + excluded.total_calls,
             cache_hits = cache_hits + excluded.cache_hits, cache_misses = cache_misses + excluded.cache_misses,
             mock_calls = mock_calls + excluded.mock_calls, errors = errors + excluded.errors,
             total_duration_ms = total_duration_ms + excluded.total_duration_ms,
             last_called_at_ms = coalesce(max(last_called_at_ms, excluded.last_called_at_ms),
                                          last_called_at_ms, excluded.last_called_at_ms)",
    )?
    .execute(params![
        function_id,
        sql::count(counts.total_calls),
        sql::count(counts.cache_hits),
        sql::count(counts.cache_misses),
        sql::count(counts.mock_calls),
        sql::count(counts.errors),
        totals.duration_ms,
        totals.last_call_ms,
    ])?;
    Ok(())
}

/// Adds the recent calls, keeping the newest [`RECENT_CALLS`]. A hit marks
/// its outcome as seen, for retention: only those among the recent calls a
/// batch keeps, but an outcome hit often is among them.
fn add_recent(conn: &Connection, function_id: &str, recent: &[RecentCall]) -> Result<(), Error> {
    let mut add_call = conn.prepare_cached(
        "INSERT INTO calls (function_id, at_ms, event, duration_ms, arg_key, outcome_id, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut hits: HashMap<u64, i64> = HashMap::new();
    for call in recent {
        if let (CallEvent::Hit, Some(outcome_id)) = (call.event, call.outcome_id) {
            let seen = hits.entry(outcome_id).or_insert(call.at_ms);
            *seen = (*seen).max(call.at_ms);
        }
        add_call.execute(params![
            function_id,
            call.at_ms,
            call.event,
            as_millis_f64(call.duration),
            ids::arg_key_hex(call.arg_key),
            call.outcome_id.map(ids::id_hex),
            call.status.as_str(),
        ])?;
    }
    let mut hit = conn.prepare_cached(
        "UPDATE outcomes SET last_seen_ms = max(last_seen_ms, ?3) WHERE function_id = ?1 AND id = ?2",
    )?;
    for (outcome_id, at_ms) in hits {
        hit.execute(params![function_id, ids::id_hex(outcome_id), at_ms])?;
    }
    conn.prepare_cached(
        "DELETE FROM calls WHERE function_id = ?1 AND id <= (
             SELECT id FROM calls WHERE function_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
    )?
    .execute(params![function_id, sql::count(RECENT_CALLS as u64)])?;
    Ok(())
}

/// One recent call, as the database holds it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CallRow {
    pub(crate) id: i64,
    pub(crate) at_ms: i64,
    pub(crate) event: CallEvent,
    pub(crate) duration_ms: f64,
    pub(crate) arg_key: String,
    pub(crate) outcome_id: Option<String>,
    /// The kind of the outcome it gave, while that outcome is recorded.
    pub(crate) outcome_kind: Option<OutcomeKind>,
    /// What it did; none for a call an older cacheow logged.
    pub(crate) status: Option<CallStatus>,
}

impl CallRow {
    /// What it did; for a call an older cacheow logged, what its event says.
    #[cfg_attr(not(feature = "server"), allow(dead_code))] // shown by the panel
    pub(crate) fn status(&self) -> CallStatus {
        self.status.unwrap_or(match self.event {
            CallEvent::Hit => CallStatus::Hit,
            CallEvent::Mock => CallStatus::Mock,
            event => CallStatus::of_record(event),
        })
    }

    /// Whether the call gave an error or a panic.
    #[cfg_attr(not(feature = "server"), allow(dead_code))] // shown by the panel
    pub(crate) fn failed(&self) -> bool {
        self.outcome_kind.is_some_and(OutcomeKind::failed)
    }
}

/// A function's most recent calls, newest first.
pub(crate) fn recent(conn: &Connection, function_id: &str, limit: u64) -> Result<Vec<CallRow>, Error> {
    let mut statement = conn.prepare_cached(
        "SELECT c.id, c.at_ms, c.event, c.duration_ms, c.arg_key, c.outcome_id, o.kind, c.status FROM calls c
         LEFT JOIN outcomes o ON o.function_id = c.function_id AND o.id = c.outcome_id
         WHERE c.function_id = ?1 ORDER BY c.id DESC LIMIT ?2",
    )?;
    let rows = statement.query_map(params![function_id, sql::count(limit)], |row| {
        Ok(CallRow {
            id: row.get(0)?,
            at_ms: row.get(1)?,
            event: row.get(2)?,
            duration_ms: row.get(3)?,
            arg_key: row.get(4)?,
            outcome_id: row.get(5)?,
            outcome_kind: row.get(6)?,
            status: row.get::<_, Option<String>>(7)?.as_deref().and_then(CallStatus::parse),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_called(conn: &Connection) -> Option<i64> {
        conn.query_row("SELECT last_called_at_ms FROM stats WHERE function_id = 'f'", [], |row| row.get(0))
            .unwrap_or(None)
    }

    #[test]
    fn a_batch_without_a_call_time_keeps_the_last_one() -> Result<(), Error> {
        let dir = tempfile::tempdir().map_err(|e| Error::Io { action: "create", path: "tmp".into(), source: e })?;
        let conn = crate::store::schema::open(dir.path())?;
        let counted = |last_call_ms| CallTotals {
            counts: Stats { total_calls: 1, ..Stats::default() },
            duration_ms: 1.0,
            last_call_ms,
        };
        // A drain can take a call's count before its time: the next batch has it.
        add_totals(&conn, "f", &counted(None))?;
        assert_eq!(last_called(&conn), None);
        add_totals(&conn, "f", &counted(Some(5)))?;
        add_totals(&conn, "f", &counted(None))?;
        assert_eq!(last_called(&conn), Some(5));
        add_totals(&conn, "f", &counted(Some(3)))?;
        assert_eq!(last_called(&conn), Some(5), "the latest wins");
        assert_eq!(stats(&conn, "f")?.total_calls, 4);
        Ok(())
    }
}
