//! `<data_dir>/cacheow.db`: registrations, modes, latencies, mock weights,
//! stats, the outcome index and recent calls. SQLite in WAL mode, shared by
//! every process that uses the data dir.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::index::MockEntry;
use crate::outcome::{Outcome, now_millis, preview};
use crate::{Error, Mode, Stats, files, ids};

/// How long a writer waits for another process's transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS functions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    qualified_name TEXT NOT NULL,
    module_path TEXT NOT NULL,
    crate_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    signature TEXT NOT NULL,
    source TEXT NOT NULL,
    mode TEXT NOT NULL DEFAULT 'default',
    latency_ms REAL NOT NULL DEFAULT 0,
    stale INTEGER NOT NULL DEFAULT 0,
    -- The program that registered it last, by executable name.
    registered_by TEXT NOT NULL DEFAULT '',
    -- Bumped when outcomes are deleted, so other processes reload theirs.
    generation INTEGER NOT NULL DEFAULT 0,
    -- The most outcomes kept; the oldest go first. NULL: no cap.
    max_outcomes INTEGER,
    registered_at_ms INTEGER NOT NULL,
    last_seen_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS stats (
    function_id TEXT PRIMARY KEY,
    total_calls INTEGER NOT NULL DEFAULT 0,
    cache_hits INTEGER NOT NULL DEFAULT 0,
    cache_misses INTEGER NOT NULL DEFAULT 0,
    mock_calls INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    total_duration_ms REAL NOT NULL DEFAULT 0,
    last_called_at_ms INTEGER
);
CREATE TABLE IF NOT EXISTS outcomes (
    -- Grows with every new row: other processes read what is new since the
    -- last sequence number they saw.
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    function_id TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    arg_key TEXT NOT NULL,
    args TEXT NOT NULL,
    encoding TEXT NOT NULL,
    value_preview TEXT NOT NULL,
    error_type TEXT,
    duration_ms REAL NOT NULL,
    recorded_at_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    manual INTEGER NOT NULL DEFAULT 0,
    mock_only INTEGER NOT NULL DEFAULT 0,
    partial INTEGER NOT NULL DEFAULT 0,
    UNIQUE (function_id, id)
);
CREATE INDEX IF NOT EXISTS outcomes_by_function ON outcomes (function_id, recorded_at_ms);
CREATE TABLE IF NOT EXISTS mock_outcomes (
    function_id TEXT NOT NULL,
    outcome_id TEXT NOT NULL,
    weight REAL NOT NULL,
    enabled INTEGER NOT NULL,
    ignore_args INTEGER NOT NULL,
    PRIMARY KEY (function_id, outcome_id)
);
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    function_id TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    event TEXT NOT NULL,
    duration_ms REAL NOT NULL,
    arg_key TEXT NOT NULL,
    outcome_id TEXT
);
CREATE INDEX IF NOT EXISTS calls_by_function ON calls (function_id, id);
CREATE TABLE IF NOT EXISTS corrupt_files (
    function_id TEXT NOT NULL,
    -- Within the data dir.
    path TEXT NOT NULL,
    error TEXT NOT NULL,
    found_at_ms INTEGER NOT NULL,
    PRIMARY KEY (function_id, path)
);
";

/// Opens the database, creating it and its tables when needed.
pub(crate) fn open(data_dir: &Path) -> Result<Connection, Error> {
    let conn = Connection::open(data_dir.join("cacheow.db"))?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Several processes may create the database at once; switching to WAL
    // needs a moment alone with it, which the busy handler does not wait for.
    retry_busy(|| conn.pragma_update(None, "journal_mode", "WAL"))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    retry_busy(|| {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(SCHEMA)?;
        add_missing_columns(&tx)?;
        tx.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?1)",
            [SCHEMA_VERSION.to_string()],
        )?;
        tx.commit()
    })?;
    Ok(conn)
}

