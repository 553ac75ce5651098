//! Outcome files: `<data_dir>/functions/<function-id>/outcomes/<outcome-id>.json`,
//! pretty, readable and hand-editable, written atomically.
//!
//! [`OutcomeFile`] is the format, both ways: serde writes it and reads it
//! back, and a hand edit that broke it gets an error naming the field.

use std::borrow::Cow;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::model::canonical::canonical_json;
use crate::model::error::Error;
use crate::model::ids;
use crate::model::outcome::{Flags, Outcome, OutcomeKind, Payload, Recorded};
use crate::model::report::warn_once;
use crate::model::time::{as_millis_f64, from_millis, to_millis};

/// The version of the file format, written in every file.
const FORMAT: u32 = 1;
/// What a temporary file's name has after the outcome id.
const TEMP: &str = "tmp";
/// A temporary file older than this was left by a process that died.
const ABANDONED: std::time::Duration = std::time::Duration::from_secs(600);

pub(crate) fn function_dir(data_dir: &Path, function_id: &str) -> PathBuf {
    data_dir.join("functions").join(function_id)
}

pub(crate) fn outcomes_dir(data_dir: &Path, function_id: &str) -> PathBuf {
    function_dir(data_dir, function_id).join("outcomes")
}

pub(crate) fn outcome_path(data_dir: &Path, function_id: &str, outcome_id: u64) -> PathBuf {
    outcome_path_in(&outcomes_dir(data_dir, function_id), outcome_id)
}

/// The file of the outcome `outcome_id` in a function's outcome folder.
pub(crate) fn outcome_path_in(outcomes_dir: &Path, outcome_id: u64) -> PathBuf {
    outcomes_dir.join(format!("{}.json", ids::id_hex(outcome_id)))
}

/// A folder's stamp: which folder it is and when its entries last changed.
/// A file added, deleted or renamed in it (as editors and `cp` do) changes
/// it; a file rewritten in place does not. `None` when there is no folder.
pub(crate) fn stamp(dir: &Path) -> Option<String> {
    let meta = fs::metadata(dir).ok()?;
    let modified = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_nanos());
    Some(format!("{}:{modified}", identity(&meta)))
}

#[cfg(unix)]
fn identity(meta: &fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    format!("{}:{}", meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn identity(_meta: &fs::Metadata) -> String {
    String::new()
}

/// An outcome file, as written and as read. Only `kind` and `value` (or
/// `value_ron`) are needed: a file written by hand may leave the rest out.
/// What says what the file is not (its ids, its function's name) and its
/// flags are read leniently, as they always were: a hand edit that got one
/// of them wrong still replays.
#[derive(Serialize, Deserialize)]
struct OutcomeFile<'a> {
    #[serde(default)]
    cacheow: Value,
    #[serde(default, deserialize_with = "text_or_none", skip_serializing_if = "Option::is_none")]
    function: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "text_or_none", skip_serializing_if = "Option::is_none")]
    function_id: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "text_or_none", skip_serializing_if = "Option::is_none")]
    id: Option<Cow<'a, str>>,
    kind: OutcomeKind,
    #[serde(default, deserialize_with = "text_or_none", skip_serializing_if = "Option::is_none")]
    arg_key: Option<Cow<'a, str>>,
    #[serde(default = "no_args")]
    args: Value,
    /// `#[cacheow(key = f)]`: what `f` gave, which `arg_key` derives from.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    key: Option<Value>,
    /// `null` is a value: present, unlike a missing `value`.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    value: Option<Value>,
    /// The value in RON, for values JSON cannot hold (NaN, maps with
    /// non-string keys).
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    value_ron: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "text_or_none", skip_serializing_if = "Option::is_none")]
    error_type: Option<Cow<'a, str>>,
    /// Added by hand, not recorded from a call.
    #[serde(default, deserialize_with = "true_or_false", skip_serializing_if = "std::ops::Not::not")]
    manual: bool,
    /// Replayed in mock mode only, never as a cache hit.
    #[serde(default, deserialize_with = "true_or_false", skip_serializing_if = "std::ops::Not::not")]
    mock_only: bool,
    /// The items of an iterator dropped before its end.
    #[serde(default, deserialize_with = "true_or_false", skip_serializing_if = "std::ops::Not::not")]
    partial: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    duration_ms: Option<f64>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    recorded_at: Option<Cow<'a, str>>,
    /// When the same outcome was last recorded: its age starts there.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    last_recorded_at: Option<Cow<'a, str>>,
    /// In fixtures: the calls, among those of the test with the same
    /// arguments, that gave this outcome (0 is the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    calls: Option<Cow<'a, [u32]>>,
    /// In fixtures: only calls made inside another decorated call gave it,
    /// which a replay of that call does not make again.
    #[serde(default, deserialize_with = "true_or_false", skip_serializing_if = "std::ops::Not::not")]
    nested: bool,
    /// The hash of the body that recorded it (drift): in the data dir and
    /// the shared tier; fixtures keep theirs beside them.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    body_hash: Option<Cow<'a, str>>,
}

