//! The shared tier: a Redis server that every process pointed at it shares
//! (the `redis` feature, while `CACHEOW_REDIS_URL` is set). The data dir
//! stays the first tier and decides every call; this one is asked on a
//! local miss, and is sent what the process records.
//!
//! The Redis client runs on a thread of its own with its own small tokio
//! runtime, whatever the program runs on. Callers only send it commands
//! over a channel, which never blocks: a push is queued, and a pull is
//! answered through a callback, then a [`Signal`] the caller may wait for
//! as long as its budget allows. An answer that comes later is still kept.

// Without the `redis` feature, nothing makes a `Shared`; without the
// `server` feature, no panel shows it.
#![cfg_attr(not(all(feature = "redis", feature = "server")), allow(dead_code))]

#[cfg(feature = "redis")]
pub(crate) mod admin;
#[cfg(feature = "redis")]
mod client;
#[cfg(feature = "redis")]
pub(crate) mod commands;
#[cfg(feature = "redis")]
mod direct;
#[cfg(feature = "redis")]
mod envelope;
#[cfg(feature = "redis")]
mod failure;
pub(crate) mod layout;

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::model::outcome::Outcome;
use crate::model::report;
use crate::model::secret_url::without_password;
use crate::model::signal::{Reply, Signal};

/// The most outcomes kept for Redis while it is unreachable: past it, new
/// ones are not pushed (one warning), and `cacheow push` sends them later.
const MAX_BACKLOG: usize = 100_000;

/// Installs rustls's provider, before any connection on any thread: a
/// `rediss://` URL needs it.
#[cfg(feature = "redis")]
pub(crate) fn install_tls_provider() {
    #[cfg(feature = "redis-tls")]
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// What the shared tier needs to know of its server.
#[derive(Clone)]
pub(crate) struct SharedConfig {
    /// A `redis://` or `rediss://` URL, password included.
    pub(crate) url: String,
    pub(crate) prefix: String,
    /// The longest a local miss waits for an answer.
    pub(crate) budget: Duration,
}

impl std::fmt::Debug for SharedConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedConfig")
            .field("url", &without_password(&self.url))
            .field("prefix", &self.prefix)
            .field("budget", &self.budget)
            .finish()
    }
}

/// Whether the server answers, as far as the last command told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Connection {
    /// No command has been answered yet.
    Connecting,
    Up,
    /// It did not answer: calls go on with the data dir alone, and what is
    /// recorded meanwhile is pushed once it is back.
    Down,
    /// It refused the credentials of the URL.
    Refused,
}

impl Connection {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Connection::Connecting => "connecting",
            Connection::Up => "connected",
            Connection::Down => "unreachable",
            Connection::Refused => "refused the credentials",
        }
    }

    fn from_u8(raw: u8) -> Connection {
        // In the order of their discriminants.
        const ALL: [Connection; 4] = [Connection::Connecting, Connection::Up, Connection::Down, Connection::Refused];
        ALL.get(usize::from(raw)).copied().unwrap_or(Connection::Connecting)
    }
}

/// An outcome recorded in this process, for Redis: the whole outcome the
/// first time, and a count for each time it is recorded again.
pub(crate) struct Push {
    pub(crate) function_id: &'static str,
    pub(crate) function_name: &'static str,
    pub(crate) tags: &'static [&'static str],
    /// Its life in Redis: the function's ttl.
    pub(crate) ttl: Option<Duration>,
    /// The hash of the body that recorded it.
    pub(crate) body_hash: &'static str,
    pub(crate) what: Pushed,
}

pub(crate) enum Pushed {
    /// Recorded for the first time in this process.
    Outcome(Arc<Outcome>),
    /// Recorded again, at this time.
    Again { id: u64, arg_key: u128, at_ms: i64 },
    /// The call of these arguments ended: its in-flight mark is released,
    /// after what it recorded, which was queued before.
    Released { arg_key: u128 },
}

/// What a pull found: outcomes that read, and belong to the function asked
/// for. What did not was warned of, and is left out.
pub(crate) type Pulled = Vec<Outcome>;

/// Keeps what a pull found, when it comes: the caller may have stopped
/// waiting by then.
pub(crate) type Keep = Box<dyn FnOnce(Pulled) + Send>;

pub(crate) enum Command {
    Pull {
        function_id: &'static str,
        arg_key: u128,
        keep: Keep,
        answered: Arc<Signal>,
    },
    /// Every outcome of the function Redis holds.
    PullAll {
        function_id: String,
        keep: Keep,
        answered: Arc<Signal>,
    },
    /// Takes the in-flight mark of a key, for `dedupe = "processes"`:
    /// `taken` says whether this process got it.
    Mark {
        function_id: &'static str,
        arg_key: u128,
        life: Duration,
        taken: Arc<Reply<bool>>,
    },
    /// How many outcomes of the function Redis holds, for the panel.
    Count {
        function_id: String,
        counted: Arc<Reply<u64>>,
    },
}

