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
use crate::model::outcome::{Facts, Flags, Indexed, Outcome, OutcomeInfo, OutcomeKind, preview};
use crate::model::time::{as_millis_f64, from_millis, now_millis};
use crate::store::files::{self, CorruptFile};
use crate::store::{functions, sql};

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
    pub(crate) last_recorded_ms: i64,
    pub(crate) count: u64,
    pub(crate) manual: bool,
    pub(crate) mock_only: bool,
    /// The items of a sequence its caller dropped before the end.
    pub(crate) partial: bool,
    /// Recorded by another body than the function's as registered last.
    pub(crate) body_changed: bool,
}

impl OutcomeRow {
    /// A manual outcome given without arguments: it answers any, in mock
    /// mode only.
    pub(crate) fn answers_any_args(&self) -> bool {
        self.manual && self.args == "null"
    }

    /// The outcome as [`Function::outcomes`](crate::Function::outcomes) lists it.
    pub(crate) fn into_info(self) -> OutcomeInfo {
        OutcomeInfo {
            id: self.id,
            kind: self.kind,
            arg_key: self.arg_key,
            args: self.args,
            value_preview: self.value_preview,
            recorded_at: from_millis(self.recorded_at_ms),
            last_recorded_at: from_millis(self.last_recorded_ms.max(self.recorded_at_ms)),
            duration: std::time::Duration::try_from_secs_f64(self.duration_ms / 1000.0).unwrap_or_default(),
            count: self.count,
            manual: self.manual,
            mock_only: self.mock_only,
            partial: self.partial,
            body_changed: self.body_changed,
        }
    }
}

/// The `facts` column: what never changes about an outcome, packed, so
/// that a function's index reads from one covering index in one pass.
/// The id and the argument key, big-endian, then the flags' bits.
const PACKED_FACTS: usize = 29;

fn pack(facts: &Facts) -> [u8; PACKED_FACTS] {
    let mut packed = [0u8; PACKED_FACTS];
    packed[..8].copy_from_slice(&facts.id.to_be_bytes());
    packed[8..24].copy_from_slice(&facts.arg_key.to_be_bytes());
    packed[24] = u8::from(facts.flags.manual) | u8::from(facts.flags.mock_only) << 1 | u8::from(facts.partial) << 2;
    let check = check_of(&packed[..25]);
    packed[25..].copy_from_slice(&check);
    packed
}

/// Four bytes of a hash of the facts: a blob edited by hand, of the right
/// length by chance, still does not read.
fn check_of(facts: &[u8]) -> [u8; 4] {
    let hash = xxhash_rust::xxh3::xxh3_64(facts).to_be_bytes();
    [hash[0], hash[1], hash[2], hash[3]]
}

fn unpack(packed: &[u8]) -> Option<Facts> {
    let packed: &[u8; PACKED_FACTS] = packed.try_into().ok()?;
    if packed[25..] != check_of(&packed[..25]) {
        return None;
    }
    let (id, rest) = packed.split_at(8);
    let (arg_key, flags) = rest.split_at(16);
    let bits = flags[0];
    Some(Facts {
        id: u64::from_be_bytes(id.try_into().ok()?),
        arg_key: u128::from_be_bytes(arg_key.try_into().ok()?),
        flags: Flags { manual: bits & 1 != 0, mock_only: bits & 2 != 0 },
        partial: bits & 4 != 0,
    })
}