/// Columns added to a table after it was first made: (table, column, definition).
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    ("functions", "registered_by", "TEXT NOT NULL DEFAULT ''"),
    ("stats", "total_duration_ms", "REAL NOT NULL DEFAULT 0"),
    ("stats", "last_called_at_ms", "INTEGER"),
    ("outcomes", "manual", "INTEGER NOT NULL DEFAULT 0"),
    ("outcomes", "mock_only", "INTEGER NOT NULL DEFAULT 0"),
    ("functions", "max_outcomes", "INTEGER"),
    ("outcomes", "partial", "INTEGER NOT NULL DEFAULT 0"),
];

/// Brings a database made by an earlier version up to date.
fn add_missing_columns(conn: &Connection) -> rusqlite::Result<()> {
    for (table, column, definition) in ADDED_COLUMNS {
        let present: i64 = conn.query_row(
            &format!("SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = ?1"),
            [column],
            |row| row.get(0),
        )?;
        if present == 0 {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {definition}"))?;
        }
    }
    Ok(())
}

fn retry_busy<T>(mut operation: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let mut attempts = 0;
    loop {
        match operation() {
            Err(rusqlite::Error::SqliteFailure(error, _))
                if error.code == rusqlite::ErrorCode::DatabaseBusy && attempts < 300 =>
            {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            result => return result,
        }
    }
}

/// A function as the running program registers it.
pub(crate) struct Registration<'a> {
    pub(crate) id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) qualified_name: &'a str,
    pub(crate) module_path: &'a str,
    pub(crate) crate_name: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) signature: &'a str,
    pub(crate) source: String,
}

