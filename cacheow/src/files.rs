//! Outcome files: `<data_dir>/functions/<function-id>/outcomes/<outcome-id>.json`,
//! pretty, readable and hand-editable, written atomically.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::canonical::to_canonical;
use crate::ids;
use crate::outcome::{Flags, Outcome, OutcomeKind, Payload, from_millis, to_millis};

/// The version of the file format, written in every file.
const FORMAT: u32 = 1;

pub(crate) fn function_dir(data_dir: &Path, function_id: &str) -> PathBuf {
    data_dir.join("functions").join(function_id)
}

pub(crate) fn outcomes_dir(data_dir: &Path, function_id: &str) -> PathBuf {
    function_dir(data_dir, function_id).join("outcomes")
}

pub(crate) fn outcome_path(data_dir: &Path, function_id: &str, outcome_id: u64) -> PathBuf {
    outcomes_dir(data_dir, function_id).join(format!("{}.json", ids::id_hex(outcome_id)))
}

/// The file as written; read back field by field by [`parse`], so that a
/// hand edit gets an error that names the field.
#[derive(Serialize)]
struct OutcomeFile<'a> {
    cacheow: u32,
    function: &'a str,
    function_id: &'a str,
    id: String,
    kind: OutcomeKind,
    arg_key: String,
    args: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<Value>,
    /// The value in RON, for values JSON cannot hold (NaN, maps with
    /// non-string keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    value_ron: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_type: Option<&'a str>,
    /// Added by hand, not recorded from a call.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    manual: bool,
    /// Replayed in mock mode only, never as a cache hit.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    mock_only: bool,
    /// The items of an iterator dropped before its end.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    partial: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recorded_at: Option<String>,
    /// In fixtures: the calls, among those of the test with the same
    /// arguments, that gave this outcome (0 is the first).
    #[serde(skip_serializing_if = "Option::is_none")]
    calls: Option<&'a [u32]>,
}

/// What an outcome file holds besides the outcome.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Style<'a> {
    /// The data dir: when it was recorded and how long the call took.
    Runtime,
    /// A test fixture: nothing that changes from one recording to the next,
    /// and the order of the calls that gave it.
    Fixture { calls: &'a [u32] },
}

/// The text of an outcome's file.
pub(crate) fn render(
    function_name: &str,
    function_id: &str,
    outcome: &Outcome,
    style: Style<'_>,
) -> Result<String, String> {
    let parse_json = |text: &str| serde_json::from_str::<Value>(text).map_err(|error| error.to_string());
    let (value, value_ron) = match &outcome.payload {
        Payload::Json(text) => (Some(parse_json(text)?), None),
        Payload::Ron(text) => (None, Some(&**text)),
    };
    let file = OutcomeFile {
        cacheow: FORMAT,
        function: function_name,
        function_id,
        id: outcome.id_hex(),
        kind: outcome.kind,
        arg_key: ids::arg_key_hex(outcome.arg_key),
        args: parse_json(&outcome.args)?,
        value,
        value_ron,
        error_type: outcome.error_type.as_deref(),
        manual: outcome.flags.manual,
        mock_only: outcome.flags.mock_only,
        partial: outcome.flags.partial,
        duration_ms: None,
        recorded_at: None,
        calls: None,
    };
    let file = match style {
        Style::Runtime => OutcomeFile {
            duration_ms: Some(outcome.duration.as_micros() as f64 / 1000.0),
            recorded_at: Some(humantime::format_rfc3339_millis(from_millis(outcome.recorded_at_ms)).to_string()),
            ..file
        },
        Style::Fixture { calls } => OutcomeFile { calls: Some(calls), ..file },
    };
    let mut text = serde_json::to_string_pretty(&file).map_err(|error| error.to_string())?;
    text.push('\n');
    Ok(text)
}

/// Reads an outcome file; the error names what is wrong with it.
pub(crate) fn parse(id: u64, text: &str) -> Result<Outcome, String> {
    parse_file(id, text).map(|(outcome, _)| outcome)
}

