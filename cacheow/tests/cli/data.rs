//! `list`, `show`, `mode`, `rebuild-index`, `prune`, `export` and `import`,
//! run as real processes over data dirs made of outcome files, as they are
//! after copying files in or deleting `cacheow.db`.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use assert_cmd::Command;
use serde_json::{Value, json};

use crate::{copy_dir, tree};

/// A data dir holding only outcome files: no database.
pub(crate) struct Data {
    root: tempfile::TempDir,
}

impl Data {
    pub(crate) fn new() -> Data {
        Data { root: tempfile::tempdir().expect("a temporary dir") }
    }

    pub(crate) fn dir(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// Writes an outcome file of `function` (a path) with this id.
    pub(crate) fn outcome(
        &self,
        function: &str,
        function_id: &str,
        outcome_id: &str,
        args: Value,
        value: Value,
    ) -> PathBuf {
        let file = json!({ "function": function, "kind": "return", "args": args, "value": value });
        self.outcome_file(function_id, outcome_id, file)
    }

    /// Writes an outcome file with these fields, and the ids.
    pub(crate) fn outcome_file(&self, function_id: &str, outcome_id: &str, mut file: Value) -> PathBuf {
        let dir = self.dir().join("functions").join(function_id).join("outcomes");
        std::fs::create_dir_all(&dir).expect("a dir");
        file["cacheow"] = json!(1);
        file["function_id"] = json!(function_id);
        file["id"] = json!(outcome_id);
        let path = dir.join(format!("{outcome_id}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&file).expect("JSON")).expect("written");
        path
    }

    fn cacheow(&self, args: &[&str]) -> Command {
        let mut command = Command::cargo_bin("cacheow").expect("the binary");
        command
            .args(args)
            .arg("--data-dir")
            .arg(self.dir())
            .env_remove("CACHEOW_DATA_DIR")
            .env_remove("CACHEOW_REDIS_URL");
        command
    }

    /// Runs a command with `--json`; what it printed.
    pub(crate) fn json(&self, args: &[&str]) -> Value {
        let output = self.cacheow(args).arg("--json").assert().success().get_output().stdout.clone();
        serde_json::from_slice(&output).expect("JSON")
    }

    pub(crate) fn stdout(&self, args: &[&str]) -> String {
        String::from_utf8_lossy(&self.cacheow(args).assert().success().get_output().stdout).into_owned()
    }

    pub(crate) fn fails(&self, args: &[&str]) -> String {
        String::from_utf8_lossy(&self.cacheow(args).assert().code(2).get_output().stderr).into_owned()
    }
}

pub(crate) const FETCH: &str = "00000000000000f1";
const OTHER_FETCH: &str = "00000000000000f2";
pub(crate) const SQUARE: &str = "00000000000000f3";

/// Two outcomes of `app::users::fetch`, one of `app::square`.
pub(crate) fn sample() -> Data {
    let data = Data::new();
    data.outcome("app::users::fetch", FETCH, "000000000000000a", json!({ "id": 1 }), json!("Ann"));
    data.outcome("app::users::fetch", FETCH, "000000000000000b", json!({ "id": 2 }), json!("Bob"));
    data.outcome("app::square", SQUARE, "000000000000000c", json!({ "n": 3 }), json!(9));
    data
}

#[test]
fn rebuild_index_registers_and_indexes_files_without_a_database() {
    let data = sample();
    assert!(!data.dir().join("cacheow.db").exists());
    let out = data.stdout(&["rebuild-index"]);
    assert!(out.contains("app::users::fetch: 2 outcomes indexed"), "{out}");
    assert!(out.contains("app::square: 1 outcomes indexed"), "{out}");
    let functions = data.json(&["list"]);
    let fetch = functions.as_array().into_iter().flatten().find(|f| f["id"] == FETCH).expect("registered");
    assert_eq!(
        (&fetch["path"], &fetch["name"], &fetch["outcomes"]),
        (&json!("app::users::fetch"), &json!("fetch"), &json!(2))
    );
    assert_eq!(fetch["mode"], "default");

    let table = data.stdout(&["list"]);
    assert!(table.lines().next().is_some_and(|header| header.starts_with("FUNCTION")), "{table}");
    assert!(table.contains("app::square") && table.contains(SQUARE), "{table}");
}

#[test]
fn a_corrupt_file_is_reported_and_the_rest_still_indexed() {
    let data = sample();
    let broken = data.outcome("app::square", SQUARE, "000000000000000d", json!({ "n": 4 }), json!(16));
    std::fs::write(&broken, "{ \"kind\": \"return\", ").expect("a bad hand edit");
    let out = data.stdout(&["rebuild-index", SQUARE]);
    assert!(out.contains("app::square: 1 outcomes indexed"), "{out}");
    assert!(data.stdout(&["rebuild-index", "square"]).contains("app::square: 1 outcomes indexed"), "by name too");
    assert!(
        out.contains("left out functions/00000000000000f3/outcomes/000000000000000d.json: not a JSON object"),
        "{out}"
    );
    let shown = data.json(&["show", SQUARE]);
    assert_eq!(shown["corrupt_files"][0]["path"], "functions/00000000000000f3/outcomes/000000000000000d.json");
    assert_eq!(shown["outcomes"], 1);
    assert!(data.stdout(&["show", "square"]).contains("corrupt files (left out at the last rebuild):"));
}

#[test]
fn show_and_mode_find_a_function_by_id_path_or_name() {
    let data = sample();
    data.outcome("app::orders::fetch", OTHER_FETCH, "000000000000000e", json!({ "id": 5 }), json!("order"));
    data.stdout(&["rebuild-index"]);

    let out = data.stdout(&["mode", "users::fetch", "mock"]);
    assert_eq!(out.trim(), "app::users::fetch is now in mock mode; running programs switch within 100 ms");
    let shown = data.json(&["show", FETCH, "--limit", "1"]);
    assert_eq!((&shown["mode"], &shown["path"]), (&json!("mock"), &json!("app::users::fetch")));
    assert_eq!(shown["recent_outcomes"].as_array().map(Vec::len), Some(1));
    let text = data.stdout(&["show", "app::users::fetch"]);
    assert!(text.contains("mode mock") && text.contains("-> \"Ann\""), "{text}");
    assert_eq!(data.json(&["mode", "square", "cache"])["mode"], "cache");

    let ambiguous = data.fails(&["show", "fetch"]);
    assert!(ambiguous.contains("`fetch` names 2 functions") && ambiguous.contains(OTHER_FETCH), "{ambiguous}");
    let unknown = data.fails(&["mode", "nothing", "mock"]);
    assert!(unknown.contains("no function is named `nothing`: `cacheow list` shows them"), "{unknown}");
    let bad_mode = data.fails(&["mode", "square", "sideways"]);
    assert!(bad_mode.contains("invalid value 'sideways'") && bad_mode.contains("default, cache, mock"), "{bad_mode}");
    assert_eq!(data.json(&["show", "square"])["mode"], "cache", "nothing changed");
}

#[test]
fn prune_deletes_what_stale_functions_left() {
    let data = sample();
    data.stdout(&["rebuild-index"]);
    let db = rusqlite::Connection::open(data.dir().join("cacheow.db")).expect("the database");
    db.execute("UPDATE functions SET stale = 1 WHERE id = ?1", [SQUARE]).expect("marked stale");
    assert!(data.fails(&["prune"]).contains("--stale"), "prune asks what to prune");
    assert_eq!(data.stdout(&["prune", "--stale"]).trim(), "pruned 1 stale function(s): app::square");
    assert!(!data.dir().join("functions").join(SQUARE).exists(), "its files are gone");
    let listed = data.json(&["list"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(data.stdout(&["prune", "--stale"]).trim(), "no function is stale");
}

#[test]
fn export_and_import_move_outcomes_through_a_fixture_folder() {
    let data = sample();
    // A hand-made mock-only outcome, and the items of a sequence dropped early.
    let mock_only = json!({ "function": "app::users::fetch", "kind": "return", "args": {}, "value": "Zed",
                            "manual": true, "mock_only": true });
    data.outcome_file(FETCH, "00000000000000a1", mock_only);
    let partial = json!({ "function": "app::users::fetch", "kind": "items", "args": { "id": 3 },
                          "value": [{ "value": "C" }], "partial": true });
    data.outcome_file(FETCH, "00000000000000a2", partial);
    data.stdout(&["rebuild-index"]);
    let shown = data.stdout(&["show", "users::fetch"]);
    assert!(shown.contains("manual mock-only") && shown.contains(" partial"), "{shown}");
    let fixtures = data.root.path().join("fixtures").join("users").join("loads_users");
    let out = data.stdout(&["export", "users::fetch", &fixtures.display().to_string()]);
    assert!(out.starts_with("exported 4 outcome(s) of app::users::fetch to "), "{out}");
    let folder = fixtures.join(format!("fetch-{FETCH}"));
    let exported: Value = read_json(&folder.join("000000000000000a.json"));
    assert_eq!((&exported["value"], &exported["calls"]), (&json!("Ann"), &json!([])), "a fixture for any call");
    assert!(exported.get("recorded_at").is_none(), "fixtures hold nothing that changes between recordings");

    let elsewhere = Data::new();
    let fixtures_root = data.root.path().join("fixtures").display().to_string();
    let imported = elsewhere.json(&["import", &fixtures_root]);
    assert_eq!(imported, json!([{ "id": FETCH, "path": "app::users::fetch", "outcomes": 4 }]));
    let listed = elsewhere.json(&["list"]);
    assert_eq!(listed[0]["outcomes"], 4);
    let file: Value =
        read_json(&elsewhere.dir().join("functions").join(FETCH).join("outcomes").join("000000000000000b.json"));
    assert_eq!((&file["value"], &file["function"]), (&json!("Bob"), &json!("app::users::fetch")));
    let recorded_at = file["recorded_at"].as_str().unwrap_or_default();
    assert!(!recorded_at.starts_with("1970"), "as new as its import, not the first for retention to drop");
    // What was partial or mock-only stays so: never a cache hit.
    let shown = elsewhere.json(&["show", "users::fetch"]);
    let flags = |id: &str| {
        let outcomes = shown["recent_outcomes"].as_array().cloned().unwrap_or_default();
        let outcome = outcomes.into_iter().find(|o| o["id"] == id).unwrap_or_default();
        (outcome["manual"].clone(), outcome["mock_only"].clone(), outcome["partial"].clone())
    };
    assert_eq!(flags("00000000000000a1"), (json!(true), json!(true), json!(false)));
    assert_eq!(flags("00000000000000a2"), (json!(false), json!(false), json!(true)));

    let nothing = elsewhere.fails(&["import", &elsewhere.dir().display().to_string()]);
    assert!(nothing.contains("holds no fixture folder"), "{nothing}");
}

#[test]
fn a_data_dir_without_data_is_a_clear_error() {
    let data = Data::new();
    for args in [&["list"][..], &["show", "x"], &["rebuild-index"], &["prune", "--stale"]] {
        let error = data.fails(args);
        assert!(
            error.contains("holds no cacheow data: run your program once with CACHEOW_ENABLE=1"),
            "{args:?}: {error}"
        );
    }
    assert!(!data.dir().exists(), "nothing was created");
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("JSON")
}

#[test]
fn a_reader_that_goes_away_ends_the_output_not_the_work() {
    let data = sample();
    // `cacheow rebuild-index | head -0`: the pipe is closed before it writes.
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("cacheow"));
    command.args(["rebuild-index", "--data-dir"]).arg(data.dir());
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("cacheow runs");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("it ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{:?}: {stderr}", output.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(data.json(&["list"]).as_array().map(Vec::len), Some(2), "the rebuild was done");
}

#[test]
fn the_python_cacheows_data_dir_is_named_and_left_as_it_is() {
    let data = Data::new();
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/foreign/python-cacheow-0.1.1"), &data.dir());
    let before = tree(&data.dir());
    for args in [&["list"][..], &["show", "square"], &["rebuild-index"], &["mode", "square", "mock"]] {
        let error = data.fails(args);
        assert!(error.contains("the database of the Python cacheow"), "{args:?}: {error}");
        assert!(!error.contains("no such column"), "no SQL in it: {error}");
    }
    assert_eq!(tree(&data.dir()), before, "nothing was written, not even a lock file");
}

#[test]
fn a_newer_cacheows_database_is_named_and_left_as_it_is() {
    let data = sample();
    data.stdout(&["rebuild-index"]);
    let db = rusqlite::Connection::open(data.dir().join("cacheow.db")).expect("the database");
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'", []).expect("updated");
    drop(db);
    let before = tree(&data.dir());
    let error = data.fails(&["list"]);
    assert!(error.contains("a newer cacheow (schema version 99; this one reads up to 1)"), "{error}");
    assert_eq!(tree(&data.dir()), before);
}