/// Registers functions on behalf of `program`. With `mark_stale`,
/// `functions` are all the program has, and what the same program
/// registered before for the same crates but no longer has is marked stale:
/// its function was renamed, moved or deleted.
pub(crate) fn register(
    conn: &mut Connection,
    program: &str,
    functions: &[Registration<'_>],
    mark_stale: bool,
) -> Result<(), Error> {
    let now = now_millis();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut upsert = tx.prepare_cached(
            "INSERT INTO functions (id, name, qualified_name, module_path, crate_name, kind, signature, source,
                                    registered_by, registered_at_ms, last_seen_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, qualified_name = excluded.qualified_name,
                 module_path = excluded.module_path, crate_name = excluded.crate_name, kind = excluded.kind,
                 signature = excluded.signature, source = excluded.source, stale = 0,
                 registered_by = excluded.registered_by, last_seen_at_ms = excluded.last_seen_at_ms",
        )?;
        for f in functions {
            upsert.execute(params![
                f.id,
                f.name,
                f.qualified_name,
                f.module_path,
                f.crate_name,
                f.kind,
                f.signature,
                f.source,
                program,
                now
            ])?;
        }
        if mark_stale {
            let mut stale = tx.prepare_cached(
                "UPDATE functions SET stale = 1
                 WHERE crate_name = ?1 AND registered_by = ?2 AND last_seen_at_ms < ?3",
            )?;
            let mut crates: Vec<&str> = functions.iter().map(|f| f.crate_name).collect();
            crates.sort_unstable();
            crates.dedup();
            for crate_name in crates {
                stale.execute(params![crate_name, program, now])?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}

/// What a process keeps in memory of a function's row.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Control {
    pub(crate) mode: Mode,
    pub(crate) latency: Duration,
    pub(crate) generation: i64,
}

pub(crate) fn control(conn: &Connection, function_id: &str) -> Result<Option<Control>, Error> {
    Ok(conn
        .prepare_cached("SELECT mode, latency_ms, generation FROM functions WHERE id = ?1")?
        .query_row([function_id], |row| {
            Ok(Control {
                mode: row.get::<_, String>(0)?.parse().unwrap_or_default(),
                latency: latency_from_ms(row.get(1)?),
                generation: row.get(2)?,
            })
        })
        .optional()?)
}

/// The mode, latency and generation of every function, by id.
pub(crate) fn controls(conn: &Connection) -> Result<HashMap<String, Control>, Error> {
    let mut statement = conn.prepare_cached("SELECT id, mode, latency_ms, generation FROM functions")?;
    let rows = statement.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            Control {
                mode: row.get::<_, String>(1)?.parse().unwrap_or_default(),
                latency: latency_from_ms(row.get(2)?),
                generation: row.get(3)?,
            },
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn latency_from_ms(ms: f64) -> Duration {
    Duration::try_from_secs_f64(ms / 1000.0).unwrap_or_default()
}

/// Sets a function's mode; `false` when no function has this id.
pub(crate) fn set_mode(conn: &Connection, function_id: &str, mode: Mode) -> Result<bool, Error> {
    let changed = conn
        .prepare_cached("UPDATE functions SET mode = ?2 WHERE id = ?1")?
        .execute(params![function_id, mode.as_str()])?;
    Ok(changed > 0)
}

/// Sets a function's latency; `false` when no function has this id.
pub(crate) fn set_latency(conn: &Connection, function_id: &str, latency: Duration) -> Result<bool, Error> {
    let changed = conn
        .prepare_cached("UPDATE functions SET latency_ms = ?2 WHERE id = ?1")?
        .execute(params![function_id, latency.as_secs_f64() * 1000.0])?;
    Ok(changed > 0)
}

/// Changes a function's outcome rows in one transaction, and tells other
/// processes to reload them.
fn change_outcomes(
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

/// Deletes a function's outcome rows and mock entries.
pub(crate) fn delete_outcomes(conn: &mut Connection, function_id: &str) -> Result<(), Error> {
    change_outcomes(conn, function_id, |tx| {
        tx.execute("DELETE FROM outcomes WHERE function_id = ?1", [function_id])?;
        tx.execute("DELETE FROM mock_outcomes WHERE function_id = ?1", [function_id])?;
        Ok(())
    })
}

/// Replaces an outcome's row, keeping its count.
pub(crate) fn replace_outcome(conn: &mut Connection, function_id: &str, outcome: &Outcome) -> Result<(), Error> {
    change_outcomes(conn, function_id, |tx| {
        let id = outcome.id_hex();
        let count: i64 = tx
            .query_row(
                "SELECT count FROM outcomes WHERE function_id = ?1 AND id = ?2",
                params![function_id, id],
                |row| row.get(0),
            )
            .optional()?
            .unwrap_or(1);
        tx.execute("DELETE FROM outcomes WHERE function_id = ?1 AND id = ?2", params![function_id, id])?;
        insert_outcome(tx, function_id, outcome, count)
    })
}

/// Deletes an outcome's row and its mock entry.
pub(crate) fn delete_outcome(conn: &mut Connection, function_id: &str, outcome_id: &str) -> Result<(), Error> {
    change_outcomes(conn, function_id, |tx| {
        tx.execute("DELETE FROM outcomes WHERE function_id = ?1 AND id = ?2", params![function_id, outcome_id])?;
        tx.execute(
            "DELETE FROM mock_outcomes WHERE function_id = ?1 AND outcome_id = ?2",
            params![function_id, outcome_id],
        )?;
        Ok(())
    })
}

/// Replaces a function's outcome rows with rows made from `outcomes`,
/// keeping the counts of those that had one, and its marks of corrupt files
/// with `corrupt` (paths within the data dir); mock entries of outcomes
/// that are gone are dropped.
pub(crate) fn rebuild_outcomes(
    conn: &mut Connection,
    function_id: &str,
    outcomes: &[Outcome],
    corrupt: &[(String, String)],
) -> Result<(), Error> {
    change_outcomes(conn, function_id, |tx| {
        tx.execute("DELETE FROM corrupt_files WHERE function_id = ?1", [function_id])?;
        for (path, error) in corrupt {
            tx.execute(
                "INSERT OR REPLACE INTO corrupt_files (function_id, path, error, found_at_ms) VALUES (?1, ?2, ?3, ?4)",
                params![function_id, path, error, now_millis()],
            )?;
        }
        let rows: HashMap<u64, OutcomeRow> =
            outcome_rows(tx, function_id)?.into_iter().map(|row| (row.id, row)).collect();
        tx.execute("DELETE FROM outcomes WHERE function_id = ?1", [function_id])?;
        for outcome in outcomes {
            // The files say when each was recorded; the rows, how often and
            // how lately it was seen since.
            let mut count = 1;
            if let Some(row) = rows.get(&outcome.id) {
                count = i64::try_from(row.count).unwrap_or(1);
                outcome.last_seen_ms.fetch_max(row.last_seen_ms, std::sync::atomic::Ordering::Relaxed);
            }
            insert_outcome(tx, function_id, outcome, count)?;
        }
        tx.execute(
            "DELETE FROM mock_outcomes WHERE function_id = ?1
             AND outcome_id NOT IN (SELECT id FROM outcomes WHERE function_id = ?1)",
            [function_id],
        )?;
        Ok(())
    })
}

/// Inserts an outcome's row, counting `calls` calls that gave it (0 for an
/// outcome found on disk, which another process may be about to count).
pub(crate) fn insert_outcome(conn: &Connection, function_id: &str, outcome: &Outcome, calls: i64) -> Result<(), Error> {
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
        outcome.kind.as_str(),
        ids::arg_key_hex(outcome.arg_key),
        &*outcome.args,
        outcome.payload.encoding(),
        preview(outcome.payload.text(), 200),
        outcome.error_type.as_deref(),
        outcome.duration.as_micros() as f64 / 1000.0,
        outcome.recorded_at_ms,
        outcome.last_seen_ms().max(outcome.recorded_at_ms),
        calls,
        outcome.flags.manual,
        outcome.flags.mock_only,
        outcome.flags.partial,
    ])?;
    // Its file is written: whatever corrupt file stood there is gone.
    let path = files::outcome_path(Path::new(""), function_id, outcome.id);
    conn.prepare_cached("DELETE FROM corrupt_files WHERE function_id = ?1 AND path = ?2")?
        .execute(params![function_id, path.display().to_string()])?;
    Ok(())
}

/// Makes the rows of a function's outcomes match its files: the files are
/// the truth, and people edit, copy and delete them by hand.
pub(crate) fn reconcile_outcomes(
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
        insert_outcome(&tx, function_id, outcome, 0)?;
    }
    for id in missing_files {
        tx.execute("DELETE FROM outcomes WHERE function_id = ?1 AND id = ?2", params![function_id, ids::id_hex(*id)])?;
    }
    tx.commit()?;
    Ok(())
}

pub(crate) fn mock_entries(conn: &Connection, function_id: &str) -> Result<HashMap<u64, MockEntry>, Error> {
    let mut statement = conn
        .prepare_cached("SELECT outcome_id, weight, enabled, ignore_args FROM mock_outcomes WHERE function_id = ?1")?;
    let rows = statement.query_map([function_id], |row| {
        Ok((
            row.get::<_, String>(0)?,
            MockEntry { weight: row.get(1)?, enabled: row.get(2)?, ignore_args: row.get(3)? },
        ))
    })?;
    let mut entries = HashMap::new();
    for row in rows {
        let (id, entry) = row?;
        if let Some(id) = ids::parse_id(&id) {
            entries.insert(id, entry);
        }
    }
    Ok(entries)
}

/// The mock configuration of every function, by function id.
pub(crate) fn all_mock_entries(conn: &Connection) -> Result<HashMap<String, HashMap<u64, MockEntry>>, Error> {
    let mut statement =
        conn.prepare_cached("SELECT function_id, outcome_id, weight, enabled, ignore_args FROM mock_outcomes")?;
    let rows = statement.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            MockEntry { weight: row.get(2)?, enabled: row.get(3)?, ignore_args: row.get(4)? },
        ))
    })?;
    let mut all: HashMap<String, HashMap<u64, MockEntry>> = HashMap::new();
    for row in rows {
        let (function_id, outcome_id, entry) = row?;
        if let Some(id) = ids::parse_id(&outcome_id) {
            all.entry(function_id).or_default().insert(id, entry);
        }
    }
    Ok(all)
}

