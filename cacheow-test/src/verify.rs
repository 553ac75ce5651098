//! Verify runs (`CACHEOW_RECORD=verify`): every call a fixture answers is
//! replayed to the test as usual, and also made for real, end to end; what
//! it gives is compared with the recording, by shape (the default: an LLM
//! never answers twice the same) or exactly (`#[cacheow(verify =
//! "exact")]`). Fixtures never change. The report of a test binary is
//! `target/cacheow/verify/<binary>.json`, one file per binary since nextest
//! runs them in parallel (and one per process under nextest, which runs
//! each test in its own), with a summary on stderr as the binary ends.
//! `CACHEOW_VERIFY_MAX_CALLS` caps the real calls of a binary (of a
//! process), and their cost: those past it are listed as not verified.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cacheow::__harness::{Payload, Recorded, json_diff};
use serde::Serialize;
use serde_json::Value;

use crate::fixtures::json_or_text;

/// What a verify run of one test binary found.
#[derive(Default, Serialize)]
struct Report {
    verified: Vec<Verified>,
    not_verified: Vec<NotVerified>,
    /// The real calls allowed so far, some still running.
    #[serde(skip)]
    made: u64,
}

/// A replayed call: of which test and function, with which arguments.
#[derive(Serialize)]
pub(crate) struct Call {
    pub(crate) test: String,
    pub(crate) function: String,
    pub(crate) args: Value,
    /// Numbered from 0, as the fixtures' `calls`.
    pub(crate) call: u32,
}

/// A call made for real, and how its outcome compares with the recording.
#[derive(Serialize)]
pub(crate) struct Verified {
    #[serde(flatten)]
    pub(crate) call: Call,
    pub(crate) fixture: PathBuf,
    /// `shape` or `exact`.
    pub(crate) by: &'static str,
    /// `same`, `same shape`, `shape changed`, `value changed` or `kind changed`.
    pub(crate) result: &'static str,
    /// What changed: a field's path and both sides, or what differs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) changes: Vec<String>,
}

/// A call replayed without its real call: past the cap, or a sequence.
#[derive(Serialize)]
pub(crate) struct NotVerified {
    #[serde(flatten)]
    pub(crate) call: Call,
    pub(crate) why: String,
}

static REPORT: Mutex<Option<Report>> = Mutex::new(None);

fn report<T>(f: impl FnOnce(&mut Report) -> T) -> T {
    let mut report = REPORT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    f(report.get_or_insert_with(Report::default))
}

/// Whether one more real call is allowed by `CACHEOW_VERIFY_MAX_CALLS`;
/// counted when it is.
pub(crate) fn may_call() -> bool {
    let max = crate::env::verify_max_calls();
    report(|report| {
        let allowed = max.is_none_or(|max| report.made < max);
        report.made += u64::from(allowed);
        allowed
    })
}

pub(crate) fn verified(entry: Verified) {
    report(|report| report.verified.push(entry));
}

pub(crate) fn not_verified(entry: NotVerified) {
    report(|report| report.not_verified.push(entry));
}

/// How the real outcome compares with the recorded one: the result, and
/// what changed.
pub(crate) fn compare(recorded: &Recorded, real: &Recorded, exact: bool) -> (&'static str, Vec<String>) {
    if recorded.kind != real.kind {
        return ("kind changed", vec![format!("was {:?}, now {:?}", recorded.kind, real.kind)]);
    }
    let (recorded, real) = match (&recorded.payload, &real.payload) {
        (Payload::Json(recorded), Payload::Json(real)) => (json_or_text(recorded), json_or_text(real)),
        // RON holds what JSON cannot: compared as written.
        (recorded, real) if recorded.text() == real.text() => return ("same", Vec::new()),
        (recorded, real) => return ("value changed", vec![format!("was {}, now {}", recorded.text(), real.text())]),
    };
    if recorded == real {
        return ("same", Vec::new());
    }
    if exact {
        let changes = json_diff::render(&json_diff::differences(&recorded, &real), ("was", "now"));
        return ("value changed", changes.lines().map(|line| line.trim().to_owned()).collect());
    }
    match same_shape("", &recorded, &real) {
        Ok(()) => ("same shape", Vec::new()),
        Err(change) => ("shape changed", vec![change]),
    }
}