/// A string, or nothing for any other value.
fn text_or_none<'de, 'a, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Cow<'a, str>>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(text) => Some(Cow::Owned(text)),
        _ => None,
    })
}

/// `true`, or `false` for any other value.
fn true_or_false<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(Value::deserialize(deserializer)?.as_bool().unwrap_or(false))
}

fn no_args() -> Value {
    Value::Object(Map::new())
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// What an outcome file holds besides the outcome.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Style<'a> {
    /// The data dir: when it was recorded and how long the call took.
    Runtime,
    /// The shared tier: as the data dir's, on one line, with the hash of
    /// the body that recorded it.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    Shared { body_hash: Option<&'a str> },
    /// A test fixture: nothing that changes from one recording to the next,
    /// the order of the calls that gave it, and whether they were nested.
    Fixture { calls: &'a [u32], nested: bool },
}

/// The text of an outcome's file.
pub(crate) fn render(
    function_name: &str,
    function_id: &str,
    outcome: &Outcome,
    style: Style<'_>,
) -> Result<String, String> {
    let parse_json = |text: &str| serde_json::from_str::<Value>(text).map_err(|error| error.to_string());
    let recorded = &outcome.recorded;
    let (value, value_ron) = match &recorded.payload {
        Payload::Json(text) => (Some(parse_json(text)?), None),
        Payload::Ron(text) => (None, Some(Cow::Borrowed(&**text))),
    };
    let time = |ms: i64| Some(humantime::format_rfc3339_millis(from_millis(ms)).to_string().into());
    let (duration_ms, recorded_at, last_recorded_at, calls) = match style {
        Style::Runtime | Style::Shared { .. } => (
            Some(as_millis_f64(outcome.duration)),
            time(outcome.recorded_at_ms),
            time(outcome.last_recorded_ms().max(outcome.recorded_at_ms)),
            None,
        ),
        Style::Fixture { calls, .. } => (None, None, None, Some(Cow::Borrowed(calls))),
    };
    let file = OutcomeFile {
        cacheow: FORMAT.into(),
        function: Some(function_name.into()),
        function_id: Some(function_id.into()),
        id: Some(outcome.id_hex().into()),
        kind: recorded.kind,
        arg_key: Some(ids::arg_key_hex(outcome.arg_key).into()),
        args: parse_json(&outcome.args)?,
        key: outcome.key.as_deref().map(parse_json).transpose()?,
        value,
        value_ron,
        error_type: recorded.error_type.as_deref().map(Cow::Borrowed),
        manual: outcome.flags.manual,
        mock_only: outcome.flags.mock_only,
        partial: recorded.partial,
        duration_ms,
        recorded_at,
        last_recorded_at,
        calls,
        nested: matches!(style, Style::Fixture { nested: true, .. }),
        body_hash: match style {
            Style::Shared { body_hash } => body_hash.or(outcome.body_hash.as_deref()).map(Cow::Borrowed),
            Style::Runtime => outcome.body_hash.as_deref().map(Cow::Borrowed),
            Style::Fixture { .. } => None,
        },
    };
    if let Style::Shared { .. } = style {
        return serde_json::to_string(&file).map_err(|error| error.to_string());
    }
    let mut text = serde_json::to_string_pretty(&file).map_err(|error| error.to_string())?;
    text.push('\n');
    Ok(text)
}

/// An outcome file, read.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) outcome: Outcome,
    /// The function the file names, if it names one.
    pub(crate) function: Option<String>,
    /// The id of the function the file names, if it names one.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))] // checked in what Redis holds
    pub(crate) function_id: Option<String>,
    /// In a fixture, the calls that gave it; none in the data dir.
    pub(crate) calls: Vec<u32>,
    /// In a fixture, whether only nested calls gave it.
    pub(crate) nested: bool,
}

