//! `cacheow serve`: the control panel over a data dir while no program runs.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

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

/// `cacheow serve` on a free port, stopped when dropped, even by a failed
/// assertion.
struct Serving(Child);

impl Serving {
    /// Starts it; with the URL it says it serves.
    fn start(data_dir: &Path) -> (Serving, String) {
        let mut child = cacheow(data_dir, &["--port", "0"]).stdout(Stdio::piped()).spawn().expect("cacheow runs");
        let stdout = child.stdout.take().expect("stdout");
        let serving = Serving(child);
        let line = BufReader::new(stdout).lines().next().and_then(Result::ok).unwrap_or_default();
        let url = line.rsplit(' ').next().unwrap_or_default().to_owned();
        assert!(line.starts_with("cacheow control panel for ") && url.starts_with("http://127.0.0.1:"), "{line}");
        (serving, url)
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
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
    let (_serving, url) = Serving::start(&data);

    let http: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let functions: Value =
        http.get(format!("{url}api/functions")).call().expect("answers").body_mut().read_json().expect("JSON");
    assert_eq!(functions, json!([]), "the data dir is open, and empty");
    let page = http.get(&url).call().expect("answers").body_mut().read_to_string().expect("text");
    assert!(page.contains("No function is registered yet"), "{page}");
    let unknown = http.post(format!("{url}api/functions/0123456789abcdef/mode")).send_json(json!({ "mode": "mock" }));
    assert_eq!(unknown.expect("answers").status(), 404);
}

#[test]
fn the_served_panel_rebuilds_every_index_from_the_files_alone() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let data = root.path().join("data");
    // Outcome files copied in, no database: as after deleting `cacheow.db`.
    let write = |function_id: &str, outcome_id: &str, text: String| {
        let dir = data.join("functions").join(function_id).join("outcomes");
        std::fs::create_dir_all(&dir).expect("a dir");
        std::fs::write(dir.join(format!("{outcome_id}.json")), text).expect("written");
    };
    let file = |function: &str, function_id: &str, value: u32| {
        json!({ "cacheow": 1, "function": function, "function_id": function_id, "kind": "return",
                "args": { "n": value }, "value": value * value })
        .to_string()
    };
    write("00000000000000f3", "000000000000000c", file("app::square", "00000000000000f3", 3));
    write("00000000000000f4", "000000000000000d", file("app::cube", "00000000000000f4", 2));
    write("00000000000000f4", "000000000000000e", "{ edited by hand".to_owned());

    let (_serving, url) = Serving::start(&data);
    let http: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut answer = http.post(format!("{url}api/rebuild-index")).send_empty().expect("answers");
    assert_eq!(answer.status(), 200);
    let rebuilt: Value = answer.body_mut().read_json().expect("JSON");
    assert_eq!(
        rebuilt,
        json!({ "functions": [
            { "id": "00000000000000f3", "indexed": 1, "corrupt": [] },
            { "id": "00000000000000f4", "indexed": 1, "corrupt": [{
                "path": "functions/00000000000000f4/outcomes/000000000000000e.json",
                "error": rebuilt["functions"][1]["corrupt"][0]["error"],
            }] },
        ] })
    );
    let error = rebuilt["functions"][1]["corrupt"][0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("not a JSON object"), "{error}");
    let functions: Value =
        http.get(format!("{url}api/functions")).call().expect("answers").body_mut().read_json().expect("JSON");
    let names: Vec<&str> = functions.as_array().into_iter().flatten().filter_map(|f| f["qualname"].as_str()).collect();
    assert_eq!(names, ["cube", "square"], "registered from their files");
}
