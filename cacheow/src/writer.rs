//! The background writer: outcome files and database rows are written off
//! the caller's thread, in batches, one transaction per batch.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior, params};

use crate::Error;
use crate::files;
use crate::ids;
use crate::outcome::{Outcome, OutcomeKind};
use crate::warn_once::warn_once;

/// The most operations written in one transaction.
const MAX_BATCH: usize = 8192;
/// Recent calls kept per function, for the control panel.
pub(crate) const RECENT_CALLS: usize = 200;

/// What a call did, for the stats and the recent calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallEvent {
    /// Default mode: the function ran and its outcome was recorded.
    Recorded,
    /// Cache mode: answered from a recording.
    Hit,
    /// Cache mode: no recording, the function ran.
    Miss,
    /// Mock mode: answered from a recording.
    Mock,
}

impl CallEvent {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CallEvent::Recorded => "recorded",
            CallEvent::Hit => "hit",
            CallEvent::Miss => "miss",
            CallEvent::Mock => "mock",
        }
    }
}

/// One call, as the caller hands it to the writer.
pub(crate) struct Call {
    pub(crate) function_id: &'static str,
    pub(crate) function_name: &'static str,
    pub(crate) event: CallEvent,
    pub(crate) at_ms: i64,
    pub(crate) duration: Duration,
    pub(crate) arg_key: u128,
    pub(crate) outcome: Option<Arc<Outcome>>,
    /// Whether `outcome` is new, so needs a file.
    pub(crate) new_outcome: bool,
}

pub(crate) enum Op {
    Call(Box<Call>),
    /// Answers on `done` once everything sent before is written; `durable`
    /// also syncs it to the disk.
    Flush {
        durable: bool,
        done: Sender<()>,
    },
}

/// The sending end, cloned into every function's state.
#[derive(Clone)]
pub(crate) struct Writer {
    ops: Sender<Op>,
}

impl Writer {
    pub(crate) fn spawn(data_dir: PathBuf) -> Result<Writer, Error> {
        let conn = crate::sqlite::open(&data_dir)?;
        // Every batch is durable when its transaction commits.
        conn.pragma_update(None, "synchronous", "FULL")?;
        let (ops, receiver) = mpsc::channel();
        std::thread::Builder::new()
            .name("cacheow-writer".to_owned())
            .spawn(move || run(receiver, Batcher::new(data_dir, conn)))
            .map_err(|source| Error::Io { action: "start the writer thread for", path: PathBuf::new(), source })?;
        Ok(Writer { ops })
    }

    pub(crate) fn send(&self, op: Op) {
        // Only fails once the writer thread is gone, at the very end.
        let _ = self.ops.send(op);
    }

    /// Blocks until everything sent before is written, for at most `timeout`.
    pub(crate) fn flush(&self, durable: bool, timeout: Duration) -> bool {
        let (done, finished) = mpsc::channel();
        self.send(Op::Flush { durable, done });
        finished.recv_timeout(timeout).is_ok()
    }
}

fn run(ops: Receiver<Op>, mut batcher: Batcher) {
    while let Ok(first) = ops.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match ops.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        batcher.write(batch);
    }
}

struct Batcher {
    data_dir: PathBuf,
    conn: Connection,
    /// Outcome directories known to exist.
    dirs: HashSet<PathBuf>,
    /// Files written since the last durable flush.
    unsynced: Vec<PathBuf>,
}

#[derive(Default)]
struct StatsDelta {
    total_calls: i64,
    cache_hits: i64,
    cache_misses: i64,
    mock_calls: i64,
    errors: i64,
}

impl Batcher {
    fn new(data_dir: PathBuf, conn: Connection) -> Self {
        Batcher { data_dir, conn, dirs: HashSet::new(), unsynced: Vec::new() }
    }

    fn write(&mut self, batch: Vec<Op>) {
        let mut calls = Vec::new();
        let mut flushes = Vec::new();
        for op in batch {
            match op {
                Op::Call(call) => calls.push(*call),
                Op::Flush { durable, done } => flushes.push((durable, done)),
            }
        }
        // Files first: a row never points at a file that is not there.
        let written: Vec<bool> = calls.iter().map(|call| self.write_file(call)).collect();
        if let Err(error) = self.write_rows(&calls, &written) {
            warn_once(
                "writer:database",
                format_args!("cacheow could not record calls in {}: {error}", self.data_dir.display()),
            );
        }
        if flushes.iter().any(|(durable, _)| *durable) {
            self.sync();
        }
        for (_, done) in flushes {
            let _ = done.send(());
        }
    }

    /// Writes the file of a new outcome; `false` when there is none to write
    /// or it could not be written.
    fn write_file(&mut self, call: &Call) -> bool {
        let (Some(outcome), true) = (&call.outcome, call.new_outcome) else { return false };
        let path = files::outcome_path(&self.data_dir, call.function_id, outcome.id);
        let result = self.ensure_dir(&path).and_then(|()| {
            let text = files::render(call.function_name, call.function_id, outcome).map_err(std::io::Error::other)?;
            files::write_atomic(&path, text.as_bytes())
        });
        match result {
            Ok(()) => {
                self.unsynced.push(path);
                true
            }
            Err(error) => {
                warn_once(
                    format!("writer:file:{:?}", error.kind()),
                    format_args!("cacheow could not write the outcome file {}: {error}", path.display()),
                );
                false
            }
        }
    }

