//! The background writer: outcome files and database rows are written off
//! the caller's thread, in batches, one transaction per batch.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use crate::model::error::Error;
use crate::model::outcome::Outcome;
use crate::model::report::warn_once;
use crate::store::calls::{self, CallBatch};
use crate::store::{files, outcomes, retention, schema};

/// The most operations waiting for the writer. Past it, recording waits for
/// the disk: what a crash can lose stays a fraction of a second of writes
/// (the writer writes some 17,000 outcome files a second).
const QUEUE: usize = 256;
/// The most operations written in one transaction.
const MAX_BATCH: usize = 2 * QUEUE;
/// How often the calls tallied in memory are written when nothing else is.
const TICK: Duration = Duration::from_millis(100);

/// What the runtime hands the writer: the calls it tallied in memory, and
/// a way to drop from memory what retention deletes.
pub(crate) trait Activity: Send + Sync {
    /// The calls logged since the last drain, per function id.
    fn drain(&self) -> Vec<(&'static str, CallBatch)>;

    /// Retention deleted these outcomes of the function.
    fn dropped(&self, function_id: &str, outcome_ids: &[u64]);
}

/// An outcome recorded for the first time, which needs a file and a row.
pub(crate) struct NewOutcome {
    pub(crate) function_id: &'static str,
    pub(crate) function_name: &'static str,
    pub(crate) outcome: Arc<Outcome>,
}

pub(crate) enum Op {
    Record(Box<NewOutcome>),
    /// Answers on `done` once everything sent and logged before is written;
    /// `durable` also syncs it to the disk.
    Flush {
        durable: bool,
        done: Sender<()>,
    },
    /// Writes what came before, then ends the thread: its runtime is gone.
    Stop,
}

/// The sending end, cloned into every function's state.
#[derive(Clone)]
pub(crate) struct Writer {
    ops: SyncSender<Op>,
}

impl Writer {
    pub(crate) fn spawn(data_dir: PathBuf, activity: Arc<dyn Activity>) -> Result<Writer, Error> {
        let conn = schema::open(&data_dir)?;
        // Every batch is durable when its transaction commits.
        conn.pragma_update(None, "synchronous", "FULL")?;
        let (ops, receiver) = mpsc::sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("cacheow-writer".to_owned())
            .spawn(move || run(receiver, Batcher::new(data_dir, conn, activity)))
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
    // Flushes received after the last drain of the call logs: answered
    // after the next one, which holds every call logged before them.
    let mut deferred: Vec<Flush> = Vec::new();
    loop {
        let first = if deferred.is_empty() {
            match ops.recv_timeout(TICK) {
                Ok(op) => Some(op),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        } else {
            ops.try_recv().ok()
        };
        let mut batch = Batch::default();
        batch.extend(first);
        batch.receive(&ops);
        let answered = std::mem::take(&mut batch.flushes);
        let logs = batcher.drain_logs();
        // Received after the drain: outcomes whose repeats the drain holds
        // are among them, so they are written in this batch too.
        batch.receive(&ops);
        batcher.write(batch.records, logs);
        batcher.answer(deferred.into_iter().chain(answered));
        deferred = batch.flushes;
        if batch.stop {
            batcher.answer(std::mem::take(&mut deferred).into_iter());
            return;
        }
    }
}

type Flush = (bool, Sender<()>);

#[derive(Default)]
struct Batch {
    records: Vec<NewOutcome>,
    flushes: Vec<Flush>,
    stop: bool,
}

impl Batch {
    fn extend(&mut self, ops: impl IntoIterator<Item = Op>) {
        for op in ops {
            match op {
                Op::Record(record) => self.records.push(*record),
                Op::Flush { durable, done } => self.flushes.push((durable, done)),
                Op::Stop => self.stop = true,
            }
        }
    }

    /// Takes what is waiting, up to a full batch.
    fn receive(&mut self, ops: &Receiver<Op>) {
        while !self.stop && self.records.len() + self.flushes.len() < MAX_BATCH {
            match ops.try_recv() {
                Ok(op) => self.extend([op]),
                Err(_) => break,
            }
        }
    }
}

struct Batcher {
    data_dir: PathBuf,
    conn: Connection,
    activity: Arc<dyn Activity>,
    /// Outcome directories known to exist.
    dirs: HashSet<PathBuf>,
    /// Whether files were written since the last durable flush.
    unsynced: bool,
}

impl Batcher {
    fn new(data_dir: PathBuf, conn: Connection, activity: Arc<dyn Activity>) -> Self {
        Batcher { data_dir, conn, activity, dirs: HashSet::new(), unsynced: false }
    }

    fn drain_logs(&self) -> Vec<(&'static str, CallBatch)> {
        let mut logs = self.activity.drain();
        logs.retain(|(_, batch)| !batch.is_empty());
        logs
    }

    fn write(&mut self, mut records: Vec<NewOutcome>, logs: Vec<(&'static str, CallBatch)>) {
        // Files first: a row never points at a file that is not there.
        records.retain(|record| self.write_file(record));
        let rows = if records.is_empty() && logs.is_empty() { Ok(()) } else { self.write_rows(&records, &logs) };
        if let Err(error) = rows {
            warn_once(
                "writer:database",
                format_args!("cacheow could not record calls in {}: {error}", self.data_dir.display()),
            );
        }
        let mut grown: Vec<&'static str> = records.iter().map(|record| record.function_id).collect();
        grown.sort_unstable();
        grown.dedup();
        for function_id in grown {
            self.trim(function_id);
        }
    }

    /// Keeps a function that gained outcomes within its cap, if it has one.
    fn trim(&mut self, function_id: &'static str) {
        match retention::trim(&mut self.conn, &self.data_dir, function_id) {
            Ok(dropped) if !dropped.is_empty() => self.activity.dropped(function_id, &dropped),
            Ok(_) => {}
            Err(error) => warn_once(
                format!("writer:retention:{function_id}"),
                format_args!("cacheow could not drop the oldest outcomes of {function_id}: {error}"),
            ),
        }
    }

    fn answer(&mut self, flushes: impl Iterator<Item = Flush>) {
        let flushes: Vec<Flush> = flushes.collect();
        if flushes.iter().any(|(durable, _)| *durable) {
            self.sync();
        }
        for (_, done) in flushes {
            let _ = done.send(());
        }
    }

    /// Writes the file of a new outcome; `false` when it could not.
    fn write_file(&mut self, record: &NewOutcome) -> bool {
        let path = files::outcome_path(&self.data_dir, record.function_id, record.outcome.id);
        let text = match files::render(record.function_name, record.function_id, &record.outcome, files::Style::Runtime)
        {
            Ok(text) => text,
            Err(error) => {
                warn_once(
                    "writer:render",
                    format_args!("cacheow could not write an outcome of `{}`: {error}", record.function_name),
                );
                return false;
            }
        };
        let mut result = self.ensure_dir(&path).and_then(|()| files::write_atomic(&path, text.as_bytes()));
        if result.as_ref().is_err_and(|error| error.kind() == std::io::ErrorKind::NotFound) {
            // The directory was deleted (its outcomes cleared): make it again.
            self.dirs.clear();
            result = self.ensure_dir(&path).and_then(|()| files::write_atomic(&path, text.as_bytes()));
        }
        match result {
            Ok(()) => {
                self.unsynced = true;
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

    fn write_rows(&mut self, records: &[NewOutcome], logs: &[(&'static str, CallBatch)]) -> Result<(), Error> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for record in records {
            outcomes::insert(&tx, record.function_id, &record.outcome, 1)?;
        }
        for (function_id, batch) in logs {
            calls::add(&tx, function_id, batch)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Makes the files written so far durable; the database already is.
    fn sync(&mut self) {
        if !std::mem::take(&mut self.unsynced) {
            return;
        }
        if let Err(error) = sync_files(&self.data_dir) {
            warn_once("writer:sync", format_args!("cacheow could not sync {}: {error}", self.data_dir.display()));
        }
    }
}

/// One `syncfs` for all the files written, rather than one `fsync` each.
#[cfg(target_os = "linux")]
fn sync_files(data_dir: &Path) -> std::io::Result<()> {
    let dir = std::fs::File::open(data_dir)?;
    rustix::fs::syncfs(&dir).map_err(std::io::Error::from)
}

/// Elsewhere, every outcome file of the data dir.
#[cfg(not(target_os = "linux"))]
fn sync_files(data_dir: &Path) -> std::io::Result<()> {
    for function in std::fs::read_dir(data_dir.join("functions"))? {
        let outcomes = function?.path().join("outcomes");
        for file in std::fs::read_dir(&outcomes).into_iter().flatten() {
            std::fs::File::open(file?.path())?.sync_all()?;
        }
        std::fs::File::open(&outcomes)?.sync_all()?;
    }
    Ok(())
}