/// The facts in column `index` of a row; `None` for a value that holds none.
fn facts_at(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Option<Facts>> {
    Ok(match row.get_ref(index)? {
        rusqlite::types::ValueRef::Blob(packed) => unpack(packed),
        _ => None,
    })
}

/// The facts of a row written before the `facts` column was, from its
/// other columns.
fn facts_of_columns(id: &str, arg_key: &str, manual: bool, mock_only: bool, partial: bool) -> Option<Facts> {
    Some(Facts {
        id: ids::parse_id(id)?,
        arg_key: u128::from_str_radix(arg_key, 16).ok()?,
        flags: Flags { manual, mock_only },
        partial,
    })
}

/// Fills the `facts` of rows an earlier version wrote; once.
pub(crate) fn fill_missing_facts(conn: &Connection) -> rusqlite::Result<()> {
    let missing: Vec<(i64, Vec<u8>)> = {
        let mut statement =
            conn.prepare("SELECT seq, id, arg_key, manual, mock_only, partial FROM outcomes WHERE facts IS NULL")?;
        let rows = statement.query_map([], |row| {
            // A row edited out of shape keeps no facts: a load reads the
            // files instead, and writes it again.
            let facts = (|| {
                let (id, arg_key) = (row.get::<_, String>(1).ok()?, row.get::<_, String>(2).ok()?);
                facts_of_columns(&id, &arg_key, row.get(3).ok()?, row.get(4).ok()?, row.get(5).ok()?)
            })();
            Ok((row.get::<_, i64>(0)?, facts))
        })?;
        rows.filter_map(|row| row.map(|(seq, facts)| facts.map(|facts| (seq, pack(&facts).to_vec()))).transpose())
            .collect::<rusqlite::Result<_>>()?
    };
    let mut update = conn.prepare("UPDATE outcomes SET facts = ?2 WHERE seq = ?1")?;
    for (seq, facts) in missing {
        update.execute(params![seq, facts])?;
    }
    Ok(())
}

/// What the index keeps of the row whose facts, count, last recording and last use begin
/// at column `at`; `None` for a row edited out of shape.
fn indexed_at(row: &rusqlite::Row<'_>, at: usize) -> Option<Indexed> {
    Some(Indexed {
        facts: facts_at(row, at).ok()??,
        count: sql::uncount(row.get(at + 1).ok()?),
        last_recorded_ms: row.get(at + 2).ok()?,
    })
    // Not kept, but a row whose last use does not read is made again.
    .filter(|_| row.get::<_, i64>(at + 3).is_ok())
}

const _: () = assert!(PACKED_FACTS == 29, "UNREADABLE names the length");

/// The rows of function `?1` a load cannot read (edited by hand, or written
/// without facts by an older cacheow), which it deletes and makes again
/// from the files.
const UNREADABLE: &str = "function_id = ?1 AND (typeof(facts) != 'blob' OR length(facts) != 29
     OR typeof(count) != 'integer' OR typeof(last_seen_ms) != 'integer' OR typeof(last_recorded_ms) != 'integer')";

/// Half of a function's outcomes, by id: two readers share the work.
#[derive(Debug, Clone, Copy)]
pub(crate) enum IdHalf {
    Lower,
    Upper,
}

/// The outcomes of a function in `half`, as the index keeps them, read from
/// the covering index `outcomes_loaded` alone and handed to `each` in chunks;
/// `false` when a row could not be read, and the files must be.
pub(crate) fn indexed(
    conn: &Connection,
    function_id: &str,
    half: IdHalf,
    mut each: impl FnMut(Vec<Indexed>),
) -> Result<bool, Error> {
    const CHUNK: usize = 4096;
    // The packed facts begin with the id, big-endian: its first bit halves them.
    let which = match half {
        // A row without facts (an older cacheow wrote it) falls here, and
        // does not read.
        IdHalf::Lower => "facts IS NULL OR facts < X'80'",
        IdHalf::Upper => "facts >= X'80'",
    };
    let mut statement = conn.prepare_cached(&format!(
        "SELECT facts, count, last_recorded_ms, last_seen_ms FROM outcomes WHERE function_id = ?1 AND ({which})"
    ))?;
    let mut rows = statement.query([function_id])?;
    let mut chunk = Vec::with_capacity(CHUNK);
    while let Some(row) = rows.next()? {
        let Some(indexed) = indexed_at(row, 0) else { return Ok(false) };
        chunk.push(indexed);
        if chunk.len() == CHUNK {
            each(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)));
        }
    }
    each(chunk);
    Ok(true)
}

