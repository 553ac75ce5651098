//! The Redis commands of the shared tier, built and read in one place for
//! the client thread (async) and the command line (blocking): what a push
//! writes, what a pull reads, and how a value read is checked before it
//! may be replayed.

use std::time::Duration;

use crate::model::ids;
use crate::model::outcome::{Flags, Outcome};
use crate::model::report::warn_once;
use crate::store::files::{self, Style};
use crate::store::shared::envelope;
use crate::store::shared::layout::{self, Keys};
use crate::store::shared::{Push, Pushed};

/// Deletes an in-flight mark if it is still this process's.
pub(crate) const UNMARK_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// Renews the newest outcome of some arguments, if it is still the one
/// renewed: its time of last recording, after its id; and its life.
const RENEW_SCRIPT: &str = r"
local newest = redis.call('GETRANGE', KEYS[1], 0, 15)
if newest ~= ARGV[1] then return 0 end
redis.call('SETRANGE', KEYS[1], 16, ARGV[2])
if ARGV[3] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
";

/// Sets the newest outcome of some arguments, unless Redis holds one
/// recorded as late or later: the time after the id, in fixed-width hex,
/// compares as text.
const SET_IF_NEWER_SCRIPT: &str = r"
local held = redis.call('GETRANGE', KEYS[1], 16, 31)
if held ~= '' and held >= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
if ARGV[3] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
";

/// An outcome as Redis answered it: its id's text, its bytes, and when it
/// was last recorded, if Redis knows.
pub(crate) type Fetched = (String, Vec<u8>, Option<i64>);

/// The bytes before an outcome's under its arguments' key: its id, and
/// when it was last recorded, 16 hex digits each.
const NEWEST_HEAD: usize = 32;

/// Adds what records `push` to `pipe`; the error says why it cannot be
/// (an outcome whose file does not render). `token` is what this process's
/// in-flight marks hold.
pub(crate) fn add_push(pipe: &mut redis::Pipeline, prefix: &str, push: &Push, token: &str) -> Result<(), String> {
    let keys = Keys::new(prefix, push.function_id);
    match &push.what {
        Pushed::Released { arg_key } => {
            pipe.cmd("EVAL").arg(UNMARK_SCRIPT).arg(1).arg(keys.in_flight(*arg_key)).arg(token).ignore();
        }
        Pushed::Outcome(outcome) => {
            add_outcome(pipe, &keys, (push.function_name, push.body_hash), outcome, push.ttl, Write::Recorded)?;
            add_recording(pipe, &keys, outcome.id, Count::OneMore);
        }
        Pushed::Again { id, arg_key, at_ms } => {
            let ttl = push.ttl.map(|ttl| millis(ttl).to_string()).unwrap_or_default();
            if !ttl.is_empty() {
                pipe.cmd("PEXPIRE").arg(keys.outcome(*id)).arg(&ttl).ignore();
            }
            let renew = pipe.cmd("EVAL").arg(RENEW_SCRIPT).arg(1).arg(keys.newest(*arg_key));
            renew.arg(ids::id_hex(*id)).arg(time_hex(*at_ms)).arg(ttl).ignore();
            add_recording(pipe, &keys, *id, Count::OneMore);
        }
    }
    Ok(())
}

/// Adds an outcome of a data dir to `pipe`, as `cacheow push` uploads it:
/// a count Redis has is kept, else it gets the data dir's. `life`: what is
/// left of its ttl.
pub(crate) fn add_upload(
    pipe: &mut redis::Pipeline,
    keys: &Keys<'_>,
    function_name: &str,
    outcome: &Outcome,
    life: Option<Duration>,
) -> Result<(), String> {
    add_outcome(pipe, keys, (function_name, ""), outcome, life, Write::Uploaded)?;
    add_recording(pipe, keys, outcome.id, Count::AtLeast(outcome.count()));
    Ok(())
}

/// How an outcome is written to Redis.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Write {
    /// Just recorded: it is the newest of its arguments.
    Recorded,
    /// Uploaded from a data dir: it replaces nothing Redis holds that is
    /// as new or newer, and keeps the body hash a recording gave.
    Uploaded,
}

/// How a recording counts in Redis.
enum Count {
    /// A machine recorded it once more.
    OneMore,
    /// Uploaded with this count, unless Redis has one.
    AtLeast(u64),
}

/// The outcome under its id and, as the newest of its arguments, under
/// their key too (after its id and when it was last recorded), so that a
/// pull is one `GET`; and its id in the function's set. It carries the
/// hash of the body that recorded it, when known (not in an upload).
fn add_outcome(
    pipe: &mut redis::Pipeline,
    keys: &Keys<'_>,
    (function_name, body_hash): (&str, &str),
    outcome: &Outcome,
    life: Option<Duration>,
    write: Write,
) -> Result<(), String> {
    let style = Style::Shared { body_hash: Some(body_hash).filter(|hash| !hash.is_empty()) };
    let text = files::render(function_name, keys.function_id(), outcome, style)?;
    let bytes = envelope::encode(&text);
    let id_hex = ids::id_hex(outcome.id);
    let recorded_hex = time_hex(outcome.last_recorded_ms());
    let set = pipe.cmd("SET").arg(keys.outcome(outcome.id)).arg(&bytes);
    expire(if write == Write::Uploaded { set.arg("NX") } else { set }, life).ignore();
    let newest = [id_hex.as_bytes(), recorded_hex.as_bytes(), &bytes].concat();
    match write {
        Write::Recorded => expire(pipe.cmd("SET").arg(keys.newest(outcome.arg_key)).arg(newest), life).ignore(),
        Write::Uploaded => {
            let ttl = life.map(|life| millis(life).max(1).to_string()).unwrap_or_default();
            let set = pipe.cmd("EVAL").arg(SET_IF_NEWER_SCRIPT).arg(1).arg(keys.newest(outcome.arg_key));
            set.arg(newest).arg(recorded_hex).arg(ttl).ignore()
        }
    };
    pipe.cmd("SADD").arg(keys.ids()).arg(id_hex).ignore();
    // With a ttl, the set and the counts go with the last outcome.
    if let Some(life) = life {
        pipe.cmd("PEXPIRE").arg(keys.ids()).arg(millis(life).max(1)).ignore();
        pipe.cmd("PEXPIRE").arg(keys.counts()).arg(millis(life).max(1)).ignore();
    }
    Ok(())
}