/// What the client thread and its callers share.
#[derive(Default)]
pub(crate) struct Counters {
    connection: AtomicU8,
    /// Pushes sent to the thread.
    queued: AtomicU64,
    /// Pushes Redis took, or that were given up on.
    settled: AtomicU64,
}

impl Counters {
    pub(crate) fn set_connection(&self, connection: Connection) {
        self.connection.store(connection as u8, Ordering::Relaxed);
    }

    pub(crate) fn connection(&self) -> Connection {
        Connection::from_u8(self.connection.load(Ordering::Relaxed))
    }

    /// Notes that Redis answered.
    pub(crate) fn up(&self) {
        if self.connection() != Connection::Up {
            self.set_connection(Connection::Up);
        }
    }

    pub(crate) fn settle(&self, pushes: usize) {
        self.settled.fetch_add(pushes as u64, Ordering::Release);
    }
}

/// What the panel shows of the shared tier, for one function.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct TierView {
    /// The URL, without its password.
    pub(crate) url: String,
    /// `connected`, `connecting`, `unreachable` or `refused the credentials`.
    pub(crate) connection: &'static str,
    /// Whether the function's outcomes go there (not with `shared = false`).
    pub(crate) shared: bool,
    /// How many outcomes of the function Redis holds, when it answered.
    pub(crate) outcomes: Option<u64>,
    /// This process's pushes that have yet to reach it.
    pub(crate) pending: u64,
}

/// How long the panel waits for Redis to count a function's outcomes.
const COUNT_WAIT: Duration = Duration::from_millis(250);

/// The shared tier of one process: a handle on its client thread.
pub(crate) struct Shared {
    config: SharedConfig,
    counters: Arc<Counters>,
    pushes: tokio::sync::mpsc::UnboundedSender<Push>,
    commands: tokio::sync::mpsc::UnboundedSender<Command>,
    /// Synchronous calls' pulls, from their own threads.
    #[cfg(feature = "redis")]
    direct: Option<direct::Direct>,
}

impl Shared {
    /// Starts the client thread for `config`.
    #[cfg(feature = "redis")]
    pub(crate) fn open(config: SharedConfig) -> Option<Arc<Shared>> {
        install_tls_provider();
        let (pushes, push_queue) = tokio::sync::mpsc::unbounded_channel();
        let (commands, command_queue) = tokio::sync::mpsc::unbounded_channel();
        let counters = Arc::new(Counters::default());
        client::spawn(config.clone(), Arc::clone(&counters), push_queue, command_queue);
        // A URL that does not parse was warned of by the client thread.
        let direct = direct::Direct::new(&config.url).ok();
        Some(Arc::new(Shared { config, counters, pushes, commands, direct }))
    }

    /// Without the `redis` feature there is no shared tier: a warning says so.
    #[cfg(not(feature = "redis"))]
    pub(crate) fn open(_config: SharedConfig) -> Option<Arc<Shared>> {
        report::warn(format_args!(
            "cacheow: CACHEOW_REDIS_URL is set, but cacheow was built without its `redis` feature: outcomes stay \
             in the data dir. Add `features = [\"redis\"]` to the cacheow dependency to share them"
        ));
        None
    }

    /// The URL, without its password.
    pub(crate) fn url(&self) -> String {
        without_password(&self.config.url)
    }

    pub(crate) fn budget(&self) -> Duration {
        self.config.budget
    }

    pub(crate) fn connection(&self) -> Connection {
        self.counters.connection()
    }

    /// Whether a pull may be answered: not when Redis is known to be down,
    /// so that no call waits for it then.
    pub(crate) fn reachable(&self) -> bool {
        matches!(self.connection(), Connection::Connecting | Connection::Up)
    }

    /// Queues an outcome recorded here for Redis; never blocks.
    pub(crate) fn push(&self, push: Push) {
        if self.pending() >= MAX_BACKLOG as u64 {
            report::warn_once(
                "redis-backlog",
                format_args!(
                    "cacheow: {MAX_BACKLOG} outcomes wait for Redis at {}: newer ones are kept in the data dir \
                     only. `cacheow push` sends them once Redis is back",
                    self.url()
                ),
            );
            return;
        }
        self.counters.queued.fetch_add(1, Ordering::Relaxed);
        if self.pushes.send(push).is_err() {
            self.counters.settle(1);
        }
    }