/// Replaces a function's mock configuration.
pub(crate) fn set_mock_entries(
    conn: &mut Connection,
    function_id: &str,
    entries: &HashMap<u64, MockEntry>,
) -> Result<(), Error> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute("DELETE FROM mock_outcomes WHERE function_id = ?1", [function_id])?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO mock_outcomes (function_id, outcome_id, weight, enabled, ignore_args) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for (id, entry) in entries {
            insert.execute(params![function_id, ids::id_hex(*id), entry.weight, entry.enabled, entry.ignore_args])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// An outcome's row: what the files do not hold.
pub(crate) struct OutcomeRow {
    pub(crate) id: u64,
    pub(crate) count: u64,
    pub(crate) last_seen_ms: i64,
}

pub(crate) fn outcome_rows(conn: &Connection, function_id: &str) -> Result<Vec<OutcomeRow>, Error> {
    let mut statement = conn.prepare_cached("SELECT id, count, last_seen_ms FROM outcomes WHERE function_id = ?1")?;
    let rows = statement
        .query_map([function_id], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?, row.get::<_, i64>(2)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, count, last_seen_ms) = row?;
        if let Some(id) = ids::parse_id(&id) {
            out.push(OutcomeRow { id, count: u64::try_from(count).unwrap_or(1), last_seen_ms });
        }
    }
    Ok(out)
}

