//! Retention: a per-function cap on stored outcomes. Past it, the outcomes
//! seen longest ago go first: their files, rows and mock entries, and their
//! place in this process's index. Other processes keep what they loaded
//! until they next load the function.

use std::path::Path;

use rusqlite::Connection;

use crate::state::FunctionState;
use crate::{Error, files, sqlite};

/// Drops a function's outcomes beyond its cap; how many.
pub(crate) fn trim(
    conn: &mut Connection,
    data_dir: &Path,
    function_id: &str,
    loaded: Option<&FunctionState>,
) -> Result<usize, Error> {
    let Some(max) = sqlite::max_outcomes(conn, function_id)? else { return Ok(0) };
    let dropped = sqlite::oldest_beyond(conn, function_id, max)?;
    if dropped.is_empty() {
        return Ok(0);
    }
    // Files first: a row whose file is gone is dropped at the next load,
    // while a file without a row would come back.
    for id in &dropped {
        let path = files::outcome_path(data_dir, function_id, *id);
        match std::fs::remove_file(&path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::Io { action: "delete", path, source: error });
            }
            _ => {}
        }
    }
    sqlite::forget_outcomes(conn, function_id, &dropped)?;
    if let Some(state) = loaded {
        let mut index = state.index_mut();
        dropped.iter().for_each(|id| index.remove(*id));
    }
    Ok(dropped.len())
}
