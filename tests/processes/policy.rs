//! The cache policy across processes: a refresh that outlives its caller,
//! a custom key read back by another process, and in-flight dedupe between
//! processes, with a waiter taking over from a process that was killed.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::{DataDir, Probed};

#[test]
fn a_normal_exit_waits_for_the_refresh_of_an_outcome_served_stale() {
    let data = DataDir::new();
    let first = data.run(&["mode", "stale", "cache", "stale", "1"]);
    assert!(first.value("stale(1)").ends_with("Some(Miss)"), "{}", first.stdout);
    std::thread::sleep(Duration::from_millis(1600));
    let started = Instant::now();
    let stale = data.run(&["mode", "stale", "cache", "stale", "1"]);
    assert_eq!(stale.value("stale(1)").replace("StaleHit", "Miss"), first.value("stale(1)"), "the old outcome");
    assert!(stale.value("stale(1)").ends_with("Some(StaleHit)"));
    assert!(started.elapsed() >= Duration::from_millis(300), "it exited before the refresh ended");
    let id = data.id("stale");
    assert_eq!(data.outcome_files(&id).len(), 2, "the refresh's outcome was written before the exit");
    let fresh = data.run(&["mode", "stale", "cache", "stale", "1"]);
    assert!(fresh.value("stale(1)").ends_with("Some(Hit)"), "{}", fresh.stdout);
    assert_ne!(fresh.value("stale(1)"), stale.value("stale(1)").replace("StaleHit", "Hit"));
}

#[test]
fn a_custom_key_makes_different_arguments_one_entry_across_a_restart() {
    let data = DataDir::new();
    let recorded = data.run(&["greet", "Ann", "ran"]);
    assert_eq!((recorded.value("greet(Ann)").as_str(), recorded.value("ran").as_str()), ("hello Ann", "1"));
    let replayed = data.run(&["mode", "greet", "cache", "greet", "ANN", "greet", "bob", "ran"]);
    assert_eq!(replayed.value("greet(ANN)"), "hello Ann", "one entry with Ann's, in another process");
    assert_eq!(replayed.value("greet(bob)"), "hello bob");
    assert_eq!(replayed.value("ran"), "1", "only bob ran");
    let id = data.id("greet");
    let file = std::fs::read_to_string(&data.outcome_files(&id)[0]).expect("the file");
    assert!(file.contains("\"key\": \"ann\"") || file.contains("\"key\": \"bob\""), "{file}");
}

#[test]
fn two_processes_share_one_call_in_flight() {
    let data = DataDir::new();
    data.run(&["mode", "shared", "cache"]);
    let spawn = || data.probe(&["shared", "800", "ran"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    let (first, second) = (spawn().expect("spawns"), spawn().expect("spawns"));
    let outputs = [first, second].map(|child| Probed::from(child.wait_with_output().expect("the probe ends")));
    let ran: u64 = outputs.iter().map(|probed| probed.value("ran").parse::<u64>().unwrap_or(9)).sum();
    assert_eq!(ran, 1, "the function ran once across both:\n{}\n{}", outputs[0].stdout, outputs[1].stdout);
    let values: Vec<String> = outputs.iter().map(|probed| probed.value("shared(800)")).collect();
    assert_eq!(values[0].split(' ').take(3).collect::<Vec<_>>(), values[1].split(' ').take(3).collect::<Vec<_>>());
    let mut statuses: Vec<&str> = values.iter().filter_map(|value| value.rsplit(' ').next()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, ["Some(Miss)", "Some(Waited)"], "{values:?}");
}

#[test]
fn a_waiter_takes_over_from_a_process_killed_while_it_ran() {
    let data = DataDir::new();
    data.run(&["mode", "shared", "cache"]);
    let mut stuck = data.probe(&["shared", "30000"]).stdout(Stdio::piped()).spawn().expect("spawns");
    let mut lines = BufReader::new(stuck.stdout.take().expect("its stdout")).lines();
    assert_eq!(lines.next().and_then(Result::ok).as_deref(), Some("running shared(30000)"));
    let mut waiter = data.probe(&["shared", "30000"]).stdout(Stdio::piped()).spawn().expect("spawns");
    let waiter_out = waiter.stdout.take().expect("its stdout");
    let (said, heard) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let line = BufReader::new(waiter_out).lines().next().and_then(Result::ok);
        let _ = said.send((line, Instant::now()));
    });
    std::thread::sleep(Duration::from_millis(500));
    stuck.kill().expect("killed");
    let killed = Instant::now();
    let _ = stuck.wait();
    let (line, at) = heard.recv_timeout(Duration::from_secs(15)).expect("the waiter went on");
    assert_eq!(line.as_deref(), Some("running shared(30000)"), "it ran the function itself");
    assert!(at >= killed, "it ran while the other process still did: it did not wait");
    assert!(at - killed < Duration::from_secs(5), "{:?} after the kill: it did not wait out `wait`", at - killed);
    let _ = waiter.kill();
    let _ = waiter.wait();
}
