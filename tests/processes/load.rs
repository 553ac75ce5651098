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
