//! Retention: a per-function cap on stored outcomes. Past it, the outcomes
//! seen longest ago go first, files and rows; the caller drops them from
//! what it keeps in memory. Other processes keep what they loaded until
//! they next load the function.

use std::path::Path;

use rusqlite::Connection;

use crate::model::error::Error;
use crate::model::outcome::Facts;
use crate::store::{files, functions, outcomes};

/// Deletes a function's outcomes beyond its cap; their facts.
pub(crate) fn trim(conn: &mut Connection, data_dir: &Path, function_id: &str) -> Result<Vec<Facts>, Error> {
    let Some(max) = functions::max_outcomes(conn, function_id)? else { return Ok(Vec::new()) };
    let dropped = outcomes::oldest_beyond(conn, function_id, max)?;
    if dropped.is_empty() {
        return Ok(dropped);
    }
    let dir = files::outcomes_dir(data_dir, function_id);
    let before = files::stamp(&dir);
    // Files first: a row whose file is gone is dropped at the next load,
    // while a file without a row would come back.
    for facts in &dropped {
        files::remove_outcome(data_dir, function_id, facts.id)?;
    }
    let ids: Vec<u64> = dropped.iter().map(|facts| facts.id).collect();
    outcomes::forget(conn, function_id, &ids, (before, files::stamp(&dir)))?;
    Ok(dropped)
}