/// Reads an outcome file, with its fixture call positions (none in the
/// data dir's files).
pub(crate) fn parse_file(id: u64, text: &str) -> Result<(Outcome, Vec<u32>), String> {
    let file: Map<String, Value> = serde_json::from_str(text).map_err(|error| format!("not a JSON object: {error}"))?;
    let field = |name: &str| file.get(name);
    let kind = match field("kind") {
        Some(Value::String(kind)) => OutcomeKind::parse(kind)
            .ok_or_else(|| format!("`kind` is {kind:?}: expected \"return\", \"error\", \"items\" or \"panic\""))?,
        _ => return Err("`kind` is missing: expected \"return\" or \"error\"".to_owned()),
    };
    let args = to_canonical(field("args").unwrap_or(&Value::Object(Map::new())))
        .map_err(|error| format!("`args`: {error}"))?
        .text;
    let payload = match (field("value"), field("value_ron")) {
        (Some(value), None) => {
            Payload::Json(to_canonical(value).map_err(|error| format!("`value`: {error}"))?.text.into())
        }
        (None, Some(Value::String(ron))) => Payload::Ron(ron.as_str().into()),
        (None, Some(_)) => return Err("`value_ron` must be a string of RON".to_owned()),
        (Some(_), Some(_)) => return Err("holds both `value` and `value_ron`: keep one".to_owned()),
        (None, None) => return Err("`value` is missing".to_owned()),
    };
    let duration = match field("duration_ms") {
        None => Duration::ZERO,
        Some(value) => value
            .as_f64()
            .and_then(|ms| Duration::try_from_secs_f64(ms / 1000.0).ok())
            .ok_or("`duration_ms` must be a number of milliseconds, at least 0")?,
    };
    let recorded_at_ms = match field("recorded_at") {
        None => 0,
        Some(Value::String(text)) => humantime::parse_rfc3339_weak(text)
            .map(to_millis)
            .map_err(|error| format!("`recorded_at` {text:?}: {error}"))?,
        Some(_) => return Err("`recorded_at` must be an RFC 3339 time string".to_owned()),
    };
    let calls = match field("calls") {
        None => Vec::new(),
        Some(calls) => serde_json::from_value(calls.clone())
            .map_err(|_| "`calls` must be a list of call numbers, like [0, 2]".to_owned())?,
    };
    let outcome = Outcome {
        id,
        kind,
        // Derived from `args`, so that editing the arguments re-files the outcome.
        arg_key: ids::arg_key(&args),
        args: args.into(),
        payload,
        error_type: match field("error_type") {
            Some(Value::String(label)) => Some(label.as_str().into()),
            _ => None,
        },
        flags: Flags {
            manual: field("manual").and_then(Value::as_bool).unwrap_or(false),
            mock_only: field("mock_only").and_then(Value::as_bool).unwrap_or(false),
            partial: field("partial").and_then(Value::as_bool).unwrap_or(false),
        },
        recorded_at_ms,
        duration,
        count: AtomicU64::new(1),
        last_seen_ms: AtomicI64::new(recorded_at_ms),
    };
    Ok((outcome, calls))
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over
/// `path`: a crash leaves the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp.{}.{n}", std::process::id()));
    let result =
        fs::File::create(&tmp).and_then(|mut file| file.write_all(bytes)).and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// An outcome file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CorruptFile {
    /// The file.
    pub path: PathBuf,
    /// Why it cannot be replayed.
    pub error: String,
}

/// The outcomes of a function, read from its files.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub(crate) outcomes: Vec<Outcome>,
    pub(crate) corrupt: Vec<CorruptFile>,
}

pub(crate) fn read_outcomes(data_dir: &Path, function_id: &str) -> io::Result<Loaded> {
    let dir = outcomes_dir(data_dir, function_id);
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Loaded::default()),
        Err(error) => return Err(error),
    };
    let mut loaded = Loaded::default();
    for entry in entries {
        let path = entry?.path();
        let Some(id) = outcome_file_id(&path) else { continue };
        match read_outcome(&path, id) {
            Ok(outcome) => loaded.outcomes.push(outcome),
            Err(error) => loaded.corrupt.push(CorruptFile { path, error }),
        }
    }
    Ok(loaded)
}