/// Reads the file of the outcome `id` (its name: what the file says of its
/// id is not read); the error names what is wrong with it.
pub(crate) fn parse(id: u64, text: &str) -> Result<Parsed, String> {
    // Tracking the path costs every read: it is taken only to say what is
    // wrong with a file that does not read.
    let file: OutcomeFile<'_> = match serde_json::from_str(text) {
        Ok(file) => file,
        Err(_) => return Err(what_is_wrong(text)),
    };
    let payload = match (&file.value, &file.value_ron) {
        (Some(value), None) => Payload::Json(canonical_json(value).into()),
        (None, Some(ron)) => Payload::Ron((**ron).into()),
        (Some(_), Some(_)) => return Err("holds both `value` and `value_ron`: keep one".to_owned()),
        (None, None) => return Err("`value` is missing".to_owned()),
    };
    let duration = match file.duration_ms {
        None => Duration::ZERO,
        Some(ms) => Duration::try_from_secs_f64(ms / 1000.0)
            .map_err(|_| "`duration_ms` must be a number of milliseconds, at least 0")?,
    };
    let time = |field: &str, text: &Option<Cow<'_, str>>| match text {
        None => Ok(None),
        Some(text) => humantime::parse_rfc3339_weak(text)
            .map(|time| Some(to_millis(time)))
            .map_err(|error| format!("`{field}` {text:?}: {error}")),
    };
    let recorded_at_ms = time("recorded_at", &file.recorded_at)?.unwrap_or(0);
    let last_recorded_ms = time("last_recorded_at", &file.last_recorded_at)?.unwrap_or(recorded_at_ms);
    let recorded = Recorded {
        kind: file.kind,
        payload,
        error_type: file.error_type.map(|label| label.into_owned().into()),
        partial: file.partial,
    };
    let flags = Flags { manual: file.manual, mock_only: file.mock_only };
    Ok(Parsed {
        outcome: Outcome::new(id, canonical_json(&file.args), recorded, flags, recorded_at_ms, duration)
            .recorded_again_at(last_recorded_ms)
            .keyed(file.key.as_ref().map(|key| canonical_json(key).into()))
            .by_body(file.body_hash.map(|hash| hash.into_owned().into_boxed_str())),
        function: file.function.map(Cow::into_owned),
        function_id: file.function_id.map(Cow::into_owned),
        calls: file.calls.map(Cow::into_owned).unwrap_or_default(),
        nested: file.nested,
    })
}

