//! A synchronous call's pull, made from its own thread over a blocking
//! connection taken from a small pool: no tokio, so it runs whatever the
//! program does, and without the hop to the client thread and back, which
//! costs two thread wake-ups, more than the round trip itself on a local
//! network. Everything else (pushes, reconnection, async calls' pulls, the
//! in-flight marks) stays on the client thread.
//!
//! The budget bounds the connect and the round trip together. A pull that
//! runs out of it gives its connection up (the answer is still on its
//! way) and hands the question to the client thread, so that the late
//! answer is kept for the next call.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::{Connection, RedisError};

use crate::store::shared::commands::{self, Fetched};
use crate::store::shared::layout::Keys;

/// Idle connections kept: about one per thread that pulls at once.
const POOL: usize = 8;

pub(crate) struct Direct {
    client: redis::Client,
    idle: Mutex<Vec<Connection>>,
}

/// How a direct pull ended.
pub(crate) enum Answer {
    Found(Option<Fetched>),
    /// The budget ran out first: the question is to be asked again elsewhere.
    Late,
    Failed(RedisError),
}

impl Direct {
    /// A new connection whose first round trip times out with what is left
    /// of the budget. Setting a connection up takes up to two round trips,
    /// each allowed the connect's timeout: a third of the budget.
    fn connect(&self, budget: Duration) -> Result<Connection, RedisError> {
        let started = Instant::now();
        let connection = self.client.get_connection_with_timeout(budget / 3)?;
        let left = budget.saturating_sub(started.elapsed()).max(Duration::from_micros(100));
        connection.set_read_timeout(Some(left))?;
        connection.set_write_timeout(Some(left))?;
        Ok(connection)
    }

    pub(crate) fn new(url: &str) -> Result<Direct, RedisError> {
        Ok(Direct { client: redis::Client::open(url)?, idle: Mutex::default() })
    }

    /// The newest outcome of these arguments, within `budget`.
    pub(crate) fn pull(&self, keys: &Keys<'_>, arg_key: u128, budget: Duration) -> Answer {
        let started = Instant::now();
        let pooled = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        match pooled {
            Some(connection) => match self.ask(connection, keys, arg_key, budget, false) {
                // A pooled connection from before Redis restarted: the pool
                // is stale, and a fresh connection gets what is left.
                Answer::Failed(error) if error.is_io_error() || error.is_connection_dropped() => {
                    self.idle.lock().unwrap_or_else(PoisonError::into_inner).clear();
                    match budget.checked_sub(started.elapsed()) {
                        Some(left) => self.fresh(keys, arg_key, left, budget),
                        None => Answer::Late,
                    }
                }
                answer => answer,
            },
            None => self.fresh(keys, arg_key, budget, budget),
        }
    }

    /// [`Direct::pull`] over a new connection, within `left`.
    fn fresh(&self, keys: &Keys<'_>, arg_key: u128, left: Duration, budget: Duration) -> Answer {
        match self.connect(left) {
            Ok(connection) => self.ask(connection, keys, arg_key, budget, true),
            Err(error) if error.is_timeout() => Answer::Late,
            Err(error) => Answer::Failed(error),
        }
    }

    /// One `GET` over `connection`, which goes back to the pool after an
    /// answer, with the budget as its timeouts.
    fn ask(&self, mut connection: Connection, keys: &Keys<'_>, arg_key: u128, budget: Duration, fresh: bool) -> Answer {
        match commands::pull(keys, arg_key).query(&mut connection) {
            Ok(answer) => {
                let full_budget = !fresh
                    || connection
                        .set_read_timeout(Some(budget))
                        .and_then(|()| connection.set_write_timeout(Some(budget)))
                        .is_ok();
                let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
                if full_budget && idle.len() < POOL {
                    idle.push(connection);
                }
                Answer::Found(commands::pulled(answer))
            }
            // The connection is dropped: its answer may still come.
            Err(error) if error.is_timeout() => Answer::Late,
            Err(error) => Answer::Failed(error),
        }
    }
}