    /// Asks Redis for the newest outcome of these arguments; `keep` gets
    /// it, and then the signal returned is finished.
    pub(crate) fn pull(&self, function_id: &'static str, arg_key: u128, keep: Keep) -> Arc<Signal> {
        let answered = Arc::new(Signal::default());
        let command = Command::Pull { function_id, arg_key, keep, answered: Arc::clone(&answered) };
        self.send(command);
        answered
    }

    /// [`Shared::pull`] for a synchronous call, from its thread and within
    /// the budget: what Redis answered that may be replayed, for the caller
    /// to keep; `None` without an answer. Past the budget, the question goes
    /// on on the client thread, whose answer `keep` gets later.
    #[cfg(feature = "redis")]
    pub(crate) fn pull_blocking(&self, function_id: &'static str, arg_key: u128, keep: Keep) -> Option<Pulled> {
        let Some(direct) = &self.direct else { return None };
        let keys = layout::Keys::new(&self.config.prefix, function_id);
        match direct.pull(&keys, arg_key, self.config.budget) {
            direct::Answer::Found(found) => {
                self.counters.up();
                Some(commands::replayable(&keys, &Vec::from_iter(found)))
            }
            direct::Answer::Late => {
                self.pull(function_id, arg_key, keep);
                None
            }
            direct::Answer::Failed(error) => {
                failure::note(&self.counters, &self.config.url, &error);
                None
            }
        }
    }

    /// Without the `redis` feature no `Shared` is made; this is for the types.
    #[cfg(not(feature = "redis"))]
    pub(crate) fn pull_blocking(&self, _function_id: &'static str, _arg_key: u128, _keep: Keep) -> Option<Pulled> {
        None
    }

    /// Asks Redis for every outcome of the function, as [`Shared::pull`].
    pub(crate) fn pull_all(&self, function_id: &str, keep: Keep) -> Arc<Signal> {
        let answered = Arc::new(Signal::default());
        let command = Command::PullAll { function_id: function_id.to_owned(), keep, answered: Arc::clone(&answered) };
        self.send(command);
        answered
    }

    /// Takes the key's in-flight mark across machines, waiting at most the
    /// budget: whether this process got it. On no answer it runs, as if
    /// there were no other machine. The mark expires after `life`, and is
    /// released by a [`Push`] of [`Pushed::Released`].
    pub(crate) fn mark(&self, function_id: &'static str, arg_key: u128, life: Duration) -> bool {
        let taken = Arc::new(Reply::default());
        self.send(Command::Mark { function_id, arg_key, life, taken: Arc::clone(&taken) });
        taken.wait(self.config.budget).unwrap_or(true)
    }

    /// Releases this process's in-flight mark of the key, once what it
    /// queued before reached Redis.
    pub(crate) fn release(&self, function_id: &'static str, function_name: &'static str, arg_key: u128) {
        let what = Pushed::Released { arg_key };
        self.push(Push { function_id, function_name, tags: &[], ttl: None, body_hash: "", what });
    }

    fn send(&self, command: Command) {
        if let Err(unsent) = self.commands.send(command) {
            // The client thread is gone: answer at once, with nothing.
            match unsent.0 {
                Command::Pull { keep, answered, .. } | Command::PullAll { keep, answered, .. } => {
                    keep(Vec::new());
                    answered.finish();
                }
                Command::Mark { taken, .. } => taken.give(None),
                Command::Count { counted, .. } => counted.give(None),
            }
        }
    }

    /// Waits until what was pushed so far reached Redis, for at most
    /// `timeout`, and not at all while Redis is unreachable: whether it did.
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        let target = self.counters.queued.load(Ordering::Relaxed);
        let deadline = Instant::now() + timeout;
        while self.counters.settled.load(Ordering::Acquire) < target {
            if Instant::now() >= deadline || !self.reachable() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        true
    }

    /// How many outcomes of the function Redis holds; `None` without an
    /// answer within `wait`.
    pub(crate) fn count(&self, function_id: &str, wait: Duration) -> Option<u64> {
        let counted = Arc::new(Reply::default());
        self.send(Command::Count { function_id: function_id.to_owned(), counted: Arc::clone(&counted) });
        counted.wait(wait)
    }

    /// What the panel shows of the shared tier for a function; `shared`:
    /// whether its outcomes go there.
    pub(crate) fn view(&self, function_id: &str, shared: bool) -> TierView {
        TierView {
            url: self.url(),
            connection: self.connection().as_str(),
            shared,
            outcomes: self.count(function_id, COUNT_WAIT),
            pending: self.pending(),
        }
    }

    /// How many pushes wait for Redis.
    pub(crate) fn pending(&self) -> u64 {
        self.counters.queued.load(Ordering::Relaxed).saturating_sub(self.counters.settled.load(Ordering::Relaxed))
    }
}
