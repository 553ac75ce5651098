//! The background writer: outcome files and database rows are written off
//! the caller's thread, in batches, one transaction per batch.
//!
//! Its queue is bounded by bytes (64 MiB). A sender waits
//! for room only when the queue is full, and never while holding a lock.
//! When the thread dies (a bug), it says so once; sends are then dropped
//! and flushes answer at once with why, so that no call or exit hangs.

mod batch;
mod queue;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use self::batch::{Batch, Batcher};
use self::queue::Queued;
use crate::model::error::Error;
use crate::model::outcome::{Facts, Outcome};
use crate::model::report::{self, warn_once};
use crate::store::calls::CallBatch;
use crate::store::schema;

/// How often the calls tallied in memory are written when nothing else is.
const TICK: Duration = Duration::from_millis(100);

/// What the runtime hands the writer: the calls it tallied in memory, and
/// a way to drop from memory what retention deletes.
pub(crate) trait Activity: Send + Sync {
    /// The calls logged since the last drain, per function id.
    fn drain(&self) -> Vec<(&'static str, CallBatch)>;

    /// These outcomes of the function are in their files now.
    fn written(&self, function_id: &str, outcome_ids: &[u64]);

    /// These outcomes of the function are not on disk: retention deleted
    /// them, or their files could not be written.
    fn dropped(&self, function_id: &str, outcomes: &[Facts]);
}

/// An outcome recorded for the first time, which needs a file and a row.
pub(crate) struct NewOutcome {
    pub(crate) function_id: &'static str,
    pub(crate) function_name: &'static str,
    pub(crate) outcome: Arc<Outcome>,
}

impl NewOutcome {
    /// About what it takes in the queue.
    fn size(&self) -> usize {
        let outcome = &self.outcome;
        outcome.args.len() + outcome.payload().text().len() + std::mem::size_of::<Outcome>() + 64
    }
}

pub(crate) enum Op {
    Record(Box<NewOutcome>),
    /// Answers on `done` once everything sent and logged before is written;
    /// `durable` also syncs it to the disk. The answer says what could not
    /// be written since the last flush, if anything.
    Flush {
        durable: bool,
        done: Sender<Result<(), String>>,
    },
    /// Writes what came before, then ends the thread: its runtime is gone.
    Stop,
}

/// The sending end, cloned into every function's state.
#[derive(Clone)]
pub(crate) struct Writer {
    ops: Sender<Op>,
    shared: Arc<Shared>,
}

/// What the sending ends and the thread share.
#[derive(Default)]
struct Shared {
    queued: Queued,
    /// Why the thread stopped, once it died.
    stopped: OnceLock<String>,
}

impl Writer {
    pub(crate) fn spawn(data_dir: PathBuf, activity: Arc<dyn Activity>) -> Result<Writer, Error> {
        let conn = schema::open(&data_dir)?;
        // Every batch is durable when its transaction commits.
        conn.pragma_update(None, "synchronous", "FULL")?;
        let (ops, receiver) = mpsc::channel();
        let shared = Arc::new(Shared::default());
        let thread_shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("cacheow-writer".to_owned())
            .spawn(move || {
                let batcher = Batcher::new(data_dir, conn, activity);
                let ended = catch_unwind(AssertUnwindSafe(|| run(&receiver, batcher, &thread_shared.queued)));
                if let Err(panic) = ended {
                    thread_shared.died(&panic);
                }
            })
            .map_err(|source| Error::Io { action: "start the writer thread for", path: PathBuf::new(), source })?;
        Ok(Writer { ops, shared })
    }

    /// Hands a new outcome to the writer, waiting first while the queue is
    /// full. The caller must hold no lock: the wait may be long.
    pub(crate) fn record(&self, outcome: NewOutcome) {
        if self.shared.stopped.get().is_some() {
            return;
        }
        let size = outcome.size();
        self.shared.queued.take(size, || self.shared.stopped.get().is_some());
        if self.ops.send(Op::Record(Box::new(outcome))).is_err() {
            // The thread is gone: nothing will make that room again.
            self.shared.queued.give(size);
        }
    }

