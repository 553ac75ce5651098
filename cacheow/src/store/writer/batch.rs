//! One batch of the writer: the new outcomes' files, then, in one
//! transaction, their rows and the calls logged since the last batch; then
//! retention. What could not be written is counted, for the next flush to
//! tell.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Receiver;

use rusqlite::{Connection, TransactionBehavior};

use super::{Activity, NewOutcome, Op};
use crate::model::error::Error;
use crate::model::report::warn_once;
use crate::store::calls::{self, CallBatch};
use crate::store::{files, functions, outcomes, retention};

/// The most operations written in one transaction.
const MAX_BATCH: usize = 4096;
/// How many batches a repeat waits for its outcome's row (sent by another
/// thread, maybe not yet received) before it is dropped.
const REPEAT_PATIENCE: u8 = 20;

pub(super) type Flush = (bool, std::sync::mpsc::Sender<Result<(), String>>);

#[derive(Default)]
pub(super) struct Batch {
    pub(super) records: Vec<NewOutcome>,
    pub(super) flushes: Vec<Flush>,
    pub(super) stop: bool,
}

impl Batch {
    pub(super) fn extend(&mut self, ops: impl IntoIterator<Item = Op>) {
        for op in ops {
            match op {
                Op::Record(record) => self.records.push(*record),
                Op::Flush { durable, done } => self.flushes.push((durable, done)),
                Op::Stop => self.stop = true,
            }
        }
    }

    /// Takes what is waiting, up to a full batch.
    pub(super) fn receive(&mut self, ops: &Receiver<Op>) {
        while !self.stop && self.records.len() + self.flushes.len() < MAX_BATCH {
            match ops.try_recv() {
                Ok(op) => self.extend([op]),
                Err(_) => break,
            }
        }
    }
}

pub(super) struct Batcher {
    data_dir: PathBuf,
    conn: Connection,
    activity: Arc<dyn Activity>,
    /// Outcome directories known to exist.
    dirs: HashSet<PathBuf>,
    /// Files written, and their folders, since the last durable flush.
    unsynced_files: Vec<PathBuf>,
    unsynced_dirs: HashSet<PathBuf>,
    /// Repeats whose outcome had no row yet, by function and outcome id,
    /// with how many batches they waited: the outcome's record, sent by
    /// the thread that first recorded it, may still be on its way.
    carried: HashMap<(&'static str, u64), Repeat>,
    /// What could not be written since the last flush, and the last why.
    lost: u64,
    why_lost: Option<String>,
}

impl Batcher {
    pub(super) fn new(data_dir: PathBuf, conn: Connection, activity: Arc<dyn Activity>) -> Self {
        Batcher {
            data_dir,
            conn,
            activity,
            dirs: HashSet::new(),
            unsynced_files: Vec::new(),
            unsynced_dirs: HashSet::new(),
            carried: HashMap::new(),
            lost: 0,
            why_lost: None,
        }
    }

    /// The calls logged since the last batch.
    pub(super) fn drain_logs(&self) -> Vec<(&'static str, CallBatch)> {
        let mut logs = self.activity.drain();
        logs.retain(|(_, batch)| !batch.is_empty());
        logs
    }