/// Whether `real` has the shape of `recorded`: objects with the same keys,
/// arrays whose items have the shape of the recorded ones (any lengths),
/// `null` only for `null`, and values of the same type. The error says
/// where it differs first.
fn same_shape(path: &str, recorded: &Value, real: &Value) -> Result<(), String> {
    let at = |key: &str| if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") };
    let place = if path.is_empty() { "the value" } else { path };
    match (recorded, real) {
        (Value::Object(recorded), Value::Object(real)) => {
            let missing: Vec<&String> = recorded.keys().filter(|key| !real.contains_key(*key)).collect();
            let added: Vec<&String> = real.keys().filter(|key| !recorded.contains_key(*key)).collect();
            if !missing.is_empty() || !added.is_empty() {
                let mut sides = Vec::new();
                if !missing.is_empty() {
                    sides.push(format!("{missing:?} gone"));
                }
                if !added.is_empty() {
                    sides.push(format!("{added:?} new"));
                }
                return Err(format!("{place}: keys {}", sides.join(", ")));
            }
            recorded.iter().try_for_each(|(key, value)| same_shape(&at(key), value, &real[key]))
        }
        (Value::Array(recorded), Value::Array(real)) => match recorded.first().or(real.first()) {
            // Each item, of either side, has the shape of the first: named
            // by its index in its own array.
            Some(model) => [recorded, real].into_iter().try_for_each(|items| {
                items
                    .iter()
                    .enumerate()
                    .try_for_each(|(index, item)| same_shape(&format!("{path}[{index}]"), model, item))
            }),
            None => Ok(()),
        },
        (recorded, real) if kind(recorded) == kind(real) => Ok(()),
        (recorded, real) => Err(format!("{place}: was {}, now {}", kind(recorded), kind(real))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Writes the report and prints its summary, if this binary verified.
#[allow(unsafe_code)] // the registration of a function to run at exit
#[dtor::dtor(unsafe)]
fn at_exit() {
    let Some(report) = REPORT.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take() else { return };
    let file = report_file();
    let written = serde_json::to_string_pretty(&report)
        .map_err(std::io::Error::other)
        .and_then(|text| std::fs::create_dir_all(file.parent().unwrap_or(Path::new("."))).map(|()| text))
        .and_then(|text| std::fs::write(&file, text));
    print_summary(&report, &file, written.err());
}

#[allow(clippy::print_stderr)] // the summary a test binary prints as it ends
fn print_summary(report: &Report, file: &Path, error: Option<std::io::Error>) {
    let count = |result: &str| report.verified.iter().filter(|entry| entry.result == result).count();
    let changed = report.verified.iter().filter(|entry| !entry.result.starts_with("same"));
    eprintln!(
        "\ncacheow-test verify: {} call(s) made for real: {} the same, {} the same shape, {} changed; {} not verified",
        report.verified.len(),
        count("same"),
        count("same shape"),
        report.verified.len() - count("same") - count("same shape"),
        report.not_verified.len(),
    );
    for entry in changed {
        eprintln!(
            "  {} in {}, call {} with {}: {}",
            entry.call.function, entry.call.test, entry.call.call, entry.call.args, entry.result
        );
        for change in &entry.changes {
            eprintln!("      {change}");
        }
    }
    for entry in &report.not_verified {
        eprintln!(
            "  not verified: {} in {}, call {}: {}",
            entry.call.function, entry.call.test, entry.call.call, entry.why
        );
    }
    match error {
        None => eprintln!("the report: {}", file.display()),
        Some(error) => eprintln!("cacheow-test: cannot write the verify report {}: {error}", file.display()),
    }
}

/// `target/cacheow/verify/<binary>.json`: the target dir is the one the
/// test binary was built in (cargo marks it with `CACHEDIR.TAG`). Under
/// nextest, which runs each test in a process of its own, one file per
/// process: `<binary>-<pid>.json`.
fn report_file() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let target = exe
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target"));
    let mut name = exe.file_stem().map_or_else(|| "tests".into(), |stem| stem.to_string_lossy().into_owned());
    if std::env::var_os("NEXTEST").is_some() {
        name = format!("{name}-{}", std::process::id());
    }
    target.join("cacheow").join("verify").join(format!("{name}.json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cacheow::__harness::OutcomeKind;
    use serde_json::json;

    fn outcome(value: Value) -> Recorded {
        Recorded {
            kind: OutcomeKind::Return,
            payload: Payload::Json(value.to_string().into()),
            error_type: None,
            partial: false,
        }
    }

    fn by_shape(recorded: Value, real: Value) -> (&'static str, Vec<String>) {
        compare(&outcome(recorded), &outcome(real), false)
    }

    #[test]
    fn shape_is_keys_and_types_with_arrays_of_any_length() {
        assert_eq!(by_shape(json!({"a": 1}), json!({"a": 1})).0, "same");
        assert_eq!(by_shape(json!({"a": 1, "b": ["x"]}), json!({"a": 2, "b": ["y", "z"]})).0, "same shape");
        assert_eq!(by_shape(json!({"b": []}), json!({"b": [1]})).0, "same shape");
        assert_eq!(
            by_shape(json!({"a": 1}), json!({"a": 1, "c": 2})),
            ("shape changed", vec!["the value: keys [\"c\"] new".to_owned()])
        );
        assert_eq!(
            by_shape(json!({"a": {"b": null}}), json!({"a": {"b": 3}})),
            ("shape changed", vec!["a.b: was null, now a number".to_owned()])
        );
        assert_eq!(
            by_shape(json!([{"n": 1}]), json!([{"n": 1}, {"n": "2"}])),
            ("shape changed", vec!["[1].n: was a number, now a string".to_owned()]),
            "the index within the real array"
        );
    }

    #[test]
    fn exact_names_each_value_that_changed() {
        let (result, changes) = compare(&outcome(json!({"a": 1, "b": 2})), &outcome(json!({"a": 1, "b": 3})), true);
        assert_eq!((result, changes), ("value changed", vec!["b: was 2, now 3".to_owned()]));
        let error = Recorded { kind: OutcomeKind::Error, ..outcome(json!("boom")) };
        assert_eq!(compare(&outcome(json!("boom")), &error, true).0, "kind changed");
    }
}