/// The outcomes added since sequence number `after`, and the newest number.
pub(crate) fn outcomes_since(conn: &Connection, after: i64) -> Result<(Vec<(String, u64)>, i64), Error> {
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

pub(crate) fn max_outcome_seq(conn: &Connection) -> Result<i64, Error> {
    Ok(conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM outcomes", [], |row| row.get(0))?)
}

/// Changes when another connection commits: the cheap test of whether
/// anything needs reloading.
pub(crate) fn data_version(conn: &Connection) -> Result<i64, Error> {
    Ok(conn.query_row("PRAGMA data_version", [], |row| row.get(0))?)
}

pub(crate) fn stats(conn: &Connection, function_id: &str) -> Result<Stats, Error> {
    let stats = conn
        .prepare_cached(
            "SELECT total_calls, cache_hits, cache_misses, mock_calls, errors FROM stats WHERE function_id = ?1",
        )?
        .query_row([function_id], |row| {
            let count = |i| row.get::<_, i64>(i).map(|n| u64::try_from(n).unwrap_or(0));
            Ok(Stats {
                total_calls: count(0)?,
                cache_hits: count(1)?,
                cache_misses: count(2)?,
                mock_calls: count(3)?,
                errors: count(4)?,
            })
        })
        .optional()?;
    Ok(stats.unwrap_or_default())
}

/// A function's cap on stored outcomes; `false` when no function has this id.
pub(crate) fn set_max_outcomes(conn: &Connection, function_id: &str, max: Option<u64>) -> Result<bool, Error> {
    let max = max.map(|max| i64::try_from(max).unwrap_or(i64::MAX));
    let changed = conn.execute("UPDATE functions SET max_outcomes = ?2 WHERE id = ?1", params![function_id, max])?;
    Ok(changed > 0)
}

pub(crate) fn max_outcomes(conn: &Connection, function_id: &str) -> Result<Option<u64>, Error> {
    let max: Option<Option<i64>> = conn
        .prepare_cached("SELECT max_outcomes FROM functions WHERE id = ?1")?
        .query_row([function_id], |row| row.get(0))
        .optional()?;
    Ok(max.flatten().and_then(|max| u64::try_from(max).ok()))
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
    let rows = statement
        .query_map(params![function_id, i64::try_from(keep).unwrap_or(i64::MAX)], |row| row.get::<_, String>(0))?;
    Ok(rows.filter_map(|row| row.ok().and_then(|id| ids::parse_id(&id))).collect())
}

/// Deletes outcome rows and their mock entries, without telling other
/// processes: they keep what they loaded until they next load it.
pub(crate) fn forget_outcomes(conn: &mut Connection, function_id: &str, outcomes: &[u64]) -> Result<(), Error> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for id in outcomes {
        let id = ids::id_hex(*id);
        tx.execute("DELETE FROM outcomes WHERE function_id = ?1 AND id = ?2", params![function_id, id])?;
        tx.execute("DELETE FROM mock_outcomes WHERE function_id = ?1 AND outcome_id = ?2", params![function_id, id])?;
    }
    tx.commit()?;
    Ok(())
}

/// Deletes every row of a function.
#[cfg(feature = "cli")]
pub(crate) fn forget_function(conn: &mut Connection, function_id: &str) -> Result<(), Error> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for table in ["outcomes", "mock_outcomes", "stats", "calls", "corrupt_files"] {
        tx.execute(&format!("DELETE FROM {table} WHERE function_id = ?1"), [function_id])?;
    }
    tx.execute("DELETE FROM functions WHERE id = ?1", [function_id])?;
    tx.commit()?;
    Ok(())
}