/// Why `text` is no outcome file, naming the field at fault.
fn what_is_wrong(text: &str) -> String {
    let mut reader = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, OutcomeFile<'_>>(&mut reader) {
        Err(error) => {
            let at_root = error.path().iter().next().is_none();
            let path = error.path().to_string();
            let inner = error.into_inner();
            match inner.classify() {
                serde_json::error::Category::Data if !at_root => format!("`{path}`: {inner}"),
                // `missing field `kind``: it names the field.
                serde_json::error::Category::Data if inner.to_string().starts_with("missing field") => {
                    inner.to_string()
                }
                _ => format!("not a JSON object: {inner}"),
            }
        }
        // Nothing may follow the object: a merge marker, a second object.
        Ok(_) => match reader.end() {
            Err(error) => format!("not a JSON object: {error}"),
            Ok(()) => "not an outcome file".to_owned(),
        },
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over
/// `path`: a crash leaves the old file or the new one, never half of one.
/// The temporary name is random: processes that share a volume may each be
/// PID 1 of a container.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension(format!("{TEMP}.{:016x}", rand::random::<u64>()));
    let result =
        fs::File::create(&tmp).and_then(|mut file| file.write_all(bytes)).and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Deletes an outcome's file; `false` when there was none.
pub(crate) fn remove_outcome(data_dir: &Path, function_id: &str, outcome_id: u64) -> Result<bool, Error> {
    remove(outcome_path(data_dir, function_id, outcome_id), |path| fs::remove_file(path))
}

/// Deletes a function's folder and everything in it; `false` when there
/// was none.
pub(crate) fn remove_function_dir(dir: PathBuf) -> Result<bool, Error> {
    remove(dir, |path| fs::remove_dir_all(path))
}

fn remove(path: PathBuf, remove: impl FnOnce(&Path) -> io::Result<()>) -> Result<bool, Error> {
    match remove(&path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(Error::Io { action: "delete", path, source }),
    }
}

/// Writes an outcome's file in the data dir, making its folder if need be.
pub(crate) fn write_outcome(
    data_dir: &Path,
    function_name: &str,
    function_id: &str,
    outcome: &Outcome,
) -> Result<(), Error> {
    let path = outcome_path(data_dir, function_id, outcome.id);
    let text = render(function_name, function_id, outcome, Style::Runtime)
        .map_err(|reason| Error::InvalidOutcome { reason })?;
    fs::create_dir_all(outcomes_dir(data_dir, function_id))
        .and_then(|()| write_atomic(&path, text.as_bytes()))
        .map_err(|source| Error::Io { action: "write", path, source })
}

/// An outcome file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CorruptFile {
    /// The file.
    pub path: PathBuf,
    /// Why it cannot be replayed.
    pub error: String,
}

impl CorruptFile {
    /// The same, its path within `data_dir`: what a client of the panel or
    /// a script is shown, never the rest of the machine's layout.
    pub(crate) fn within(&self, data_dir: &Path) -> CorruptFile {
        let path = self.path.strip_prefix(data_dir).unwrap_or(&self.path);
        CorruptFile { path: path.to_path_buf(), error: self.error.clone() }
    }
}

/// The outcomes of a function, read from its files.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub(crate) outcomes: Vec<Outcome>,
    pub(crate) corrupt: Vec<CorruptFile>,
    /// Temporary files were left, too young to tell whether a writer is
    /// still at them: the folder is to be read again next time.
    pub(crate) unsettled: bool,
}

/// Reads every outcome file of a function.
pub(crate) fn read_outcomes(data_dir: &Path, function_id: &str) -> io::Result<Loaded> {
    let dir = outcomes_dir(data_dir, function_id);
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Loaded::default()),
        Err(error) => return Err(error),
    };
    let mut loaded = Loaded::default();
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let Some(id) = outcome_file_id(&path) else {
            loaded.unsettled |= !remove_if_abandoned(&entry);
            continue;
        };
        match read_outcome(&path, id) {
            Ok(outcome) => loaded.outcomes.push(outcome),
            Err(error) => loaded.corrupt.push(CorruptFile { path, error }),
        }
    }
    Ok(loaded)
}

/// Deletes a temporary file that a killed process left: one old enough
/// that no writer is still at it. `false` for one kept for being young.
fn remove_if_abandoned(entry: &fs::DirEntry) -> bool {
    let name = entry.file_name();
    let temporary = name.to_str().is_some_and(|name| name.split('.').nth(1) == Some(TEMP));
    if !temporary {
        return true;
    }
    let old =
        entry.metadata().and_then(|meta| meta.modified()).is_ok_and(|at| at.elapsed().is_ok_and(|age| age > ABANDONED));
    if old {
        let _ = fs::remove_file(entry.path());
    }
    old
}

