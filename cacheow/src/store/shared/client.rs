//! The shared tier's thread: a current-thread tokio runtime that owns the
//! redis-rs connection manager (which reconnects by itself), pushes what is
//! recorded in pipelined batches, and answers pulls, each on a task of its
//! own so that no pull waits behind a batch.
//!
//! While Redis does not answer, pushes wait in a backlog and are sent, in
//! order, once it is back; it is probed with a `PING` at a growing pause.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use redis::RedisError;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::model::report::{self, warn_once};
use crate::model::secret_url::{scrub, without_password};
use crate::model::signal::Signal;
use crate::store::shared::commands::{self, Fetched};
use crate::store::shared::failure::{self, is_connection};
use crate::store::shared::layout::Keys;
use crate::store::shared::{Command, Connection, Counters, Keep, Push, SharedConfig};

/// Outcomes sent in one pipeline.
const BATCH: usize = 2_000;
/// The first pause before Redis is tried again; it doubles up to the last.
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const LAST_PAUSE: Duration = Duration::from_secs(5);
/// Ids read in one `MGET` of a pull of every outcome.
const MGET_CHUNK: usize = 1_000;

pub(super) fn spawn(
    config: SharedConfig,
    counters: Arc<Counters>,
    pushes: UnboundedReceiver<Push>,
    commands: UnboundedReceiver<Command>,
) {
    let started = std::thread::Builder::new().name("cacheow-redis".to_owned()).spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
        match runtime {
            Ok(runtime) => runtime.block_on(run(config, counters, pushes, commands)),
            Err(error) => {
                counters.set_connection(Connection::Down);
                report::warn(format_args!("cacheow cannot start its Redis client ({error}): outcomes stay local"));
            }
        }
    });
    if let Err(error) = started {
        report::warn(format_args!("cacheow cannot start its Redis thread ({error}): outcomes stay local"));
    }
}

async fn run(
    config: SharedConfig,
    counters: Arc<Counters>,
    pushes: UnboundedReceiver<Push>,
    mut commands: UnboundedReceiver<Command>,
) {
    let manager = redis::Client::open(config.url.as_str()).and_then(|client| {
        let settings = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        client.get_connection_manager_lazy(settings)
    });
    let connection = match manager {
        Ok(connection) => connection,
        Err(error) => {
            counters.set_connection(Connection::Down);
            report::warn(format_args!(
                "cacheow: CACHEOW_REDIS_URL={} is not a URL Redis can be reached at ({}): outcomes stay in the \
                 data dir. Write it as redis://host:6379/0, or rediss:// for TLS",
                without_password(&config.url),
                scrub(&error.to_string(), &config.url),
            ));
            // The receivers are dropped: every send is answered at once.
            return;
        }
    };
    let link = Link {
        connection,
        config: Arc::new(config),
        counters,
        token: Arc::from(format!("{}:{:016x}", std::process::id(), rand::random::<u64>())),
    };
    tokio::spawn(link.clone().push_all(pushes));
    while let Some(command) = commands.recv().await {
        tokio::spawn(link.clone().answer(command));
    }
}

/// What each task of the thread holds: a clone of the connection.
#[derive(Clone)]
struct Link {
    connection: ConnectionManager,
    config: Arc<SharedConfig>,
    counters: Arc<Counters>,
    /// What this process's in-flight marks hold.
    token: Arc<str>,
}

impl Link {
    /// Sends the pushes in batches, for as long as the program runs.
    async fn push_all(mut self, mut queue: UnboundedReceiver<Push>) {
        let mut backlog = VecDeque::new();
        let mut pause = FIRST_PAUSE;
        loop {
            if backlog.is_empty() {
                let Some(push) = self.next_push(&mut queue, pause).await else { return };
                backlog.extend(push);
            }
            while let Ok(push) = queue.try_recv() {
                backlog.push_back(push);
            }
            if backlog.is_empty() {
                // Down, and nothing to send: see whether it is back.
                pause = self.probe(pause).await;
                continue;
            }
            let batch = backlog.len().min(BATCH);
            match self.send(backlog.range(..batch)).await {
                Ok(()) => {
                    backlog.drain(..batch);
                    self.counters.settle(batch);
                    pause = FIRST_PAUSE;
                }
                // The connection failed (refused, dropped): sent again once
                // Redis is back. A connection dropped halfway through a batch
                // may count part of it twice.
                Err(error) if is_connection(&error) && !error.is_timeout() => {
                    self.failed(&error);
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(LAST_PAUSE);
                }
                // No answer in time: the batch may have run, and sending it
                // again would count its recordings twice. Or Redis refused
                // a command (a key of the wrong type under the prefix, a
                // command the user may not run), which it would refuse
                // again. The batch is given up on; `cacheow push` sends
                // what it held.
                Err(error) => {
                    self.failed(&error);
                    backlog.drain(..batch);
                    self.counters.settle(batch);
                }
            }
        }
    }

