//! The shared tier as the command line works on it, over one blocking
//! connection: what Redis holds per function, uploads of a data dir's
//! outcomes, downloads of a function's, and the explicit shared deletions
//! (a program's own deletions stay local).

use std::time::Duration;

use redis::{Commands, Connection};

use crate::model::error::Error;
use crate::model::outcome::Outcome;
use crate::model::secret_url::{scrub, without_password};
use crate::store::shared::layout::{self, Keys};
use crate::store::shared::{commands, failure};

/// Outcomes sent or read per round trip.
const CHUNK: usize = 1_000;

/// A function Redis holds outcomes of.
#[derive(Debug, Clone)]
pub(crate) struct SharedFunction {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) tags: Vec<String>,
    pub(crate) outcomes: usize,
}

/// What a function is, for an upload.
pub(crate) struct Uploaded<'a> {
    pub(crate) id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) tags: &'a [String],
    pub(crate) ttl: Option<Duration>,
}

pub(crate) struct SharedAdmin {
    connection: Connection,
    prefix: String,
    /// The URL, password included: shown only through `without_password`.
    url: String,
}

impl SharedAdmin {
    /// Connects to `url`, or says why it cannot, naming it without its password.
    pub(crate) fn open(url: &str, prefix: &str) -> Result<SharedAdmin, Error> {
        let failed = |error: redis::RedisError| Error::SharedUnavailable {
            url: without_password(url),
            reason: reason(&error, url),
        };
        crate::store::shared::install_tls_provider();
        let client = redis::Client::open(url).map_err(failed)?;
        let mut connection = client.get_connection_with_timeout(Duration::from_secs(5)).map_err(failed)?;
        redis::cmd("PING").query::<()>(&mut connection).map_err(failed)?;
        Ok(SharedAdmin { connection, prefix: prefix.to_owned(), url: url.to_owned() })
    }

    fn failed(&self, error: &redis::RedisError) -> Error {
        Error::SharedUnavailable { url: without_password(&self.url), reason: reason(error, &self.url) }
    }

    /// Every function Redis holds outcomes of, with how many.
    pub(crate) fn functions(&mut self) -> Result<Vec<SharedFunction>, Error> {
        let about: Vec<(String, String)> =
            self.connection.hgetall(layout::functions(&self.prefix)).map_err(|error| self.failed(&error))?;
        if about.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for (id, _) in &about {
            pipe.cmd("SCARD").arg(Keys::new(&self.prefix, id).ids());
        }
        let counts: Vec<usize> = pipe.query(&mut self.connection).map_err(|error| self.failed(&error))?;
        let mut functions: Vec<SharedFunction> = about
            .into_iter()
            .zip(counts)
            .map(|((id, about), outcomes)| {
                let about: serde_json::Value = serde_json::from_str(&about).unwrap_or_default();
                let name = about["name"].as_str().unwrap_or("?").to_owned();
                let tags =
                    about["tags"].as_array().into_iter().flatten().filter_map(|tag| tag.as_str()).map(str::to_owned);
                SharedFunction { id, name, tags: tags.collect(), outcomes }
            })
            .collect();
        functions.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        Ok(functions)
    }

    /// Uploads a function's outcomes, oldest first so that the newest of
    /// each arguments is the one cache mode pulls. Outcomes past their ttl
    /// are left out. How many were sent.
    pub(crate) fn upload(
        &mut self,
        function: &Uploaded<'_>,
        mut outcomes: Vec<Outcome>,
        now_ms: i64,
    ) -> Result<usize, Error> {
        outcomes.sort_by_key(Outcome::last_recorded_ms);
        let keys = Keys::new(&self.prefix, function.id);
        let mut sent = 0;
        for chunk in outcomes.chunks(CHUNK) {
            let mut pipe = redis::pipe();
            commands::add_function(&mut pipe, &self.prefix, function.id, function.name, function.tags);
            for outcome in chunk {
                let Some(life) = life_left(function.ttl, outcome.last_recorded_ms(), now_ms) else { continue };
                commands::add_upload(&mut pipe, &keys, function.name, outcome, life)
                    .map_err(|reason| Error::InvalidOutcome { reason })?;
                sent += 1;
            }
            pipe.query::<()>(&mut self.connection).map_err(|error| self.failed(&error))?;
        }
        Ok(sent)
    }

