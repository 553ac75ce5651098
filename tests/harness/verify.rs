//! Verify runs: a test replays its fixtures as usual while each replayed
//! call is also made for real, end to end, and compared with the
//! recording; fixtures never change.
//!
//! `forecasts_replay` is an ordinary test of committed fixtures. The test
//! below runs it again in child processes with `CACHEOW_RECORD=verify`,
//! while `VERIFY_PROBE` changes what the real functions answer.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cacheow::cacheow;
use cacheow_test::cacheow_test;
use serde_json::{Value, json};

use crate::tree;

/// What the real thing answers now: `values` and `shape` change it.
fn probe() -> String {
    std::env::var("VERIFY_PROBE").unwrap_or_default()
}

#[cacheow]
fn forecast(city: &str) -> Value {
    match probe().as_str() {
        "values" => json!({"city": city, "temp": 25.5, "sky": ["rain", "wind"]}),
        "shape" => json!({"city": city, "temperature": 25.5}),
        _ => json!({"city": city, "temp": 20.0, "sky": ["sun"]}),
    }
}

#[cacheow]
fn forecast_for_trip(city: &str) -> Value {
    forecast(city)
}

#[cacheow(verify = "exact")]
fn total(n: u64) -> u64 {
    if probe() == "values" { n + 1 } else { n }
}

/// Its panics are not recorded: a verify run still tells of one.
#[cacheow(record_panics = false)]
fn risky(n: u64) -> u64 {
    assert!(probe() != "values", "the real thing fails now");
    n * 2
}

#[cacheow_test]
fn forecasts_replay() {
    assert_eq!(risky(4), 8);
    assert_eq!(forecast("paris")["temp"], 20.0, "the recorded value, in a verify run too");
    assert_eq!(total(3), 3);
    assert_eq!(forecast_for_trip("nice")["sky"], json!(["sun"]));
}

/// `forecasts_replay` in a verify run, the real functions answering as
/// `probe` says.
fn verify_run(probe: &str, max_calls: Option<&str>) -> (Output, Value) {
    let mut command = Command::new(std::env::current_exe().expect("this test binary"));
    command.args(["verify::forecasts_replay", "--exact"]).env("CACHEOW_RECORD", "verify").env("VERIFY_PROBE", probe);
    command
        .env_remove("CI")
        .env_remove("CACHEOW_FIXTURES_DIR")
        .env_remove("CACHEOW_VERIFY_MAX_CALLS")
        .env_remove("NEXTEST");
    if let Some(max) = max_calls {
        command.env("CACHEOW_VERIFY_MAX_CALLS", max);
    }
    let output = command.output().expect("the test runs");
    let report = std::fs::read_to_string(report_file()).expect("the verify report");
    (output, serde_json::from_str(&report).expect("a JSON report"))
}

fn report_file() -> PathBuf {
    let exe = std::env::current_exe().expect("this test binary");
    let target = exe.ancestors().find(|dir| dir.join("CACHEDIR.TAG").is_file()).expect("the target dir");
    let binary = exe.file_stem().expect("a name").to_string_lossy().into_owned();
    target.join("cacheow/verify").join(format!("{binary}.json"))
}

fn result_of<'a>(report: &'a Value, function: &str) -> &'a Value {
    let verified = report["verified"].as_array().expect("the verified calls");
    verified.iter().find(|entry| entry["function"] == function).unwrap_or_else(|| panic!("{function}: {report}"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/harness/verify/forecasts_replay")
}

#[test]
fn a_verify_run_compares_real_calls_with_the_recordings_and_changes_nothing() {
    let before = tree(&fixtures());
    assert_eq!(before.len(), 5, "the committed fixtures: {before:?}");

    let (output, report) = verify_run("values", None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the test replays as usual: {stderr}");
    assert_eq!(result_of(&report, "harness::verify::forecast")["result"], "same shape", "{report}");
    let total = result_of(&report, "harness::verify::total");
    assert_eq!((&total["result"], &total["by"]), (&json!("value changed"), &json!("exact")), "{report}");
    assert_eq!(total["changes"], json!(["the whole value: was 3, now 4"]), "{report}");
    // Its nested call ran for real too: the trip's forecast changed.
    assert_eq!(result_of(&report, "harness::verify::forecast_for_trip")["result"], "same shape", "{report}");
    let risky = result_of(&report, "harness::verify::risky");
    assert_eq!((&risky["result"], &risky["changes"]), (&json!("kind changed"), &json!(["was Return, now Panic"])));
    assert_eq!(report["verified"].as_array().map(Vec::len), Some(4), "nested calls are not verified apart: {report}");
    assert!(
        stderr.contains("cacheow-test verify: 4 call(s) made for real: 0 the same, 2 the same shape, 2 changed"),
        "{stderr}"
    );

    let (_, report) = verify_run("shape", None);
    let forecast = result_of(&report, "harness::verify::forecast");
    assert_eq!(forecast["result"], "shape changed", "{report}");
    assert_eq!(forecast["changes"], json!(["the value: keys [\"sky\", \"temp\"] gone, [\"temperature\"] new"]));
    assert_eq!(result_of(&report, "harness::verify::total")["result"], "same", "{report}");

    let (output, report) = verify_run("", Some("1"));
    assert_eq!(report["verified"].as_array().map(Vec::len), Some(1), "{report}");
    let not_verified = report["not_verified"].as_array().expect("the calls past the cap");
    assert_eq!(not_verified.len(), 3, "{report}");
    assert!(not_verified.iter().all(|entry| entry["why"] == "past the cap of CACHEOW_VERIFY_MAX_CALLS"), "{report}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("3 not verified"));

    assert_eq!(tree(&fixtures()), before, "a verify run changes no fixture");
}