    fn ensure_dir(&mut self, file: &Path) -> std::io::Result<()> {
        let Some(dir) = file.parent() else { return Ok(()) };
        if !self.dirs.contains(dir) {
            std::fs::create_dir_all(dir)?;
            self.dirs.insert(dir.to_path_buf());
        }
        Ok(())
    }

    fn write_rows(&mut self, calls: &[Call], written: &[bool]) -> Result<(), Error> {
        let mut stats: HashMap<&str, StatsDelta> = HashMap::new();
        // Repeats of an outcome already recorded: (function, outcome) → (calls, last seen).
        let mut seen: HashMap<(&str, u64), (i64, i64)> = HashMap::new();
        let mut recent: HashMap<&str, Vec<&Call>> = HashMap::new();
        for call in calls {
            let delta = stats.entry(call.function_id).or_default();
            delta.total_calls += 1;
            match call.event {
                CallEvent::Hit => delta.cache_hits += 1,
                CallEvent::Miss => delta.cache_misses += 1,
                CallEvent::Mock => delta.mock_calls += 1,
                CallEvent::Recorded => {}
            }
            if let Some(outcome) = &call.outcome {
                if outcome.kind == OutcomeKind::Error {
                    delta.errors += 1;
                }
                if !call.new_outcome && matches!(call.event, CallEvent::Recorded | CallEvent::Miss) {
                    let entry = seen.entry((call.function_id, outcome.id)).or_insert((0, call.at_ms));
                    entry.0 += 1;
                    entry.1 = entry.1.max(call.at_ms);
                }
            }
            recent.entry(call.function_id).or_default().push(call);
        }

        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            for (call, _) in calls.iter().zip(written).filter(|(_, written)| **written) {
                if let Some(outcome) = &call.outcome {
                    crate::sqlite::insert_outcome(&tx, call.function_id, outcome, 1)?;
                }
            }
            let mut repeat = tx.prepare_cached(
                "UPDATE outcomes SET count = count + ?3, last_seen_ms = max(last_seen_ms, ?4)
                 WHERE function_id = ?1 AND id = ?2",
            )?;
            for ((function_id, id), (count, last_seen)) in &seen {
                repeat.execute(params![function_id, ids::id_hex(*id), count, last_seen])?;
            }
            let mut add_stats = tx.prepare_cached(
                "INSERT INTO stats (function_id, total_calls, cache_hits, cache_misses, mock_calls, errors)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (function_id) DO UPDATE SET total_calls = total_calls + excluded.total_calls,
                     cache_hits = cache_hits + excluded.cache_hits, cache_misses = cache_misses + excluded.cache_misses,
                     mock_calls = mock_calls + excluded.mock_calls, errors = errors + excluded.errors",
            )?;
            for (function_id, d) in &stats {
                add_stats.execute(params![
                    function_id,
                    d.total_calls,
                    d.cache_hits,
                    d.cache_misses,
                    d.mock_calls,
                    d.errors
                ])?;
            }
            let mut add_call = tx.prepare_cached(
                "INSERT INTO calls (function_id, at_ms, event, duration_ms, arg_key, outcome_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let mut prune = tx.prepare_cached(
                "DELETE FROM calls WHERE function_id = ?1 AND id <= (
                     SELECT id FROM calls WHERE function_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
            )?;
            for (function_id, calls) in &recent {
                for call in calls.iter().rev().take(RECENT_CALLS).rev() {
                    add_call.execute(params![
                        function_id,
                        call.at_ms,
                        call.event.as_str(),
                        call.duration.as_micros() as f64 / 1000.0,
                        ids::arg_key_hex(call.arg_key),
                        call.outcome.as_ref().map(|outcome| outcome.id_hex()),
                    ])?;
                }
                prune.execute(params![function_id, RECENT_CALLS as i64])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Makes the files written so far durable; the database already is.
    fn sync(&mut self) {
        let files = std::mem::take(&mut self.unsynced);
        if files.is_empty() {
            return;
        }
        if let Err(error) = sync_files(&self.data_dir, &files) {
            warn_once("writer:sync", format_args!("cacheow could not sync {}: {error}", self.data_dir.display()));
        }
    }
}

/// One `syncfs` for all the files written, rather than one `fsync` each.
#[cfg(target_os = "linux")]
fn sync_files(data_dir: &Path, _files: &[PathBuf]) -> std::io::Result<()> {
    let dir = std::fs::File::open(data_dir)?;
    rustix::fs::syncfs(&dir).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn sync_files(_data_dir: &Path, files: &[PathBuf]) -> std::io::Result<()> {
    let mut dirs = HashSet::new();
    for file in files {
        std::fs::File::open(file)?.sync_all()?;
        dirs.extend(file.parent().map(Path::to_path_buf));
    }
    dirs.iter().try_for_each(|dir| std::fs::File::open(dir)?.sync_all())
}