    /// Every outcome of the function Redis holds, and what is wrong with
    /// each value that cannot be replayed.
    pub(crate) fn download(&mut self, function_id: &str) -> Result<(Vec<Outcome>, Vec<String>), Error> {
        let keys = Keys::new(&self.prefix, function_id);
        let ids: Vec<String> = self.connection.smembers(keys.ids()).map_err(|error| self.failed(&error))?;
        let (mut outcomes, mut problems) = (Vec::new(), Vec::new());
        for chunk in ids.chunks(CHUNK) {
            let read =
                commands::fetch(&keys, chunk).query(&mut self.connection).map_err(|error| self.failed(&error))?;
            let (found, _expired) = commands::fetched(chunk, read);
            for fetched in &found {
                match commands::read(function_id, fetched) {
                    Ok(outcome) => outcomes.push(outcome),
                    Err(why) => problems.push(format!("{}: {why}", keys.outcome_named(&fetched.0))),
                }
            }
        }
        Ok((outcomes, problems))
    }

    /// Deletes every key of a function, and its registration; how many
    /// outcomes it had.
    pub(crate) fn clear(&mut self, function_id: &str) -> Result<usize, Error> {
        let keys = Keys::new(&self.prefix, function_id);
        let outcomes: usize = self.connection.scard(keys.ids()).map_err(|error| self.failed(&error))?;
        let every: Vec<String> = self
            .connection
            .scan_match::<_, String>(keys.every_key())
            .and_then(|keys| keys.collect::<Result<_, _>>())
            .map_err(|error| self.failed(&error))?;
        for chunk in every.chunks(CHUNK) {
            self.connection.del::<_, ()>(chunk).map_err(|error| self.failed(&error))?;
        }
        self.connection
            .hdel::<_, _, ()>(layout::functions(&self.prefix), function_id)
            .map_err(|error| self.failed(&error))?;
        Ok(outcomes)
    }

    /// Deletes a function's outcomes of one argument key; how many.
    pub(crate) fn invalidate(&mut self, function_id: &str, arg_key: u128) -> Result<usize, Error> {
        let (outcomes, _) = self.download(function_id)?;
        let doomed: Vec<String> =
            outcomes.iter().filter(|outcome| outcome.arg_key == arg_key).map(Outcome::id_hex).collect();
        let keys = Keys::new(&self.prefix, function_id);
        let mut pipe = redis::pipe();
        pipe.cmd("DEL").arg(keys.newest(arg_key)).ignore();
        for id in &doomed {
            pipe.cmd("DEL").arg(keys.outcome_named(id)).ignore();
            pipe.cmd("SREM").arg(keys.ids()).arg(id).ignore();
            pipe.cmd("HDEL").arg(keys.counts()).arg(id).ignore();
        }
        pipe.query::<()>(&mut self.connection).map_err(|error| self.failed(&error))?;
        Ok(doomed.len())
    }
}

/// What is left of a ttl; `Some(None)` without one, `None` once past it.
fn life_left(ttl: Option<Duration>, last_recorded_ms: i64, now_ms: i64) -> Option<Option<Duration>> {
    let Some(ttl) = ttl else { return Some(None) };
    let age = Duration::from_millis(u64::try_from(now_ms.saturating_sub(last_recorded_ms)).unwrap_or(0));
    ttl.checked_sub(age).filter(|left| !left.is_zero()).map(Some)
}

/// Why a command failed, without the password, and what to do.
fn reason(error: &redis::RedisError, url: &str) -> String {
    let detail = scrub(&error.to_string(), url);
    if matches!(error.code(), Some("WRONGPASS" | "NOAUTH" | "NOPERM"))
        || error.kind() == redis::ErrorKind::AuthenticationFailed
    {
        return format!("it refused the credentials ({detail}): check the user and password in CACHEOW_REDIS_URL");
    }
    if failure::is_connection(error) {
        return format!("it cannot be reached ({detail}): is redis-server running there?");
    }
    detail
}

#[cfg(test)]
mod tests {
    use super::life_left;
    use std::time::Duration;

    #[test]
    fn an_upload_keeps_what_is_left_of_the_ttl() {
        let ttl = Some(Duration::from_secs(10));
        assert_eq!(life_left(None, 0, 99_000), Some(None));
        assert_eq!(life_left(ttl, 1_000, 4_000), Some(Some(Duration::from_secs(7))));
        assert_eq!(life_left(ttl, 1_000, 11_000), None, "expired: not uploaded");
    }
}
