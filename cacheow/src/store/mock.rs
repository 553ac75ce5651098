//! The `mock_outcomes` table: how each outcome takes part in mock mode.

use std::collections::HashMap;

use rusqlite::{Connection, Row, TransactionBehavior, params};

use crate::model::error::Error;
use crate::model::ids;
use crate::model::mock::{MockEntries, MockEntry, MockOutcome};

fn entry(row: &Row<'_>, first: usize) -> rusqlite::Result<MockEntry> {
    Ok(MockEntry { weight: row.get(first)?, enabled: row.get(first + 1)?, ignore_args: row.get(first + 2)? })
}

/// A function's mock configuration.
pub(crate) fn entries(conn: &Connection, function_id: &str) -> Result<MockEntries, Error> {
    let mut statement = conn
        .prepare_cached("SELECT outcome_id, weight, enabled, ignore_args FROM mock_outcomes WHERE function_id = ?1")?;
    let rows = statement.query_map([function_id], |row| Ok((row.get::<_, String>(0)?, entry(row, 1)?)))?;
    let mut entries = MockEntries::new();
    for row in rows {
        let (id, entry) = row?;
        if let Some(id) = ids::parse_id(&id) {
            entries.insert(id, entry);
        }
    }
    Ok(entries)
}

/// A function's mock configuration, as the API lists it: by outcome id.
pub(crate) fn outcomes(conn: &Connection, function_id: &str) -> Result<Vec<MockOutcome>, Error> {
    let mut outcomes: Vec<MockOutcome> =
        entries(conn, function_id)?.into_iter().map(|(id, entry)| MockOutcome::from_entry(id, entry)).collect();
    outcomes.sort_by(|a, b| a.outcome_id.cmp(&b.outcome_id));
    Ok(outcomes)
}

/// The mock configuration of every function, by function id.
pub(crate) fn all_entries(conn: &Connection) -> Result<HashMap<String, MockEntries>, Error> {
    let mut statement =
        conn.prepare_cached("SELECT function_id, outcome_id, weight, enabled, ignore_args FROM mock_outcomes")?;
    let rows =
        statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, entry(row, 2)?)))?;
    let mut all: HashMap<String, MockEntries> = HashMap::new();
    for row in rows {
        let (function_id, outcome_id, entry) = row?;
        if let Some(id) = ids::parse_id(&outcome_id) {
            all.entry(function_id).or_default().insert(id, entry);
        }
    }
    Ok(all)
}

/// Replaces a function's mock configuration.
pub(crate) fn set_entries(conn: &mut Connection, function_id: &str, entries: &MockEntries) -> Result<(), Error> {
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
