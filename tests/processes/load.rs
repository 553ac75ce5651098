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