    /// Blocks until everything sent before is written, for at most
    /// `timeout`; `durable` also syncs it to the disk. An error says what
    /// did not reach the disk, or why the writer cannot say.
    pub(crate) fn flush(&self, durable: bool, timeout: Duration) -> Result<(), String> {
        let (done, finished) = mpsc::channel();
        if self.ops.send(Op::Flush { durable, done }).is_err() {
            return Err(self.why_gone());
        }
        match finished.recv_timeout(timeout) {
            Ok(answer) => answer,
            Err(RecvTimeoutError::Timeout) => {
                let why = format!("cacheow's writer did not finish writing within {timeout:?}; it goes on");
                warn_once("writer:slow", format_args!("{why}"));
                Err(why)
            }
            Err(RecvTimeoutError::Disconnected) => Err(self.why_gone()),
        }
    }

    /// Ends the thread once it wrote what came before.
    pub(crate) fn stop(&self) {
        let _ = self.ops.send(Op::Stop);
    }

    fn why_gone(&self) -> String {
        self.shared.stopped.get().cloned().unwrap_or_else(|| "cacheow's writer has stopped".to_owned())
    }
}

impl Shared {
    /// The thread panicked: says so once, and lets every waiting sender go.
    fn died(&self, panic: &(dyn std::any::Any + Send)) {
        let message = report::panic_message(panic);
        let why = format!(
            "cacheow's writer stopped ({message}; please report it): from now on, what this process records is not \
             written; calls still return their real results"
        );
        warn_once("writer:died", format_args!("{why}"));
        let _ = self.stopped.set(why);
        self.queued.wake_all();
    }
}

fn run(ops: &Receiver<Op>, mut batcher: Batcher, queued: &Queued) {
    loop {
        let first = match ops.recv_timeout(TICK) {
            Ok(op) => Some(op),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let mut batch = Batch::default();
        batch.extend(first);
        batch.receive(ops);
        // Drained after the flushes were received: they answer for every
        // call logged before they were sent.
        let logs = batcher.drain_logs();
        let durable = batch.flushes.iter().any(|(durable, _)| *durable);
        let size = batch.records.iter().map(NewOutcome::size).sum();
        batcher.write(batch.records, logs, durable);
        queued.give(size);
        batcher.answer(batch.flushes);
        if batch.stop {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::outcome::{Flags, OutcomeKind, Payload, Recorded};

    /// An activity whose drain panics: a bug in the writer's batch.
    struct Broken;

    impl Activity for Broken {
        fn drain(&self) -> Vec<(&'static str, CallBatch)> {
            panic!("a bug while draining");
        }

        fn written(&self, _: &str, _: &[u64]) {}

        fn dropped(&self, _: &str, _: &[Facts]) {}
    }

    fn outcome(n: u64, size: usize) -> NewOutcome {
        let recorded = Recorded::new(OutcomeKind::Return, Payload::Json(format!("\"{}\"", "x".repeat(size)).into()));
        let outcome = Outcome::new(n, format!("{{\"n\":{n}}}"), recorded, Flags::default(), 0, Duration::ZERO);
        NewOutcome { function_id: "00000000000000ff", function_name: "app::f", outcome: Arc::new(outcome) }
    }

    #[test]
    fn a_writer_that_died_never_makes_anyone_wait() -> Result<(), Error> {
        let dir = tempfile::tempdir().map_err(|e| Error::Io { action: "create", path: "tmp".into(), source: e })?;
        std::fs::create_dir_all(dir.path().join("functions")).map_err(|e| Error::Io {
            action: "create",
            path: "tmp".into(),
            source: e,
        })?;
        let writer = Writer::spawn(dir.path().to_path_buf(), Arc::new(Broken))?;
        let answer = writer.flush(true, Duration::from_secs(5));
        assert!(answer.as_ref().is_err_and(|why| why.contains("stopped")), "{answer:?}");
        // More than the queue holds: nobody drains it, and nobody waits.
        let started = std::time::Instant::now();
        for n in 0..5 {
            writer.record(outcome(n, queue::QUEUE_BYTES / 2));
        }
        assert!(started.elapsed() < Duration::from_secs(5), "recording went on: {:?}", started.elapsed());
        assert!(writer.flush(false, Duration::from_secs(5)).is_err());
        Ok(())
    }
}
