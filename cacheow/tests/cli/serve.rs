//! `cacheow serve`: the control panel over a data dir while no program runs.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn cacheow(data_dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cacheow"));
    command.arg("serve").arg("--data-dir").arg(data_dir).args(args).env_remove("CACHEOW_TOKEN");
    command
}

fn failed(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(2), "a failure exits with 2");
    assert!(output.stdout.is_empty());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A data dir with one registered function, as a program leaves it.
fn data_dir(root: &Path) -> std::path::PathBuf {
    let dir = root.join("data");
    std::fs::create_dir_all(&dir).expect("a dir");
    let db = rusqlite::Connection::open(dir.join("cacheow.db")).expect("a database");
    drop(db);
    dir
}

#[test]
fn a_dir_without_data_is_a_clear_error() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let output = cacheow(&root.path().join("nothing"), &["--port", "0"]).output().expect("cacheow runs");
    let stderr = failed(&output);
    assert!(stderr.contains("holds no cacheow data: run your program once with CACHEOW_ENABLE=1"), "{stderr}");
}

#[test]
fn bad_options_are_clear_errors() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let data = data_dir(root.path());
    let output = cacheow(&data, &["--port", "0", "--host", "0.0.0.0"]).output().expect("cacheow runs");
    let stderr = failed(&output);
    assert!(stderr.contains("`0.0.0.0` is not a loopback address") && stderr.contains("set CACHEOW_TOKEN"), "{stderr}");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = taken.local_addr().expect("an address").port().to_string();
    let stderr = failed(&cacheow(&data, &["--port", &port]).output().expect("cacheow runs"));
    assert!(stderr.contains("the port is taken"), "{stderr}");

    let output = cacheow(&data, &["--port", "http"]).output().expect("cacheow runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid value 'http' for '--port <PORT>'"));
}

#[test]
fn it_serves_the_data_dir_it_is_given() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let data = data_dir(root.path());
    let mut serving = cacheow(&data, &["--port", "0"]).stdout(Stdio::piped()).spawn().expect("cacheow runs");
    let mut lines = BufReader::new(serving.stdout.take().expect("stdout")).lines();
    let line = lines.next().and_then(Result::ok).unwrap_or_default();
    let url = line.rsplit(' ').next().unwrap_or_default().to_owned();
    assert!(line.starts_with("cacheow control panel for ") && url.starts_with("http://127.0.0.1:"), "{line}");

    let http: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let functions: Value =
        http.get(format!("{url}api/functions")).call().expect("answers").body_mut().read_json().expect("JSON");
    assert_eq!(functions, json!([]), "the data dir is open, and empty");
    let page = http.get(&url).call().expect("answers").body_mut().read_to_string().expect("text");
    assert!(page.contains("No function is registered yet"), "{page}");
    let unknown = http.post(format!("{url}api/functions/0123456789abcdef/mode")).send_json(json!({ "mode": "mock" }));
    assert_eq!(unknown.expect("answers").status(), 404);
    serving.kill().expect("stops");
    serving.wait().expect("ends");
}