/// A page of a function's outcomes, newest first; the function's row
/// counts them all.
pub(crate) fn page(conn: &Connection, function_id: &str, offset: u64, limit: u64) -> Result<Vec<OutcomeRow>, Error> {
    let mut statement = conn.prepare_cached(
        "SELECT id, kind, arg_key, args, value_preview, error_type, duration_ms, recorded_at_ms, count, manual, mock_only,
                partial, coalesce(last_recorded_ms, recorded_at_ms),
                coalesce(body_hash != (SELECT body_hash FROM functions WHERE functions.id = ?1), 0)
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
            last_recorded_ms: row.get(12)?,
            body_changed: row.get(13)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The ids of a function's outcomes recorded by another body than
/// `body_hash` (those recorded before body hashes were kept are not).
pub(crate) fn other_bodies(conn: &Connection, function_id: &str, body_hash: &str) -> Result<Vec<u64>, Error> {
    let mut statement = conn.prepare_cached(
        "SELECT id FROM outcomes WHERE function_id = ?1 AND body_hash IS NOT NULL AND body_hash != ?2",
    )?;
    let rows = statement.query_map(params![function_id, body_hash], |row| row.get::<_, String>(0))?;
    Ok(rows.filter_map(|id| id.ok().and_then(|id| ids::parse_id(&id))).collect())
}

/// The ids of a function's outcomes for the arguments `arg_key`.
pub(crate) fn ids_for_args(conn: &Connection, function_id: &str, arg_key: u128) -> Result<Vec<String>, Error> {
    let mut statement = conn.prepare_cached("SELECT id FROM outcomes WHERE function_id = ?1 AND arg_key = ?2")?;
    let rows = statement.query_map(params![function_id, ids::arg_key_hex(arg_key)], |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The ids of a function's outcomes last recorded before `before_ms`.
pub(crate) fn ids_recorded_before(conn: &Connection, function_id: &str, before_ms: i64) -> Result<Vec<String>, Error> {
    let mut statement = conn.prepare_cached(
        "SELECT id FROM outcomes WHERE function_id = ?1 AND coalesce(last_recorded_ms, recorded_at_ms) < ?2",
    )?;
    let rows = statement.query_map(params![function_id, before_ms], |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What the rows know of an outcome that its file does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct History {
    pub(crate) count: u64,
    pub(crate) last_seen_ms: i64,
    pub(crate) last_recorded_ms: i64,
}

/// The history of each of a function's outcomes, by outcome id.
pub(crate) fn histories(conn: &Connection, function_id: &str) -> Result<HashMap<u64, History>, Error> {
    // A row edited out of shape has no history: its outcome's row is made
    // again from its file.
    let mut statement = conn.prepare_cached(&format!(
        "SELECT id, count, last_seen_ms, facts, last_recorded_ms FROM outcomes
         WHERE function_id = ?1 AND NOT ({UNREADABLE})"
    ))?;
    let rows = statement.query_map([function_id], |row| {
        let id = row.get::<_, String>(0).ok().and_then(|id| ids::parse_id(&id));
        let facts = facts_at(row, 3).ok().flatten();
        let history = History {
            count: u64::try_from(row.get::<_, i64>(1)?).unwrap_or(1),
            last_seen_ms: row.get(2)?,
            last_recorded_ms: row.get(4)?,
        };
        Ok((id.filter(|id| facts.is_some_and(|facts| facts.id == *id)), history))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        if let (Some(id), history) = row? {
            out.insert(id, history);
        }
    }
    Ok(out)
}

/// Inserts an outcome's row, counting `calls` calls that gave it (0 for an
/// outcome found on disk, which another process may be about to count).
pub(crate) fn insert(conn: &Connection, function_id: &str, outcome: &Outcome, calls: u64) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO outcomes (function_id, id, kind, arg_key, args, encoding, value_preview, error_type,
                               duration_ms, recorded_at_ms, last_seen_ms, count, manual, mock_only, partial, facts,
                               last_recorded_ms, body_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
         ON CONFLICT (function_id, id) DO UPDATE SET count = count + excluded.count,
             last_seen_ms = max(last_seen_ms, excluded.last_seen_ms), facts = excluded.facts,
             last_recorded_ms = max(coalesce(last_recorded_ms, 0), excluded.last_recorded_ms),
             body_hash = coalesce(excluded.body_hash, body_hash)",
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
        &pack(&outcome.facts())[..],
        outcome.last_recorded_ms().max(outcome.recorded_at_ms),
        outcome.body_hash.as_deref(),
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
/// `stamps`: the outcome folder's stamps before and after the file changed.
pub(crate) fn replace(
    conn: &mut Connection,
    function_id: &str,
    old_id: u64,
    outcome: &Outcome,
    stamps: Stamps,
) -> Result<(), Error> {
    change(conn, function_id, |tx| {
        functions::advance_files_stamp(tx, function_id, stamps.0.as_deref(), stamps.1.as_deref())?;
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
pub(crate) fn delete(conn: &mut Connection, function_id: &str, outcome_id: u64, stamps: Stamps) -> Result<(), Error> {
    change(conn, function_id, |tx| {
        functions::advance_files_stamp(tx, function_id, stamps.0.as_deref(), stamps.1.as_deref())?;
        delete_rows(tx, function_id, &[outcome_id])
    })
}

/// An outcome folder's stamps before and after a change of its files.
pub(crate) type Stamps = (Option<String>, Option<String>);

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
/// `stamps`: the outcome folder's stamps before and after its files went.
pub(crate) fn forget(conn: &mut Connection, function_id: &str, outcomes: &[u64], stamps: Stamps) -> Result<(), Error> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    delete_rows(&tx, function_id, outcomes)?;
    functions::advance_files_stamp(&tx, function_id, stamps.0.as_deref(), stamps.1.as_deref())?;
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
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Their outcomes, whose files are there, are among the missing rows.
    tx.execute(&format!("DELETE FROM outcomes WHERE {UNREADABLE}"), [function_id])?;
    for outcome in missing_rows {
        insert(&tx, function_id, outcome, 0)?;
    }
    for id in missing_files {
        tx.execute("DELETE FROM outcomes WHERE function_id = ?1 AND id = ?2", params![function_id, ids::id_hex(*id)])?;
    }
    tx.commit()?;
    Ok(())
}

/// An outcome row added by another process.
pub(crate) struct Added {
    pub(crate) function_id: String,
    pub(crate) indexed: Indexed,
    /// The hash of the body that recorded it, when known.
    pub(crate) body_hash: Option<String>,
}

/// The outcomes added since sequence number `after`, and the newest number.
pub(crate) fn added_since(conn: &Connection, after: i64) -> Result<(Vec<Added>, i64), Error> {
    let mut statement = conn.prepare_cached(
        "SELECT seq, function_id, body_hash, facts, count, last_recorded_ms, last_seen_ms
         FROM outcomes WHERE seq > ?1 ORDER BY seq",
    )?;
    let mut rows = statement.query([after])?;
    let mut newest = after;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        newest = newest.max(row.get(0)?);
        if let (Some(indexed), Ok(function_id)) = (indexed_at(row, 3), row.get(1)) {
            out.push(Added { function_id, indexed, body_hash: row.get(2).ok().flatten() });
        }
    }
    Ok((out, newest))
}

/// Whether the function has the outcome `id`.
pub(crate) fn exists(conn: &Connection, function_id: &str, id: u64) -> Result<bool, Error> {
    let found = conn
        .prepare_cached("SELECT 1 FROM outcomes WHERE function_id = ?1 AND id = ?2")?
        .query_row(params![function_id, ids::id_hex(id)], |_| Ok(()))
        .optional()?;
    Ok(found.is_some())
}

/// A function's outcomes, oldest first.
pub(crate) fn all(conn: &Connection, function_id: &str) -> Result<Vec<OutcomeRow>, Error> {
    let mut rows = page(conn, function_id, 0, u64::MAX)?;
    rows.reverse();
    Ok(rows)
}

pub(crate) fn newest_seq(conn: &Connection) -> Result<i64, Error> {
    Ok(conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM outcomes", [], |row| row.get(0))?)
}

/// The recorded outcomes of a function beyond the `keep` seen (recorded
/// again, or hit) most recently. Hand-made outcomes and those the mock
/// weights list were chosen by someone: they are kept, and not counted.
pub(crate) fn oldest_beyond(conn: &Connection, function_id: &str, keep: u64) -> Result<Vec<Facts>, Error> {
    let mut statement = conn.prepare_cached(
        "SELECT facts FROM outcomes WHERE function_id = ?1 AND manual = 0
             AND id NOT IN (SELECT outcome_id FROM mock_outcomes WHERE function_id = ?1)
         ORDER BY last_seen_ms DESC, seq DESC LIMIT -1 OFFSET ?2",
    )?;
    let mut rows = statement.query(params![function_id, sql::count(keep)])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.extend(facts_at(row, 0)?);
    }
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::outcome::{Payload, Recorded};
    use std::time::Duration;

    #[test]
    fn facts_pack_and_unpack() {
        let facts = Facts {
            id: u64::MAX - 3,
            arg_key: u128::MAX / 7,
            flags: Flags { manual: true, mock_only: false },
            partial: true,
        };
        assert_eq!(unpack(&pack(&facts)), Some(facts));
        assert_eq!(unpack(&pack(&facts)[..24]), None, "a blob of another size is no facts");
        let columns = facts_of_columns(&ids::id_hex(facts.id), &ids::arg_key_hex(facts.arg_key), true, false, true);
        assert_eq!(columns, Some(facts));
    }

    /// Each half of the ids reads from its rows alone: the load of a
    /// settled function never falls back to its files.
    #[test]
    fn both_halves_of_the_outcomes_read_from_their_rows() -> Result<(), Error> {
        let dir = tempfile::tempdir().map_err(|e| Error::Io { action: "create", path: "tmp".into(), source: e })?;
        let conn = crate::store::schema::open(dir.path())?;
        let recorded = Recorded::new(OutcomeKind::Return, Payload::Json("1".into()));
        for (n, id) in [1, u64::MAX - 1].into_iter().enumerate() {
            let outcome =
                Outcome::new(id, format!("{{\"n\":{n}}}"), recorded.clone(), Flags::default(), 5, Duration::ZERO);
            insert(&conn, "f", &outcome, 1)?;
        }
        for half in [IdHalf::Lower, IdHalf::Upper] {
            let mut read = Vec::new();
            assert!(indexed(&conn, "f", half, |chunk| read.extend(chunk))?, "{half:?} read its rows");
            assert_eq!(read.len(), 1, "{half:?}");
            assert_eq!(read[0].last_recorded_ms, 5);
        }
        Ok(())
    }
}