/// The path of the function whose outcomes these are, as a file says it:
/// for a function no program registered in the database.
pub(crate) fn function_named_in(data_dir: &Path, function_id: &str) -> Option<String> {
    fs::read_dir(outcomes_dir(data_dir, function_id)).ok()?.flatten().find_map(|entry| {
        let id = outcome_file_id(&entry.path())?;
        parse(id, &fs::read_to_string(entry.path()).ok()?).ok()?.function
    })
}

/// Whether a write failed for want of room: a full disk, a quota, a file
/// size limit.
pub(crate) fn is_full(error: &io::Error) -> bool {
    use io::ErrorKind::{FileTooLarge, QuotaExceeded, StorageFull};
    matches!(error.kind(), StorageFull | QuotaExceeded | FileTooLarge)
}

pub(crate) fn read_outcome(path: &Path, id: u64) -> Result<Outcome, String> {
    let text = fs::read_to_string(path).map_err(|error| error.to_string())?;
    parse(id, &text).map(|parsed| parsed.outcome)
}

/// The id of `<16 hex>.json`; `None` for temporary and foreign files.
pub(crate) fn outcome_file_id(path: &Path) -> Option<u64> {
    if path.extension()? != "json" {
        return None;
    }
    ids::parse_id(path.file_stem()?.to_str()?)
}