    /// The next push, `Some(None)` when Redis is down and none came within
    /// `pause` (time to probe it), or `None` when the program is ending.
    async fn next_push(&self, queue: &mut UnboundedReceiver<Push>, pause: Duration) -> Option<Option<Push>> {
        if matches!(self.counters.connection(), Connection::Up | Connection::Connecting) {
            return queue.recv().await.map(Some);
        }
        match tokio::time::timeout(pause, queue.recv()).await {
            Ok(push) => push.map(Some),
            Err(_) => Some(None),
        }
    }

    /// Pings Redis: the next pause.
    async fn probe(&mut self, pause: Duration) -> Duration {
        match redis::cmd("PING").query_async::<()>(&mut self.connection).await {
            Ok(()) => {
                self.up();
                FIRST_PAUSE
            }
            Err(error) => {
                self.failed(&error);
                (pause * 2).min(LAST_PAUSE)
            }
        }
    }

    async fn send<'a>(&mut self, batch: impl Iterator<Item = &'a Push>) -> Result<(), RedisError> {
        let mut pipe = redis::pipe();
        let mut functions = HashSet::new();
        for push in batch {
            if functions.insert(push.function_id) {
                commands::add_function(&mut pipe, &self.config.prefix, push.function_id, push.function_name, push.tags);
            }
            if let Err(why) = commands::add_push(&mut pipe, &self.config.prefix, push, &self.token) {
                warn_once(
                    format!("redis-render:{}", push.function_id),
                    format_args!("cacheow cannot send an outcome of `{}` to Redis: {why}", push.function_name),
                );
            }
        }
        pipe.query_async::<()>(&mut self.connection).await?;
        self.up();
        Ok(())
    }

    async fn answer(mut self, command: Command) {
        match command {
            Command::Pull { function_id, arg_key, keep, answered } => {
                let keys = Keys::new(&self.config.prefix, function_id);
                let found = commands::pull(&keys, arg_key).query_async(&mut self.connection).await;
                let found = self.answered(found).and_then(commands::pulled).into_iter().collect();
                self.keep(function_id, found, keep, answered);
            }
            Command::Count { function_id, counted } => {
                let ids = Keys::new(&self.config.prefix, &function_id).ids();
                let count = redis::cmd("SCARD").arg(ids).query_async::<u64>(&mut self.connection).await;
                counted.give(self.answered(count));
            }
            Command::PullAll { function_id, keep, answered } => {
                let found = self.every_outcome(&function_id).await;
                self.keep(&function_id, found, keep, answered);
            }
            Command::Mark { function_id, arg_key, life, taken } => {
                let key = Keys::new(&self.config.prefix, function_id).in_flight(arg_key);
                let millis = u64::try_from(life.as_millis()).unwrap_or(u64::MAX).max(1);
                let mut set = redis::cmd("SET");
                set.arg(key).arg(&*self.token).arg("NX").arg("PX").arg(millis);
                let set = set.query_async::<Option<String>>(&mut self.connection).await;
                // `OK` when taken, nil when another holds it; no answer: this
                // process runs the call, as if alone.
                taken.give(self.answered(set).map(|set| set.is_some()));
            }
        }
    }

    /// Every outcome of the function Redis holds; ids whose outcome expired
    /// are taken out of its set.
    async fn every_outcome(&mut self, function_id: &str) -> Vec<Fetched> {
        let keys = Keys::new(&self.config.prefix, function_id);
        let ids = redis::cmd("SMEMBERS").arg(keys.ids()).query_async::<Vec<String>>(&mut self.connection).await;
        let Some(ids) = self.answered(ids) else { return Vec::new() };
        let mut found = Vec::new();
        for chunk in ids.chunks(MGET_CHUNK) {
            let read = commands::fetch(&keys, chunk).query_async(&mut self.connection).await;
            let Some(read) = self.answered(read) else { break };
            let (some, expired) = commands::fetched(chunk, read);
            found.extend(some);
            if !expired.is_empty() {
                let mut removed = redis::cmd("SREM");
                removed.arg(keys.ids()).arg(expired);
                let removed = removed.query_async::<i64>(&mut self.connection).await;
                self.answered(removed);
            }
        }
        found
    }

    /// Hands `keep` what may be replayed of `found`, then says it was
    /// answered. Off the thread's runtime: keeping may wait for the writer,
    /// and no push or pull is to wait for it.
    fn keep(&self, function_id: &str, found: Vec<Fetched>, keep: Keep, answered: Arc<Signal>) {
        let pulled = commands::replayable(&Keys::new(&self.config.prefix, function_id), &found);
        tokio::task::spawn_blocking(move || {
            keep(pulled);
            answered.finish();
        });
    }

    /// The answer, noting that Redis is up; `None`, noted and warned of,
    /// when there was none.
    fn answered<T>(&self, result: Result<T, RedisError>) -> Option<T> {
        match result {
            Ok(value) => {
                self.up();
                Some(value)
            }
            Err(error) => {
                self.failed(&error);
                None
            }
        }
    }

    fn up(&self) {
        self.counters.up();
    }

    fn failed(&self, error: &RedisError) {
        failure::note(&self.counters, &self.config.url, error);
    }
}
