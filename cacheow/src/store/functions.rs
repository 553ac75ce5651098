//! The `functions` table: who registered which decorated function, and its
//! mode, latency, cap on outcomes and stale mark.

use std::collections::HashMap;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use crate::model::error::Error;
use crate::model::kind::FunctionKind;
use crate::model::mode::Mode;
use crate::model::policy::StoredPolicy;
use crate::model::time::now_millis;
use crate::store::calls::CallTotals;
use crate::store::sql;

/// A function as a program registers it.
pub(crate) struct Registration<'a> {
    pub(crate) id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) qualified_name: &'a str,
    pub(crate) module_path: &'a str,
    pub(crate) crate_name: &'a str,
    pub(crate) kind: FunctionKind,
    pub(crate) signature: &'a str,
    pub(crate) source: String,
    /// `None` when not known (registered from its files): the one there stays.
    pub(crate) policy: Option<StoredPolicy>,
    /// Its body hash; `None` when not known: the one there stays.
    pub(crate) body_hash: Option<&'a str>,
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
                                    registered_by, registered_at_ms, last_seen_at_ms, policy, body_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, qualified_name = excluded.qualified_name,
                 module_path = excluded.module_path, crate_name = excluded.crate_name, kind = excluded.kind,
                 signature = excluded.signature, source = excluded.source, stale = 0,
                 registered_by = excluded.registered_by, last_seen_at_ms = excluded.last_seen_at_ms,
                 policy = coalesce(excluded.policy, policy), body_hash = coalesce(excluded.body_hash, body_hash)",
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
                now,
                f.policy.as_ref().and_then(|policy| serde_json::to_string(policy).ok()),
                f.body_hash,
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
    /// Bumped when outcomes are changed by hand, so that other processes
    /// reload theirs.
    pub(crate) generation: i64,
}

fn control_row(row: &Row<'_>, first: usize) -> rusqlite::Result<Control> {
    Ok(Control {
        mode: row.get(first)?,
        latency: latency_from_ms(row.get(first + 1)?),
        generation: row.get(first + 2)?,
    })
}

pub(crate) fn control(conn: &Connection, function_id: &str) -> Result<Option<Control>, Error> {
    Ok(conn
        .prepare_cached("SELECT mode, latency_ms, generation FROM functions WHERE id = ?1")?
        .query_row([function_id], |row| control_row(row, 0))
        .optional()?)
}

