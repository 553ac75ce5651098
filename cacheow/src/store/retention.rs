//! Retention: a per-function cap on stored outcomes. Past it, the outcomes
//! seen longest ago go first, files and rows; the caller drops them from
//! what it keeps in memory. Other processes keep what they loaded until
//! they next load the function.

use std::path::Path;

use rusqlite::Connection;

use crate::model::error::Error;
use crate::store::{files, functions, outcomes};

/// Deletes a function's outcomes beyond its cap; their ids.
pub(crate) fn trim(conn: &mut Connection, data_dir: &Path, function_id: &str) -> Result<Vec<u64>, Error> {
    let Some(max) = functions::max_outcomes(conn, function_id)? else { return Ok(Vec::new()) };
    let dropped = outcomes::oldest_beyond(conn, function_id, max)?;
    if dropped.is_empty() {
        return Ok(dropped);
    }
    // Files first: a row whose file is gone is dropped at the next load,
    // while a file without a row would come back.
    for id in &dropped {
        files::remove_outcome(data_dir, function_id, *id)?;
    }
    outcomes::forget(conn, function_id, &dropped)?;
    Ok(dropped)
}
