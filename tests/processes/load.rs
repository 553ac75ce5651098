//! cacheow under load, in real child processes: bursts far larger than the
//! writer's queue, retention under a burst, and the guard that turns a hang
//! into a failure.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{DataDir, Probed};

/// Runs `command` to its end, or kills it after `limit`: a hang fails the
/// test, with what the process printed, instead of hanging the suite.
fn within(mut command: Command, limit: Duration) -> Output {
    let child: Child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the probe starts");
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    let started = Instant::now();
    match finished.recv_timeout(limit) {
        Ok(output) => output.expect("the probe ran"),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            let output = finished.recv().ok().and_then(Result::ok);
            let printed = output.map(|o| String::from_utf8_lossy(&o.stderr).into_owned()).unwrap_or_default();
            panic!("the probe hung: still running after {:?}; it printed:\n{printed}", started.elapsed())
        }
    }
}

#[test]
fn a_retention_cap_holds_under_a_burst_without_hanging() {
    let data = DataDir::new();
    let command = data.probe(&["cap", "square", "100", "square-range", "0", "50000", "flush", "outcomes", "square"]);
    let probed = Probed::from(within(command, Duration::from_secs(120)));
    let kept: usize = probed.value("outcomes square").parse().expect("a count");
    assert!(kept <= 100, "the cap holds in memory: {kept}");
    assert!(data.outcome_files(&data.id("square")).len() <= 100, "and on disk");
}

#[test]
fn a_forked_child_runs_its_functions_plainly_and_never_hangs() {
    let data = DataDir::new();
    let command = data.probe(&["square", "2", "fork", "300", "square", "3", "flush", "outcomes", "square", "ran"]);
    let probed = Probed::from(within(command, Duration::from_secs(60)));
    let sum: u64 = (1_000_000..1_000_300u64).map(|n| n * n).sum();
    // The child ran its 300 calls as written: nothing recorded, no mode set.
    let child = probed.value("child");
    assert_eq!(child, format!("sum {sum}, set_mode Ok(()), enabled false, ran 301"), "{}", probed.stderr);
    assert_eq!(probed.value("child exited"), "0");
    let told: Vec<&str> = probed.stderr.lines().filter(|line| line.contains("it was forked")).collect();
    assert_eq!(told.len(), 1, "one warning: {}", probed.stderr);
    // The parent goes on recording, into a data dir the child left alone.
    assert_eq!(probed.value("outcomes square"), "2", "square(2) and square(3)");
    assert_eq!(probed.value("ran"), "2");
    assert_eq!(data.outcome_files(&data.id("square")).len(), 2);
}

#[test]
fn eight_processes_recording_5000_new_outcomes_each_into_one_data_dir_keep_all_40000() {
    let data = DataDir::new();
    let children: Vec<Child> = (0..8u64)
        .map(|i| {
            let (from, to) = ((i * 5000).to_string(), ((i + 1) * 5000).to_string());
            data.probe(&["square-range", &from, &to])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawns")
        })
        .collect();
    for child in children {
        let probed = Probed::from(child.wait_with_output().expect("the probe ends"));
        assert!(probed.warnings().is_empty(), "no lock error, nothing lost: {}", probed.stderr);
    }
    let id = data.id("square");
    assert_eq!(data.outcome_files(&id).len(), 40_000);
    assert_eq!(data.count("SELECT COUNT(*) FROM outcomes WHERE function_id = ?1", &id), 40_000);
    assert_eq!(data.count("SELECT total_calls FROM stats WHERE function_id = ?1", &id), 40_000);
}

/// Runs the probe with `args` over a copy of `data` on a small disk of its
/// own (a 2 MiB tmpfs, mounted in a user namespace of its own), then copies
/// what it left back into `data`. `None` where the machine allows no such
/// namespace.
fn on_a_small_disk(data: &DataDir, args: &[&str]) -> Option<Probed> {
    let can = Command::new("unshare").args(["-rm", "true"]).output().is_ok_and(|output| output.status.success());
    if !can {
        return None;
    }
    let disk = data.path().with_file_name("disk");
    std::fs::create_dir_all(&disk).expect("a mount point");
    let script = r#"set -e
mount -t tmpfs -o size=2m tmpfs "$DISK"
cp -a "$DATA" "$DISK/data"
status=0
"$@" || status=$?
rm -rf "$DATA"
cp -a "$DISK/data" "$DATA"
exit $status"#;
    let probe = data.probe(args);
    let mut command = Command::new("unshare");
    command.args(["-rm", "sh", "-c", script, "sh", env!("CARGO_BIN_EXE_cacheow-probe")]).args(args);
    for (key, value) in probe.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    command.current_dir(probe.get_current_dir().expect("a dir")).env("DISK", &disk).env("DATA", data.path());
    command.env("CACHEOW_DATA_DIR", disk.join("data"));
    Some(Probed::from(within(command, Duration::from_secs(120))))
}

#[test]
fn a_full_disk_during_recording_changes_no_result_warns_once_and_corrupts_nothing() {
    let data = DataDir::new();
    data.run(&["square-range", "0", "100", "flush"]);
    // The disk fills up some hundreds of outcomes in. Where no disk can be
    // made, no file may grow past 64 bytes instead: the database cannot open.
    let recording = ["square-range", "0", "3000", "flush", "ran"];
    let full = on_a_small_disk(&data, &recording)
        .unwrap_or_else(|| data.run(&[&["file-size-limit", "64"][..], &recording].concat()));
    let sum: u64 = (0..3000u64).map(|n| n * n).sum();
    assert_eq!(full.value("square-range(0, 3000)"), sum.to_string(), "{}", full.stderr);
    assert_eq!(full.value("ran"), "3000", "{}", full.stderr);
    assert_eq!(full.warnings().len(), 1, "one warning: {}", full.stderr);
    assert!(full.stderr.contains("full") || full.stderr.contains("unavailable"), "{}", full.stderr);

    // With room again, the data dir is whole: the database checks out, every
    // file parses, and what was kept replays.
    let check: String = data.db().query_row("PRAGMA integrity_check", [], |row| row.get(0)).expect("the check runs");
    assert_eq!(check, "ok");
    let id = data.id("square");
    for file in data.outcome_files(&id) {
        let text = std::fs::read_to_string(&file).expect("readable");
        serde_json::from_str::<serde_json::Value>(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
    let kept = data.outcome_files(&id).len();
    assert!((100..3000).contains(&kept), "the outcomes of before are kept, and not all of the rest: {kept}");
    let replayed = data.run(&["mode", "square", "cache", "square-range", "0", "3000", "ran"]);
    assert_eq!(replayed.value("square-range(0, 3000)"), sum.to_string());
    assert_eq!(replayed.value("ran"), (3000 - kept).to_string(), "what was kept replays");
    assert!(replayed.warnings().is_empty(), "{}", replayed.stderr);
}