/// That an outcome was recorded: counted.
fn add_recording(pipe: &mut redis::Pipeline, keys: &Keys<'_>, id: u64, count: Count) {
    let id_hex = ids::id_hex(id);
    match count {
        Count::OneMore => pipe.cmd("HINCRBY").arg(keys.counts()).arg(&id_hex).arg(1).ignore(),
        Count::AtLeast(count) => pipe.cmd("HSETNX").arg(keys.counts()).arg(&id_hex).arg(count).ignore(),
    };
}

/// A time, in milliseconds since the epoch, as 16 hex digits.
fn time_hex(ms: i64) -> String {
    format!("{:016x}", ms.max(0))
}

/// Reads the newest outcome of some arguments: one `GET`.
pub(crate) fn pull(keys: &Keys<'_>, arg_key: u128) -> redis::Cmd {
    let mut get = redis::cmd("GET");
    get.arg(keys.newest(arg_key));
    get
}

/// What a [`pull`] answered: the outcome, if there is one. A value too
/// short to hold one is given as it is, for [`read`] to refuse.
pub(crate) fn pulled(newest: Option<Vec<u8>>) -> Option<Fetched> {
    let newest = newest?;
    let Some((head, bytes)) = newest.split_at_checked(NEWEST_HEAD) else {
        return Some((String::from_utf8_lossy(&newest).into_owned(), Vec::new(), None));
    };
    let (id, renewed) = head.split_at(16);
    let renewed = std::str::from_utf8(renewed).ok().and_then(|hex| i64::from_str_radix(hex, 16).ok());
    Some((String::from_utf8_lossy(id).into_owned(), bytes.to_vec(), renewed))
}

/// Reads some of a function's outcomes, by id.
pub(crate) fn fetch(keys: &Keys<'_>, ids: &[String]) -> redis::Cmd {
    let outcome_keys: Vec<String> = ids.iter().map(|id| keys.outcome_named(id)).collect();
    let mut mget = redis::cmd("MGET");
    mget.arg(outcome_keys);
    mget
}

/// What a [`fetch`] answered: the outcomes found, and the ids whose
/// outcome expired, for the function's set to drop.
pub(crate) fn fetched(ids: &[String], values: Vec<Option<Vec<u8>>>) -> (Vec<Fetched>, Vec<String>) {
    let (mut found, mut expired) = (Vec::new(), Vec::new());
    for (id, value) in ids.iter().zip(values) {
        match value {
            Some(bytes) => found.push((id.clone(), bytes, None)),
            None => expired.push(id.clone()),
        }
    }
    (found, expired)
}

/// Adds the registration of a function to `pipe`: its name and tags.
pub(crate) fn add_function(
    pipe: &mut redis::Pipeline,
    prefix: &str,
    function_id: &str,
    name: &str,
    tags: &[impl serde::Serialize],
) {
    let about = serde_json::json!({ "name": name, "tags": tags });
    pipe.cmd("HSET").arg(layout::functions(prefix)).arg(function_id).arg(about.to_string()).ignore();
}

/// `PX <ttl>` after the command just added, when there is a ttl.
fn expire(pipe: &mut redis::Pipeline, ttl: Option<Duration>) -> &mut redis::Pipeline {
    match ttl {
        Some(ttl) => pipe.arg("PX").arg(millis(ttl).max(1)),
        None => pipe,
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// What may be replayed of what Redis answered for a function; each value
/// that may not is warned of, once.
pub(crate) fn replayable(keys: &Keys<'_>, found: &[Fetched]) -> Vec<Outcome> {
    let function_id = keys.function_id();
    found
        .iter()
        .filter_map(|fetched| match read(function_id, fetched) {
            Ok(outcome) => Some(outcome),
            Err(why) => {
                let key = keys.outcome_named(&fetched.0);
                warn_once(
                    format!("redis-bad:{key}"),
                    format_args!(
                        "cacheow ignores the value of {key} in Redis: {why}. It is never replayed; `cacheow shared \
                         invalidate {function_id}` deletes the function's shared outcomes"
                    ),
                );
                None
            }
        })
        .collect()
}

/// The outcome of `function_id` that Redis answered, if it may be
/// replayed: it reads, it is this function's, and it was recorded by a
/// call. Its id is its key's, as a file's is its name, so that a hand edit
/// travels as it does between data dirs. The error says what is wrong.
pub(crate) fn read(function_id: &str, (id_text, bytes, renewed): &Fetched) -> Result<Outcome, String> {
    let id = ids::parse_id(id_text).ok_or_else(|| format!("{id_text:?} is not an outcome id"))?;
    let text = envelope::decode(bytes)?;
    let parsed = files::parse(id, &text)?;
    if parsed.function_id.as_deref() != Some(function_id) {
        return Err(format!("it belongs to the function {:?}, not {function_id}", parsed.function_id));
    }
    let outcome = parsed.outcome;
    if outcome.flags != Flags::default() {
        return Err("it is a manual or mock-only outcome, which are never shared".to_owned());
    }
    Ok(match renewed {
        Some(renewed_ms) => outcome.recorded_again_at(*renewed_ms),
        None => outcome,
    })
}
