//! Drift, end to end: a crate of its own in a temporary dir, built, tested
//! (recording its fixtures), edited and built again. A comment or a
//! reformatting keeps its fixtures fresh; an edit of a body makes them
//! stale, and those of what `depends` on it; `cacheow fixtures --stale`
//! says so, and `CACHEOW_RECORD=stale` records them again.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::text;

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

const LIB: &str = r#"use cacheow::cacheow;

#[cacheow]
pub fn rate(n: u64) -> u64 {
    n + 1
}

#[cacheow(depends(rate))]
pub fn price(n: u64) -> u64 {
    rate(n) * 2
}

#[cfg(test)]
mod tests {
    use cacheow_test::cacheow_test;

    #[cacheow_test]
    fn prices() {
        assert!(super::price(3) > 0);
    }

    #[cacheow_test]
    fn rates() {
        assert!(super::rate(3) > 0);
    }
}
"#;

/// The crate, with the workspace's lock file so that it builds the same
/// versions, in a target dir kept between runs. Without debug info, which
/// would double the disk that target dir takes.
struct Crate {
    dir: tempfile::TempDir,
}

impl Crate {
    fn new() -> Crate {
        let dir = tempfile::tempdir().expect("a temporary dir");
        let workspace = Path::new(WORKSPACE).canonicalize().expect("the workspace");
        let manifest = format!(
            "[package]\nname = \"drift-probe\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [workspace]\n\n[dependencies]\ncacheow = {{ path = {cacheow:?} }}\n\n\
             [dev-dependencies]\ncacheow-test = {{ path = {test:?} }}\n\n\
             [profile.dev]\ndebug = false\n",
            cacheow = workspace.join("cacheow"),
            test = workspace.join("cacheow-test"),
        );
        std::fs::write(dir.path().join("Cargo.toml"), manifest).expect("the manifest");
        std::fs::copy(workspace.join("Cargo.lock"), dir.path().join("Cargo.lock")).expect("the lock file");
        std::fs::create_dir_all(dir.path().join("src")).expect("src");
        let probe = Crate { dir };
        probe.write_lib(LIB);
        probe
    }

    fn write_lib(&self, text: &str) {
        std::fs::write(self.dir.path().join("src/lib.rs"), text).expect("lib.rs");
    }

    fn edit(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(self.dir.path().join("src/lib.rs")).expect("lib.rs");
        assert!(text.contains(from), "{from:?} is not in lib.rs");
        self.write_lib(&text.replace(from, to));
    }

    fn fixtures(&self) -> PathBuf {
        self.dir.path().join("fixtures")
    }

    /// `command` in the crate's dir, with the shared target dir, out of CI
    /// and of any cacheow setting of the shell.
    fn run(&self, mut command: Command) -> Output {
        command.current_dir(self.dir.path()).env("CARGO_TARGET_DIR", target_dir()).env_remove("CI");
        for (variable, _) in std::env::vars().filter(|(variable, _)| variable.starts_with("CACHEOW_")) {
            command.env_remove(variable);
        }
        command.output().expect("the command runs")
    }

    /// `cargo test` in the record mode `record`.
    fn test(&self, record: &str) -> Output {
        let mut command = Command::new(env!("CARGO"));
        command.args(["test", "--quiet"]).env("CACHEOW_RECORD", record);
        self.run(command)
    }

    /// `cacheow fixtures --stale --check -- cargo test`.
    fn stale(&self) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cacheow"));
        command.args(["fixtures", "--stale", "--check", "--dir"]).arg(self.fixtures()).args(["--", env!("CARGO")]);
        command.arg("test");
        self.run(command)
    }
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("drift-probe-target")
}

/// The value the fixture of `rate(3)` of the test `rates` holds.
fn recorded_rate(fixtures: &Path) -> String {
    let test_dir = fixtures.join("drift_probe/tests/rates");
    let function_dir = std::fs::read_dir(&test_dir).expect("the fixtures of rates").flatten().next().expect("one");
    let file = std::fs::read_dir(function_dir.path())
        .expect("its folder")
        .flatten()
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == "json"))
        .expect("an outcome");
    let outcome: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).expect("a file")).expect("JSON");
    outcome["value"].to_string()
}

#[test]
fn a_body_edit_makes_fixtures_stale_and_a_comment_or_reformatting_does_not() {
    let probe = Crate::new();
    let recorded = probe.test("once");
    assert!(recorded.status.success(), "{}", text(&recorded));
    assert_eq!(recorded_rate(&probe.fixtures()), "4");

    probe.edit("    n + 1\n", "    // one more, as agreed\n    n\n        +   1\n");
    let fresh = probe.stale();
    assert!(fresh.status.success(), "{}", text(&fresh));
    assert!(
        String::from_utf8_lossy(&fresh.stdout)
            .contains("no fixture of the tests that ran was recorded by another body")
    );

    probe.edit("+   1", "+ 2");
    let stale = probe.stale();
    let stdout = String::from_utf8_lossy(&stale.stdout);
    assert_eq!(stale.status.code(), Some(1), "{}", text(&stale));
    assert!(stdout.contains("3 fixtures were recorded by another body"), "{stdout}");
    for (test, function) in
        [("rates", "drift_probe::rate"), ("prices", "drift_probe::rate"), ("prices", "drift_probe::price")]
    {
        let listed = stdout.lines().any(|line| line.contains(&format!("drift_probe/tests/{test}  {function}  ")));
        assert!(listed, "{test} {function}: {stdout}");
    }
    assert!(stdout.contains("(not committed)"), "{stdout}");
    assert!(stdout.contains("CACHEOW_RECORD=stale cargo test"), "{stdout}");

    let rerecorded = probe.test("stale");
    assert!(rerecorded.status.success(), "{}", text(&rerecorded));
    assert_eq!(recorded_rate(&probe.fixtures()), "5", "recorded by the body of now");
    let fresh = probe.stale();
    assert!(fresh.status.success(), "{}", text(&fresh));
}
