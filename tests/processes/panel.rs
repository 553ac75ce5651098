//! The control panel as programs start it: once per process, on its own
//! thread, and never a reason for the program to fail.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use serde_json::{Value, json};

use super::DataDir;
use super::interactive::Interactive;

fn http() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

/// A probe with the panel on a free port, taking commands on stdin.
fn start(data: &DataDir, args: &[&str], env: &[(&str, &str)]) -> Interactive {
    let mut command = data.probe(args);
    command.env("CACHEOW_START_SERVER", "1").env("CACHEOW_SERVER_PORT", "0");
    for (name, value) in env {
        command.env(name, value);
    }
    Interactive::spawn(command)
}

#[test]
fn the_panel_starts_with_the_program_on_a_free_port_and_drives_it() {
    let data = DataDir::new();
    // Flushed: calls reach the database with the writer's next batch.
    let mut running = start(&data, &["square", "3", "flush"], &[("RUST_LOG", "cacheow=info")]);
    let url = running.run("panel", "panel");
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with(":8765/"), "port 0 picks a free port: {url}");

    let functions: Value = http()
        .get(format!("{url}api/functions"))
        .call()
        .expect("the panel answers")
        .body_mut()
        .read_json()
        .expect("JSON");
    let square = functions.as_array().into_iter().flatten().find(|f| f["name"] == "square").expect("square is listed");
    assert_eq!(square["stats"]["total_calls"], 1);
    let id = square["id"].as_str().expect("an id");
    let answer =
        http().post(format!("{url}api/functions/{id}/mode")).send_json(json!({ "mode": "mock" })).expect("answers");
    assert_eq!(answer.status(), 200);

    assert_eq!(running.run("square 4", "square(4)"), "9", "mocked at once: the same process");
    assert_eq!(running.run("ran", "ran"), "1");
    let stderr = running.finish();
    let logged: Vec<&str> =
        stderr.lines().filter(|line| line.contains("cacheow control panel: http://127.0.0.1:")).collect();
    assert_eq!(logged.len(), 1, "its URL is logged once: {stderr}");
    assert!(logged[0].contains(&url), "{stderr}");
}

#[test]
fn a_taken_port_is_one_warning_and_the_program_runs_on() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = taken.local_addr().expect("an address").port().to_string();
    let data = DataDir::new();
    let mut command = data.probe(&["square", "3", "panel", "square", "4", "ran"]);
    command.env("CACHEOW_START_SERVER", "1").env("CACHEOW_SERVER_PORT", &port);
    let probed = super::Probed::from(command.output().expect("the probe runs"));
    assert_eq!(probed.value("panel"), "none");
    assert_eq!(
        (probed.value("square(3)"), probed.value("square(4)"), probed.value("ran")),
        ("9".into(), "16".into(), "2".into())
    );
    let warnings = probed.warnings();
    assert_eq!(warnings.len(), 1, "{}", probed.stderr);
    assert!(warnings[0].contains("the port is taken") && warnings[0].contains(&port), "{}", warnings[0]);
}

#[test]
fn a_non_loopback_host_needs_a_token_and_then_every_request_carries_it() {
    let data = DataDir::new();
    let mut command = data.probe(&["square", "3", "panel"]);
    command.env("CACHEOW_START_SERVER", "1").env("CACHEOW_SERVER_PORT", "0").env("CACHEOW_SERVER_HOST", "0.0.0.0");
    let refused = super::Probed::from(command.output().expect("the probe runs"));
    assert_eq!((refused.value("panel"), refused.value("square(3)")), ("none".into(), "9".into()));
    assert!(refused.warnings().iter().any(|w| w.contains("set CACHEOW_TOKEN")), "{}", refused.stderr);

    let token = [("CACHEOW_SERVER_HOST", "0.0.0.0"), ("CACHEOW_TOKEN", "a-long-secret")];
    let mut running = start(&data, &[], &token);
    let url = running.run("panel", "panel");
    let port = url.rsplit(':').next().unwrap_or_default().trim_end_matches('/');
    let functions = format!("http://127.0.0.1:{port}/api/functions");
    assert_eq!(http().get(&functions).call().expect("answers").status(), 401);
    let with_token = http().get(&functions).header("Authorization", "Bearer a-long-secret").call().expect("answers");
    assert_eq!(with_token.status(), 200);
    running.finish();
}

#[test]
fn changes_made_in_a_served_panel_reach_a_running_program() {
    let data = DataDir::new();
    let mut program = start(&data, &["square", "5"], &[("CACHEOW_START_SERVER", "0")]);
    // `cacheow serve` over the same data dir, in its own process.
    let mut serving =
        data.probe(&["serve"]).env("CACHEOW_SERVER_PORT", "0").stdout(Stdio::piped()).spawn().expect("spawns");
    let mut lines = BufReader::new(serving.stdout.take().expect("stdout")).lines();
    let url = lines.next().and_then(Result::ok).unwrap_or_default().trim_start_matches("serving = ").to_owned();
    let id = program.run("id square", "id square");

    let answer =
        http().post(format!("{url}api/functions/{id}/mode")).send_json(json!({ "mode": "cache" })).expect("answers");
    assert_eq!(answer.status(), 200);
    // Within 100 ms, as `cargo bench` measures; here, only that it arrives.
    assert!(program.run("wait-mode square cache 5000", "wait-mode square").starts_with("cache"));
    assert_eq!(program.run("square 5 ran", "ran"), "1", "a cache hit: the body ran once, for the recording");
    serving.kill().expect("stops");
    serving.wait().expect("ends");
    program.finish();
}
