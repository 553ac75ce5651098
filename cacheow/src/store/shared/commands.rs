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

/// An outcome as Redis answered it: its id's text, its bytes, and when it
/// was last recorded (empty when unknown).
pub(crate) type Fetched = (String, Vec<u8>, String);

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
            add_outcome(pipe, &keys, push.function_name, outcome, push.ttl)?;
            let recorded = (outcome.id, outcome.arg_key, outcome.last_recorded_ms());
            add_recording(pipe, &keys, recorded, Count::OneMore);
        }
        Pushed::Again { id, arg_key, at_ms } => {
            if let Some(ttl) = push.ttl {
                pipe.cmd("PEXPIRE").arg(keys.outcome(*id)).arg(millis(ttl)).ignore();
                pipe.cmd("PEXPIRE").arg(keys.newest(*arg_key)).arg(millis(ttl)).ignore();
            }
            add_recording(pipe, &keys, (*id, *arg_key, *at_ms), Count::OneMore);
        }
    }
    Ok(())
}

/// Adds an outcome of a data dir to `pipe`, as `cacheow push` uploads it:
/// its count there is kept unless Redis counts more. `life`: what is left
/// of its ttl.
pub(crate) fn add_upload(
    pipe: &mut redis::Pipeline,
    keys: &Keys<'_>,
    function_name: &str,
    outcome: &Outcome,
    life: Option<Duration>,
) -> Result<(), String> {
    add_outcome(pipe, keys, function_name, outcome, life)?;
    let recorded = (outcome.id, outcome.arg_key, outcome.last_recorded_ms());
    add_recording(pipe, keys, recorded, Count::AtLeast(outcome.count()));
    Ok(())
}

/// How a recording counts in Redis.
enum Count {
    /// A machine recorded it once more.
    OneMore,
    /// Uploaded with this count, unless Redis has one.
    AtLeast(u64),
}

/// The outcome under its id and, as the newest of its arguments, under
/// their key too (after its id), so that a pull is one `GET`; and its id in
/// the function's set.
fn add_outcome(
    pipe: &mut redis::Pipeline,
    keys: &Keys<'_>,
    function_name: &str,
    outcome: &Outcome,
    life: Option<Duration>,
) -> Result<(), String> {
    let text = files::render(function_name, keys.function_id(), outcome, Style::Runtime)?;
    let bytes = envelope::encode(&text);
    let id_hex = ids::id_hex(outcome.id);
    expire(pipe.cmd("SET").arg(keys.outcome(outcome.id)).arg(&bytes), life).ignore();
    let newest = [id_hex.as_bytes(), &bytes].concat();
    expire(pipe.cmd("SET").arg(keys.newest(outcome.arg_key)).arg(newest), life).ignore();
    pipe.cmd("SADD").arg(keys.ids()).arg(id_hex).ignore();
    Ok(())
}

/// That an outcome was recorded: counted, and its arguments renewed at `at_ms`.
fn add_recording(pipe: &mut redis::Pipeline, keys: &Keys<'_>, (id, arg_key, at_ms): (u64, u128, i64), count: Count) {
    let id_hex = ids::id_hex(id);
    match count {
        Count::OneMore => pipe.cmd("HINCRBY").arg(keys.counts()).arg(&id_hex).arg(1).ignore(),
        Count::AtLeast(count) => pipe.cmd("HSETNX").arg(keys.counts()).arg(&id_hex).arg(count).ignore(),
    };
    pipe.cmd("HSET").arg(keys.renewed()).arg(ids::arg_key_hex(arg_key)).arg(at_ms).ignore();
}

/// Reads the newest outcome of some arguments, and when they were last
/// recorded: one round trip.
pub(crate) fn pull(keys: &Keys<'_>, arg_key: u128) -> redis::Pipeline {
    let mut pipe = redis::pipe();
    pipe.cmd("GET").arg(keys.newest(arg_key)).cmd("HGET").arg(keys.renewed()).arg(ids::arg_key_hex(arg_key));
    pipe
}

/// What a [`pull`] answered: the outcome, if there is one.
pub(crate) fn pulled((newest, renewed): (Option<Vec<u8>>, Option<String>)) -> Option<Fetched> {
    let newest = newest?;
    // The id's 16 characters, then the outcome's bytes.
    let id = String::from_utf8_lossy(newest.get(..16)?).into_owned();
    Some((id, newest[16..].to_vec(), renewed.unwrap_or_default()))
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
            Some(bytes) => found.push((id.clone(), bytes, String::new())),
            None => expired.push(id.clone()),
        }
    }
    (found, expired)
}

/// Adds the registration of a function to `pipe`: its name and tags.
pub(crate) fn add_function(pipe: &mut redis::Pipeline, prefix: &str, push: &Push) {
    let about = serde_json::json!({ "name": push.function_name, "tags": push.tags });
    pipe.cmd("HSET").arg(layout::functions(prefix)).arg(push.function_id).arg(about.to_string()).ignore();
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
    Ok(match renewed.parse::<i64>() {
        Ok(renewed_ms) => outcome.recorded_again_at(renewed_ms),
        Err(_) => outcome,
    })
}
