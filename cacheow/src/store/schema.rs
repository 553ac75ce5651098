//! `<data_dir>/cacheow.db`: its tables (registrations, modes, latencies,
//! mock weights, stats, the outcome index and recent calls), opened in WAL
//! mode, shared by every process that uses the data dir.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::model::error::Error;

/// How long a writer waits for another process's transaction.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
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
    -- The outcome folder as the rows last matched it (its identity and
    -- modification time): a folder that differs is read again.
    files_stamp TEXT,
    -- Its ttl, tags and dedupe as JSON, as its program registered them.
    policy TEXT,
    -- The hash of its body (and of what it depends on) in the program that
    -- registered it last: outcomes of another were recorded by another body.
    body_hash TEXT,
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
    -- What never changes about it, packed: what the index is loaded from.
    facts BLOB,
    -- When the same outcome was last recorded: its age, for a ttl.
    last_recorded_ms INTEGER,
    -- The body hash of the function that last recorded it, when known.
    body_hash TEXT,
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
    outcome_id TEXT,
    -- What it did, as `cacheow::CallStatus` says: hit, stale_hit, waited...
    status TEXT
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

/// Opens the database, creating it and its tables when needed, and
/// bringing one of an earlier version up to date. The caller checked first
/// that cacheow made it ([`check_made_here`]), before writing anything:
/// `Store::open` does, once for its connections and its writer's.
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

/// A database already in `data_dir` must be one of this version or an
/// earlier one. Read as immutable: nothing is written, not even a lock file.
/// Such a read takes no lock either, so while another process writes the
/// database it may see a page half written: it refuses only when five
/// reads over 100 ms all refuse.
pub(crate) fn check_made_here(data_dir: &Path) -> Result<(), Error> {
    let mut checked = inspect(data_dir);
    for _ in 0..4 {
        if checked.is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
        checked = inspect(data_dir);
    }
    checked
}

fn inspect(data_dir: &Path) -> Result<(), Error> {
    let path = &data_dir.join("cacheow.db");
    if std::fs::metadata(path).map_or(true, |meta| meta.len() == 0) {
        return Ok(());
    }
    let refuse = |reason: String| Error::IncompatibleDataDir { path: data_dir.to_path_buf(), reason };
    let uri = format!("file:{}?immutable=1", uri_path(path));
    let conn = Connection::open_with_flags(uri, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI)
        .map_err(|error| refuse(format!("a file `cacheow.db` that is not an SQLite database ({error})")))?;
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .and_then(|mut statement| statement.query_map([], |row| row.get(0))?.collect())
        .map_err(|error| refuse(format!("a file `cacheow.db` that is not an SQLite database ({error})")))?;
    let has = |table: &str| tables.iter().any(|name| name == table);
    if tables.is_empty() {
        return Ok(());
    }
    if has("meta") {
        let version: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |row| row.get(0))
            .optional()
            .unwrap_or(None);
        return match version.and_then(|version| version.parse::<i64>().ok()) {
            Some(version) if version > SCHEMA_VERSION => Err(refuse(format!(
                "the database of a newer cacheow (schema version {version}; this one reads up to {SCHEMA_VERSION}): \
                 use that cacheow with it"
            ))),
            _ => Ok(()),
        };
    }
    if has("outcomes_index") || has("function_modes") {
        return Err(refuse(
            "the database of the Python cacheow, which shares the folder layout and the CACHEOW_* variables with \
             this one, not the database nor the fields of the outcome files"
                .to_owned(),
        ));
    }
    Err(refuse(format!("a database cacheow did not make (its tables: {})", tables.join(", "))))
}

/// A path as a URI's path: the characters a URI gives meaning escaped.
fn uri_path(path: &Path) -> String {
    path.display().to_string().replace('%', "%25").replace('?', "%3f").replace('#', "%23")
}

/// Columns added to a table after it was first made: (table, column,
/// definition, and what fills it in the rows already there, if its default
/// does not).
const ADDED_COLUMNS: &[(&str, &str, &str, Option<&str>)] = &[
    ("functions", "registered_by", "TEXT NOT NULL DEFAULT ''", None),
    ("stats", "total_duration_ms", "REAL NOT NULL DEFAULT 0", None),
    ("stats", "last_called_at_ms", "INTEGER", None),
    ("outcomes", "manual", "INTEGER NOT NULL DEFAULT 0", None),
    ("outcomes", "mock_only", "INTEGER NOT NULL DEFAULT 0", None),
    ("functions", "max_outcomes", "INTEGER", None),
    ("outcomes", "partial", "INTEGER NOT NULL DEFAULT 0", None),
    ("outcomes", "facts", "BLOB", None),
    ("functions", "files_stamp", "TEXT", None),
    // The best an older cacheow knew of it.
    ("outcomes", "last_recorded_ms", "INTEGER", Some("UPDATE outcomes SET last_recorded_ms = last_seen_ms")),
    ("functions", "policy", "TEXT", None),
    ("calls", "status", "TEXT", None),
    ("functions", "body_hash", "TEXT", None),
    ("outcomes", "body_hash", "TEXT", None),
];

/// Made after the columns they cover exist.
const ADDED_INDEXES: &str = "
DROP INDEX IF EXISTS outcomes_facts;
CREATE INDEX IF NOT EXISTS outcomes_loaded ON outcomes (function_id, facts, count, last_recorded_ms, last_seen_ms);
";

/// Brings a database made by an earlier version up to date.
fn add_missing_columns(conn: &Connection) -> rusqlite::Result<()> {
    for (table, column, definition, fill) in ADDED_COLUMNS {
        let present: i64 = conn.query_row(
            &format!("SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = ?1"),
            [column],
            |row| row.get(0),
        )?;
        if present == 0 {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {definition}"))?;
            if let Some(fill) = fill {
                conn.execute_batch(fill)?;
            }
        }
    }
    conn.execute_batch(ADDED_INDEXES)?;
    crate::store::outcomes::fill_missing_facts(conn)
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

/// Changes when another connection commits: the cheap test of whether
/// anything needs reloading.
pub(crate) fn data_version(conn: &Connection) -> Result<i64, Error> {
    Ok(conn.query_row("PRAGMA data_version", [], |row| row.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn databases_of_earlier_versions_gain_the_new_columns() -> Result<(), Error> {
        let dir = tempfile::tempdir().map_err(|e| Error::Io { action: "create", path: "tmp".into(), source: e })?;
        let old = Connection::open(dir.path().join("cacheow.db"))?;
        old.execute_batch(&SCHEMA.replace("registered_by TEXT NOT NULL DEFAULT '',", ""))?;
        drop(old);
        let conn = open(dir.path())?;
        let present: i64 = conn.query_row(
            "SELECT COUNT(*) FROM pragma_table_info('functions') WHERE name = 'registered_by'",
            [],
            |row| row.get(0),
        )?;
        assert_eq!(present, 1);
        Ok(())
    }
}