    pub(super) fn write(&mut self, records: Vec<NewOutcome>, logs: Vec<(&'static str, CallBatch)>, durable: bool) {
        let renewing = logs.iter().filter(|(_, batch)| !batch.repeats.is_empty()).map(|(function_id, _)| *function_id);
        let mut folders =
            Folders::before(&self.data_dir, by_function(&records).into_iter().map(|(id, _)| id), renewing);
        // Files first: a row never points at a file that is not there.
        let (records, unwritten): (Vec<_>, Vec<_>) = records.into_iter().partition(|record| self.write_file(record));
        for (function_id, batch) in &logs {
            for (outcome_id, (_, at_ms)) in &batch.repeats {
                renew_file(&self.data_dir, function_id, *outcome_id, *at_ms);
            }
        }
        if durable {
            self.sync();
        }
        folders.after();
        let anything = !records.is_empty() || !logs.is_empty() || !self.carried.is_empty();
        if let Err(error) = if anything { self.write_rows(&records, &logs, &folders) } else { Ok(()) } {
            let cause = if error.is_disk_full() { Cause::Full } else { Cause::Other("database".to_owned()) };
            let why = format!("cacheow could not record calls in {}: {error}", self.data_dir.display());
            self.lose(records.len() as u64, cause, why);
        }
        // Their files are there, rows or not: a load finds them.
        for (function_id, written) in by_function(&records) {
            self.activity.written(function_id, &written.iter().map(|record| record.outcome.id).collect::<Vec<_>>());
        }
        for (function_id, lost) in by_function(&unwritten) {
            self.activity.dropped(function_id, &lost.iter().map(|record| record.outcome.facts()).collect::<Vec<_>>());
        }
        for function_id in folders.functions() {
            self.trim(function_id);
        }
    }

    /// Answers the flushes: what could not be written since the last one.
    pub(super) fn answer(&mut self, flushes: Vec<Flush>) {
        if flushes.is_empty() {
            return;
        }
        let answer = match std::mem::take(&mut self.lost) {
            0 => Ok(()),
            lost => Err(format!(
                "{lost} outcome(s) could not be written since the last flush: {}",
                self.why_lost.take().unwrap_or_default()
            )),
        };
        for (_, done) in flushes {
            let _ = done.send(answer.clone());
        }
    }

    /// Counts what could not be written, and says why, once per `cause`.
    fn lose(&mut self, count: u64, cause: Cause, why: String) {
        match cause {
            // The files and the database fill up together: one warning.
            Cause::Full => warn_once(
                "writer:full",
                format_args!(
                    "{why}. The disk of cacheow's data dir is full: what is recorded from now on is lost until \
                     there is room again; calls still return their real results"
                ),
            ),
            Cause::Other(cause) => warn_once(format!("writer:{cause}"), format_args!("{why}")),
        }
        self.lost += count;
        self.why_lost = Some(why);
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

    /// Writes the file of a new outcome; `false` when it could not. A file
    /// of that name whose arguments were edited by hand in place is kept:
    /// it answers other arguments now, and the edit is the user's. One of
    /// the same arguments (a value that no longer decoded, or the same
    /// outcome from another process) or one that does not read is written
    /// over.
    fn write_file(&mut self, record: &NewOutcome) -> bool {
        let path = files::outcome_path(&self.data_dir, record.function_id, record.outcome.id);
        if files::read_outcome(&path, record.outcome.id).is_ok_and(|kept| kept.arg_key != record.outcome.arg_key) {
            return true;
        }
        let text = match files::render(record.function_name, record.function_id, &record.outcome, files::Style::Runtime)
        {
            Ok(text) => text,
            Err(error) => {
                self.lose(
                    1,
                    Cause::Other("render".to_owned()),
                    format!("cacheow could not write an outcome of `{}`: {error}", record.function_name),
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
                if let Some(dir) = path.parent() {
                    self.unsynced_dirs.insert(dir.to_path_buf());
                }
                self.unsynced_files.push(path);
                true
            }
            Err(error) => {
                let why = format!("cacheow could not write the outcome file {}: {error}", path.display());
                let cause =
                    if files::is_full(&error) { Cause::Full } else { Cause::Other(format!("file:{:?}", error.kind())) };
                self.lose(1, cause, why);
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

    fn write_rows(
        &mut self,
        records: &[NewOutcome],
        logs: &[(&'static str, CallBatch)],
        folders: &Folders,
    ) -> Result<(), Error> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for record in records {
            outcomes::insert(&tx, record.function_id, &record.outcome, 1)?;
        }
        for (function_id, before, after) in folders.stamps() {
            functions::advance_files_stamp(&tx, function_id, before, after)?;
        }
        let mut carried = HashMap::new();
        for (function_id, batch) in logs {
            for (outcome_id, (count, last_seen)) in calls::add(&tx, function_id, batch)? {
                carried.insert((*function_id, outcome_id), Repeat { count, last_seen, waited: 0 });
            }
        }
        for ((function_id, outcome_id), repeat) in std::mem::take(&mut self.carried) {
            let waited = repeat.waited + 1;
            if !calls::repeat(&tx, function_id, outcome_id, repeat.count, repeat.last_seen)? && waited < REPEAT_PATIENCE
            {
                let waiting = carried.entry((function_id, outcome_id)).or_insert(Repeat { waited, ..repeat });
                if waiting.waited == 0 {
                    waiting.count += repeat.count;
                    waiting.last_seen = waiting.last_seen.max(repeat.last_seen);
                }
            }
        }
        tx.commit()?;
        self.carried = carried;
        Ok(())
    }

    /// Makes the files written since the last durable flush, and their
    /// folders, durable: one `fdatasync` each, several at once, which the
    /// file system commits together.
    fn sync(&mut self) {
        let files = std::mem::take(&mut self.unsynced_files);
        let dirs: Vec<PathBuf> = self.unsynced_dirs.drain().collect();
        if let Err(error) = sync_all(&files, &dirs) {
            let why = format!("cacheow could not sync the outcome files of {}: {error}", self.data_dir.display());
            let cause = if files::is_full(&error) { Cause::Full } else { Cause::Other("sync".to_owned()) };
            self.lose(files.len().max(1) as u64, cause, why);
        }
    }
}

/// Calls that gave an outcome again, not yet counted in its row.
#[derive(Debug, Clone, Copy)]
struct Repeat {
    count: u64,
    last_seen: i64,
    /// Batches it waited for the row.
    waited: u8,
}

/// `fdatasync`s the files, on a few threads, then `fsync`s the folders.
fn sync_all(files: &[PathBuf], dirs: &[PathBuf]) -> std::io::Result<()> {
    const THREADS: usize = 8;
    let chunk = files.len().div_ceil(THREADS).max(1);
    std::thread::scope(|scope| {
        let syncing: Vec<_> = files
            .chunks(chunk)
            .map(|chunk| scope.spawn(move || chunk.iter().try_for_each(|file| std::fs::File::open(file)?.sync_data())))
            .collect();
        syncing.into_iter().try_for_each(|handle| {
            handle.join().unwrap_or_else(|_| Err(std::io::Error::other("a sync thread panicked")))
        })
    })?;
    for dir in dirs {
        sync_dir(dir)?;
    }
    Ok(())
}

/// A folder's entries are durable once it is synced, on Unix.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Why something could not be written: each is warned of once.
enum Cause {
    /// No room left on the disk, or in the file size or quota allowed.
    Full,
    Other(String),
}

/// The records of each function, in order of function id.
fn by_function(records: &[NewOutcome]) -> Vec<(&'static str, Vec<&NewOutcome>)> {
    let mut grouped: std::collections::BTreeMap<&'static str, Vec<&NewOutcome>> = Default::default();
    for record in records {
        grouped.entry(record.function_id).or_default().push(record);
    }
    grouped.into_iter().collect()
}

/// How much older than a renewal an outcome file's `last_recorded_at` may
/// be before the file is written again: a hot outcome recorded again and
/// again costs a file write a second at most.
const RENEW_FILE_AFTER_MS: i64 = 1000;

/// Writes `last_recorded_at` of an outcome recorded again at `at_ms` into
/// its file, so that a rebuild from the files alone keeps its age. Best
/// effort: the database has it already.
fn renew_file(data_dir: &Path, function_id: &str, outcome_id: u64, at_ms: i64) {
    let path = files::outcome_path(data_dir, function_id, outcome_id);
    let Ok(text) = std::fs::read_to_string(&path) else { return };
    let Ok(parsed) = files::parse(outcome_id, &text) else { return };
    if parsed.outcome.last_recorded_ms().max(parsed.outcome.recorded_at_ms) + RENEW_FILE_AFTER_MS > at_ms {
        return;
    }
    let outcome = parsed.outcome.recorded_again_at(at_ms);
    let name = parsed.function.as_deref().unwrap_or(function_id);
    if let Ok(text) = files::render(name, function_id, &outcome, files::Style::Runtime) {
        let _ = files::write_atomic(&path, text.as_bytes());
    }
}

/// The outcome folders a batch writes in, with their stamps before and
/// after its files: the rows then match the files again.
struct Folders {
    data_dir: PathBuf,
    stamps: Vec<(&'static str, Option<String>, Option<String>)>,
}

impl Folders {
    /// The folders of the functions with new outcomes, and of those whose
    /// files are renewed.
    fn before(
        data_dir: &Path,
        recording: impl Iterator<Item = &'static str>,
        renewing: impl Iterator<Item = &'static str>,
    ) -> Folders {
        let mut function_ids: Vec<&'static str> = recording.chain(renewing).collect();
        function_ids.sort_unstable();
        function_ids.dedup();
        let stamps = function_ids
            .into_iter()
            .map(|function_id| (function_id, files::stamp(&files::outcomes_dir(data_dir, function_id)), None))
            .collect();
        Folders { data_dir: data_dir.to_path_buf(), stamps }
    }

    fn after(&mut self) {
        for (function_id, _, after) in &mut self.stamps {
            *after = files::stamp(&files::outcomes_dir(&self.data_dir, function_id));
        }
    }

    fn stamps(&self) -> impl Iterator<Item = (&'static str, Option<&str>, Option<&str>)> {
        self.stamps.iter().map(|(function_id, before, after)| (*function_id, before.as_deref(), after.as_deref()))
    }

    fn functions(&self) -> Vec<&'static str> {
        self.stamps.iter().map(|(function_id, _, _)| *function_id).collect()
    }
}