pub(crate) fn function_exists(conn: &Connection, function_id: &str) -> Result<bool, Error> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM functions WHERE id = ?1")?
        .query_row([function_id], |_| Ok(()))
        .optional()?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration<'a>(id: &'a str, crate_name: &'a str) -> Registration<'a> {
        Registration {
            id,
            name: "f",
            qualified_name: id,
            module_path: crate_name,
            crate_name,
            kind: "sync",
            signature: "fn f()",
            source: "src/lib.rs:1".to_owned(),
        }
    }

    fn stale(conn: &Connection, id: &str) -> bool {
        conn.query_row("SELECT stale FROM functions WHERE id = ?1", [id], |row| row.get(0)).unwrap_or(false)
    }

    #[test]
    fn databases_of_earlier_versions_gain_the_new_columns() -> Result<(), Error> {
        let dir = tempfile::tempdir().map_err(|e| Error::Io { action: "create", path: "tmp".into(), source: e })?;
        let old = Connection::open(dir.path().join("cacheow.db"))?;
        old.execute_batch(&SCHEMA.replace("registered_by TEXT NOT NULL DEFAULT '',", ""))?;
        drop(old);
        let mut conn = open(dir.path())?;
        register(&mut conn, "app", &[registration("a", "app")], true)?;
        let program: String = conn.query_row("SELECT registered_by FROM functions", [], |row| row.get(0))?;
        assert_eq!(program, "app");
        Ok(())
    }

    #[test]
    fn functions_a_program_no_longer_has_are_stale() -> Result<(), Error> {
        let dir = tempfile::tempdir().map_err(|e| Error::Io { action: "create", path: "tmp".into(), source: e })?;
        let mut conn = open(dir.path())?;
        let (a, b, c, d) =
            (registration("a", "app"), registration("b", "app"), registration("c", "lib"), registration("d", "app"));
        register(&mut conn, "app", &[a, b, c], true)?;
        // Another program of the crate `app`, say its tests.
        register(&mut conn, "app-tests", &[d], true)?;
        std::thread::sleep(Duration::from_millis(5));
        // A later run of `app` without `b`; `lib` is not part of it.
        register(&mut conn, "app", &[registration("a", "app")], true)?;
        assert!(!stale(&conn, "a"));
        assert!(stale(&conn, "b"));
        assert!(!stale(&conn, "c"));
        assert!(!stale(&conn, "d"), "registered by another program");
        assert!(set_mode(&conn, "b", Mode::Mock)?);
        assert!(!set_mode(&conn, "zz", Mode::Mock)?);
        assert_eq!(control(&conn, "b")?.map(|c| c.mode), Some(Mode::Mock));
        // Reopening an existing database is fine.
        drop(conn);
        assert!(control(&open(dir.path())?, "b")?.is_some());
        Ok(())
    }
}