/// The path of the function whose outcomes these are, as a file says it:
/// for a function no program registered in the database.
pub(crate) fn function_named_in(data_dir: &Path, function_id: &str) -> Option<String> {
    fs::read_dir(outcomes_dir(data_dir, function_id)).ok()?.flatten().find_map(|entry| {
        let text = fs::read_to_string(entry.path()).ok()?;
        serde_json::from_str::<Value>(&text).ok()?.get("function")?.as_str().map(str::to_owned)
    })
}

pub(crate) fn read_outcome(path: &Path, id: u64) -> Result<Outcome, String> {
    let text = fs::read_to_string(path).map_err(|error| error.to_string())?;
    parse(id, &text)
}

/// The id of `<16 hex>.json`; `None` for temporary and foreign files.
fn outcome_file_id(path: &Path) -> Option<u64> {
    if path.extension()? != "json" {
        return None;
    }
    ids::parse_id(path.file_stem()?.to_str()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(payload: Payload) -> Outcome {
        Outcome {
            id: 0xabc,
            kind: OutcomeKind::Return,
            arg_key: ids::arg_key(r#"{"n":3}"#),
            args: r#"{"n":3}"#.into(),
            payload,
            error_type: None,
            flags: Flags::default(),
            recorded_at_ms: 1_763_726_400_123,
            duration: Duration::from_micros(100_250),
            count: AtomicU64::new(1),
            last_seen_ms: AtomicI64::new(1_763_726_400_123),
        }
    }

    #[test]
    fn files_are_pretty_and_read_back() {
        let written = outcome(Payload::Json(r#"{"a":[1,2],"b":null}"#.into()));
        let text = render("app::f", "00000000000000ff", &written, Style::Runtime).unwrap_or_default();
        assert!(text.contains("\n  \"args\": {\n    \"n\": 3\n  },"), "{text}");
        assert!(text.contains("\"recorded_at\": \"2025-11-21T12:00:00.123Z\""), "{text}");
        let read = parse(0xabc, &text).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(read.payload, written.payload);
        assert_eq!(
            (read.arg_key, read.recorded_at_ms, read.duration),
            (written.arg_key, written.recorded_at_ms, written.duration)
        );
    }

    #[test]
    fn ron_values_round_trip() {
        let written = outcome(Payload::Ron("{(1, 2): NaN}".into()));
        let text = render("app::f", "00000000000000ff", &written, Style::Runtime).unwrap_or_default();
        assert!(text.contains("\"value_ron\": \"{(1, 2): NaN}\""), "{text}");
        assert_eq!(parse(1, &text).map(|o| o.payload).ok(), Some(written.payload));
    }

    #[test]
    fn fixtures_hold_nothing_volatile() {
        let written = outcome(Payload::Json("9".into()));
        let text =
            render("app::f", "00000000000000ff", &written, Style::Fixture { calls: &[0, 2] }).unwrap_or_default();
        assert!(!text.contains("recorded_at") && !text.contains("duration_ms"), "{text}");
        assert!(text.contains("\"calls\": [\n    0,\n    2\n  ]"), "{text}");
        let (read, calls) = parse_file(0xabc, &text).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!((read.payload, calls), (written.payload, vec![0, 2]));
    }

    #[test]
    fn null_values_are_values() {
        let text = r#"{"kind": "return", "args": {}, "value": null}"#;
        assert_eq!(parse(1, text).map(|o| o.payload).ok(), Some(Payload::Json("null".into())));
    }

    #[test]
    fn hand_edit_errors_name_the_field() {
        let error = |text: &str| parse(1, text).err().unwrap_or_default();
        assert!(error("{").starts_with("not a JSON object"));
        assert!(error(r#"{"kind": "maybe", "value": 1}"#).contains("`kind`"));
        assert!(error(r#"{"kind": "return"}"#).contains("`value` is missing"));
        assert!(error(r#"{"kind": "return", "value": 1, "recorded_at": "yesterday"}"#).contains("`recorded_at`"));
        for duration in ["-1", "1e300", "\"soon\""] {
            let text = format!(r#"{{"kind": "return", "value": 1, "duration_ms": {duration}}}"#);
            assert!(error(&text).contains("`duration_ms`"), "{duration}");
        }
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