/// Warns, once per file, that a function's outcome file is left out.
pub(crate) fn warn_corrupt(function_name: &str, corrupt: &[CorruptFile]) {
    for file in corrupt {
        warn_once(
            format!("corrupt:{}", file.path.display()),
            format_args!(
                "cacheow ignores the outcome file {} of `{function_name}`, which it cannot read: {}. \
                 Fix or delete the file",
                file.path.display(),
                file.error
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(payload: Payload) -> Outcome {
        let recorded = Recorded::new(OutcomeKind::Return, payload);
        Outcome::new(0xabc, r#"{"n":3}"#, recorded, Flags::default(), 1_763_726_400_123, Duration::from_micros(100_250))
    }

    fn read(text: &str) -> Outcome {
        parse(0xabc, text).unwrap_or_else(|error| panic!("{error}")).outcome
    }

    #[test]
    fn files_are_pretty_and_read_back() {
        let written = outcome(Payload::Json(r#"{"a":[1,2],"b":null}"#.into()));
        let text = render("app::f", "00000000000000ff", &written, Style::Runtime).unwrap_or_default();
        assert!(text.contains("\n  \"args\": {\n    \"n\": 3\n  },"), "{text}");
        assert!(text.contains("\"recorded_at\": \"2025-11-21T12:00:00.123Z\""), "{text}");
        let read = read(&text);
        assert_eq!(read.recorded, written.recorded);
        assert_eq!(
            (read.arg_key, read.recorded_at_ms, read.duration),
            (written.arg_key, written.recorded_at_ms, written.duration)
        );
        assert_eq!(parse(0xabc, &text).ok().and_then(|parsed| parsed.function), Some("app::f".to_owned()));
    }

    #[test]
    fn ron_values_round_trip() {
        let written = outcome(Payload::Ron("{(1, 2): NaN}".into()));
        let text = render("app::f", "00000000000000ff", &written, Style::Runtime).unwrap_or_default();
        assert!(text.contains("\"value_ron\": \"{(1, 2): NaN}\""), "{text}");
        assert_eq!(read(&text).recorded.payload, written.recorded.payload);
    }

    #[test]
    fn fixtures_hold_nothing_volatile() {
        let written = outcome(Payload::Json("9".into()));
        let text = render("app::f", "00000000000000ff", &written, Style::Fixture { calls: &[0, 2], nested: false })
            .unwrap_or_default();
        assert!(!text.contains("recorded_at") && !text.contains("duration_ms"), "{text}");
        assert!(text.contains("\"calls\": [\n    0,\n    2\n  ]"), "{text}");
        let parsed = parse(0xabc, &text).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!((parsed.outcome.recorded.payload, parsed.calls), (written.recorded.payload, vec![0, 2]));
    }

    #[test]
    fn what_says_what_a_file_is_is_read_leniently() {
        let text = r#"{"kind": "return", "value": 1, "id": 5, "function": null, "manual": "yes", "error_type": 3}"#;
        let parsed = parse(1, text).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            (parsed.function, parsed.outcome.flags, parsed.outcome.recorded.error_type),
            (None, Flags::default(), None)
        );
    }

    #[test]
    fn null_values_are_values() {
        let text = r#"{"kind": "return", "args": {}, "value": null}"#;
        assert_eq!(read(text).recorded.payload, Payload::Json("null".into()));
        assert_eq!(read(r#"{"kind": "exception", "value": 1}"#).kind(), OutcomeKind::Error);
    }

    #[test]
    fn hand_edit_errors_name_the_field() {
        let error = |text: &str| parse(1, text).err().unwrap_or_default();
        assert!(error("{").starts_with("not a JSON object"));
        assert!(error(r#"{"kind": "maybe", "value": 1}"#).contains("`kind`"));
        assert!(error(r#"{"value": 1}"#).contains("`kind`"));
        assert!(error(r#"{"kind": "return"}"#).contains("`value` is missing"));
        assert!(error(r#"{"kind": "return", "value": 1, "recorded_at": "yesterday"}"#).contains("`recorded_at`"));
        assert!(error(r#"{"kind": "return", "value": 1, "calls": "first"}"#).contains("`calls`"));
        assert!(error("{\"kind\": \"return\", \"value\": 1}\n>>>>>>> theirs").starts_with("not a JSON object"));
        for duration in ["-1", "1e300", "\"soon\""] {
            let text = format!(r#"{{"kind": "return", "value": 1, "duration_ms": {duration}}}"#);
            assert!(error(&text).contains("`duration_ms`"), "{duration}: {}", error(&text));
        }
    }

    #[test]
    fn temporary_files_a_killed_writer_left_are_removed_when_read() {
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        let outcomes = outcomes_dir(dir.path(), "00000000000000ff");
        fs::create_dir_all(&outcomes).unwrap_or_else(|error| panic!("{error}"));
        let abandoned = outcomes.join("0000000000000001.tmp.1234.0");
        let in_flight = outcomes.join("0000000000000002.tmp.5678.0");
        for file in [&abandoned, &in_flight] {
            fs::write(file, "{\"kind\": \"ret").unwrap_or_else(|error| panic!("{error}"));
        }
        let long_ago = std::time::SystemTime::now() - ABANDONED * 2;
        fs::File::options()
            .write(true)
            .open(&abandoned)
            .and_then(|file| file.set_modified(long_ago))
            .unwrap_or_else(|error| panic!("{error}"));
        let loaded = read_outcomes(dir.path(), "00000000000000ff").unwrap_or_else(|error| panic!("{error}"));
        assert!(loaded.outcomes.is_empty() && loaded.corrupt.is_empty(), "never read as outcomes");
        assert!(!abandoned.exists(), "an old one is removed");
        assert!(in_flight.exists(), "a recent one may still be written: kept");
    }

    #[test]
    fn atomic_writes_replace_whole_files() {
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        let path = dir.path().join("0000000000000001.json");
        write_atomic(&path, b"one").unwrap_or_else(|error| panic!("{error}"));
        write_atomic(&path, b"two").unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(fs::read_to_string(&path).ok().as_deref(), Some("two"));
        let names: Vec<_> = fs::read_dir(dir.path()).into_iter().flatten().flatten().map(|e| e.file_name()).collect();
        assert_eq!(names.len(), 1, "no temporary file is left: {names:?}");
    }
}