/// The mode, latency and generation of every function, by id.
pub(crate) fn controls(conn: &Connection) -> Result<HashMap<String, Control>, Error> {
    let mut statement = conn.prepare_cached("SELECT id, mode, latency_ms, generation FROM functions")?;
    let rows = statement.query_map([], |row| Ok((row.get::<_, String>(0)?, control_row(row, 1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn latency_from_ms(ms: f64) -> Duration {
    Duration::try_from_secs_f64(ms / 1000.0).unwrap_or_default()
}

/// Sets a function's mode; `false` when no function has this id.
pub(crate) fn set_mode(conn: &Connection, function_id: &str, mode: Mode) -> Result<bool, Error> {
    let changed =
        conn.prepare_cached("UPDATE functions SET mode = ?2 WHERE id = ?1")?.execute(params![function_id, mode])?;
    Ok(changed > 0)
}

/// Sets a function's latency; `false` when no function has this id.
pub(crate) fn set_latency(conn: &Connection, function_id: &str, latency: Duration) -> Result<bool, Error> {
    let changed = conn
        .prepare_cached("UPDATE functions SET latency_ms = ?2 WHERE id = ?1")?
        .execute(params![function_id, latency.as_secs_f64() * 1000.0])?;
    Ok(changed > 0)
}

/// A function's cap on stored outcomes; `false` when no function has this id.
pub(crate) fn set_max_outcomes(conn: &Connection, function_id: &str, max: Option<u64>) -> Result<bool, Error> {
    let changed = conn
        .execute("UPDATE functions SET max_outcomes = ?2 WHERE id = ?1", params![function_id, max.map(sql::count)])?;
    Ok(changed > 0)
}

pub(crate) fn max_outcomes(conn: &Connection, function_id: &str) -> Result<Option<u64>, Error> {
    let max: Option<Option<i64>> = conn
        .prepare_cached("SELECT max_outcomes FROM functions WHERE id = ?1")?
        .query_row([function_id], |row| row.get(0))
        .optional()?;
    Ok(max.flatten().and_then(|max| u64::try_from(max).ok()))
}

/// The stamp of the function's outcome folder when its rows last matched
/// its files, if they are known to.
pub(crate) fn files_stamp(conn: &Connection, function_id: &str) -> Result<Option<String>, Error> {
    let stamp: Option<Option<String>> = conn
        .prepare_cached("SELECT files_stamp FROM functions WHERE id = ?1")?
        .query_row([function_id], |row| row.get(0))
        .optional()?;
    Ok(stamp.flatten())
}

/// Notes that the rows match the files of the outcome folder stamped `stamp`.
pub(crate) fn set_files_stamp(conn: &Connection, function_id: &str, stamp: Option<&str>) -> Result<(), Error> {
    conn.prepare_cached("UPDATE functions SET files_stamp = ?2 WHERE id = ?1")?.execute(params![function_id, stamp])?;
    Ok(())
}

/// Moves the stamp from `before` to `after` across a change of both files
/// and rows, if the rows matched the files before it: a change by hand
/// made meanwhile leaves the stamp behind, and the folder is read again.
pub(crate) fn advance_files_stamp(
    conn: &Connection,
    function_id: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> Result<(), Error> {
    conn.prepare_cached("UPDATE functions SET files_stamp = ?3 WHERE id = ?1 AND files_stamp IS ?2")?
        .execute(params![function_id, before, after])?;
    Ok(())
}

pub(crate) fn exists(conn: &Connection, function_id: &str) -> Result<bool, Error> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM functions WHERE id = ?1")?
        .query_row([function_id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The ids of every registered function.
pub(crate) fn ids(conn: &Connection) -> Result<Vec<String>, Error> {
    let mut statement = conn.prepare_cached("SELECT id FROM functions")?;
    let rows = statement.query_map([], |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The id and path of every function marked stale.
pub(crate) fn marked_stale(conn: &Connection) -> Result<Vec<(String, String)>, Error> {
    let mut statement =
        conn.prepare_cached("SELECT id, qualified_name FROM functions WHERE stale = 1 ORDER BY qualified_name")?;
    let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes every row of a function.
pub(crate) fn forget(conn: &mut Connection, function_id: &str) -> Result<(), Error> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for table in ["outcomes", "mock_outcomes", "stats", "calls", "corrupt_files"] {
        tx.execute(&format!("DELETE FROM {table} WHERE function_id = ?1"), [function_id])?;
    }
    tx.execute("DELETE FROM functions WHERE id = ?1", [function_id])?;
    tx.commit()?;
    Ok(())
}

/// A registered function, with its mode, latency, outcome count and stats.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FunctionRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) qualified_name: String,
    pub(crate) module_path: String,
    pub(crate) source: String,
    pub(crate) signature: String,
    pub(crate) kind: FunctionKind,
    pub(crate) mode: Mode,
    pub(crate) latency: Duration,
    pub(crate) stale: bool,
    pub(crate) max_outcomes: Option<u64>,
    /// How many outcomes it has.
    pub(crate) outcomes: u64,
    pub(crate) totals: CallTotals,
    /// Its ttl, tags and dedupe, as its program last registered them.
    pub(crate) policy: StoredPolicy,
}

impl FunctionRow {
    /// The artificial latency of its replays, in milliseconds.
    pub(crate) fn latency_ms(&self) -> f64 {
        self.latency.as_secs_f64() * 1000.0
    }

    /// The path within its module, as the Python cacheow's `qualname`.
    #[cfg_attr(not(feature = "server"), allow(dead_code))] // shown by the panel
    pub(crate) fn qualname(&self) -> &str {
        self.qualified_name
            .strip_prefix(&self.module_path)
            .and_then(|rest| rest.strip_prefix("::"))
            .unwrap_or(&self.qualified_name)
    }
}

const FUNCTION_COLUMNS: &str = "f.id, f.name, f.qualified_name, f.module_path, f.source, f.signature, f.kind, f.mode,
    f.latency_ms, f.stale, f.max_outcomes, (SELECT COUNT(*) FROM outcomes o WHERE o.function_id = f.id),
    s.total_calls, s.cache_hits, s.cache_misses, s.mock_calls, s.errors, s.total_duration_ms, s.last_called_at_ms,
    f.policy
    FROM functions f LEFT JOIN stats s ON s.function_id = f.id";

fn function_row(row: &Row<'_>) -> rusqlite::Result<FunctionRow> {
    Ok(FunctionRow {
        id: row.get(0)?,
        name: row.get(1)?,
        qualified_name: row.get(2)?,
        module_path: row.get(3)?,
        source: row.get(4)?,
        signature: row.get(5)?,
        kind: row.get(6)?,
        mode: row.get(7)?,
        latency: latency_from_ms(row.get(8)?),
        stale: row.get(9)?,
        max_outcomes: row.get::<_, Option<i64>>(10)?.map(sql::uncount),
        outcomes: sql::uncount(row.get(11)?),
        totals: CallTotals::from_row(row, 12)?,
        policy: stored_policy(row.get(19)?),
    })
}

/// A policy column as written, or none (an older cacheow's row, or one
/// edited out of shape).
fn stored_policy(text: Option<String>) -> StoredPolicy {
    text.and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default()
}

/// The ids of the functions tagged `tag`.
pub(crate) fn tagged(conn: &Connection, tag: &str) -> Result<Vec<String>, Error> {
    let mut statement = conn.prepare_cached(
        "SELECT f.id FROM functions f, json_each(f.policy, '$.tags') t WHERE json_valid(f.policy) AND t.value = ?1",
    )?;
    let rows = statement.query_map([tag], |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A function's policy, as last registered.
pub(crate) fn policy(conn: &Connection, function_id: &str) -> Result<StoredPolicy, Error> {
    let text: Option<Option<String>> = conn
        .prepare_cached("SELECT policy FROM functions WHERE id = ?1")?
        .query_row([function_id], |row| row.get(0))
        .optional()?;
    Ok(stored_policy(text.flatten()))
}

/// Every registered function, by path.
pub(crate) fn all(conn: &Connection) -> Result<Vec<FunctionRow>, Error> {
    let mut statement = conn.prepare_cached(&format!("SELECT {FUNCTION_COLUMNS} ORDER BY f.qualified_name"))?;
    let rows = statement.query_map([], function_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The registered function with this id, if there is one.
pub(crate) fn get(conn: &Connection, function_id: &str) -> Result<Option<FunctionRow>, Error> {
    let mut statement = conn.prepare_cached(&format!("SELECT {FUNCTION_COLUMNS} WHERE f.id = ?1"))?;
    Ok(statement.query_row([function_id], function_row).optional()?)
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
            kind: FunctionKind::Sync,
            signature: "fn f()",
            source: "src/lib.rs:1".to_owned(),
            policy: None,
            body_hash: None,
        }
    }

    fn stale(conn: &Connection, id: &str) -> bool {
        conn.query_row("SELECT stale FROM functions WHERE id = ?1", [id], |row| row.get(0)).unwrap_or(false)
    }

    #[test]
    fn functions_a_program_no_longer_has_are_stale() -> Result<(), Error> {
        let dir = tempfile::tempdir().map_err(|e| Error::Io { action: "create", path: "tmp".into(), source: e })?;
        let mut conn = crate::store::schema::open(dir.path())?;
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
        assert_eq!(
            get(&conn, "b")?.map(|row| (row.kind, row.mode, row.outcomes)),
            Some((FunctionKind::Sync, Mode::Mock, 0))
        );
        // Reopening an existing database is fine.
        drop(conn);
        assert!(control(&crate::store::schema::open(dir.path())?, "b")?.is_some());
        Ok(())
    }

    #[test]
    fn the_policy_is_kept_until_the_program_registers_another() -> Result<(), Error> {
        let dir = tempfile::tempdir().map_err(|e| Error::Io { action: "create", path: "tmp".into(), source: e })?;
        let mut conn = crate::store::schema::open(dir.path())?;
        let policy = StoredPolicy { ttl_ms: Some(600_000), tags: vec!["users".into()], ..StoredPolicy::default() };
        let with_policy = Registration { policy: Some(policy.clone()), ..registration("a", "app") };
        register(&mut conn, "app", &[with_policy, registration("b", "app")], false)?;
        assert_eq!(tagged(&conn, "users")?, ["a"]);
        // A rebuild registers from the files, which know no policy.
        register(&mut conn, "rebuild", &[registration("a", "app")], false)?;
        assert_eq!(get(&conn, "a")?.map(|row| row.policy), Some(policy));
        assert_eq!(self::policy(&conn, "b")?, StoredPolicy::default());
        conn.execute("UPDATE functions SET policy = '{not json' WHERE id = 'a'", [])?;
        assert!(tagged(&conn, "users")?.is_empty(), "a policy edited out of shape is none");
        Ok(())
    }
}
