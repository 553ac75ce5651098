//! cacheow with a large store, each measurement in a fresh process (the
//! `scale-probe` binary), each against a baseline taken in the same run:
//!
//! - first use of a function with 100,000 outcomes, against one with none;
//! - sustained recording of 20,000 new outcomes of some 250 bytes, the
//!   flush included, against the disk's own rate for the same files written
//!   and synced the same way; and the caller's cost per call meanwhile;
//! - the memory 100,000 outcomes cost, at first use and after replaying
//!   each twice (printed: criterion measures time).
//!
//! `cargo bench -p cacheow-bench --bench scale`. The first run records the
//! 100,000 outcomes, which takes a while on a slow disk.
#![allow(clippy::print_stdout)] // the memory figures

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

const STORED: u64 = 100_000;
const BURST: u64 = 20_000;

fn tmp(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// Runs the probe over `data_dir`; what it printed, by name.
fn probe(data_dir: &Path, args: &[String]) -> HashMap<String, u64> {
    let output = Command::new(env!("CARGO_BIN_EXE_scale-probe"))
        .args(args)
        .env("CACHEOW_ENABLE", "1")
        .env("CACHEOW_DATA_DIR", data_dir)
        .env("CACHEOW_START_SERVER", "0")
        .env("RAW_FILES_DIR", data_dir)
        .output()
        .expect("the probe runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let (name, value) = line.split_once(' ')?;
            Some((name.to_owned(), value.parse::<f64>().ok()? as u64))
        })
        .collect()
}

fn run(data_dir: &Path, args: &[&str]) -> HashMap<String, u64> {
    probe(data_dir, &args.iter().map(|arg| (*arg).to_owned()).collect::<Vec<_>>())
}

/// A data dir whose `work` has 100,000 outcomes, recorded once.
fn stored() -> PathBuf {
    let dir = tmp("scale-100k");
    let marker = dir.join("recorded");
    if !marker.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        run(&dir, &["record", "0", &STORED.to_string()]);
        std::fs::write(&marker, "").expect("the marker");
    }
    dir
}

fn first_use(c: &mut Criterion) {
    let (full, empty) = (stored(), tmp("scale-empty"));
    let mut group = c.benchmark_group("first use");
    group.sample_size(20).sampling_mode(SamplingMode::Flat);
    for (label, dir) in [("100000 outcomes", &full), ("no outcomes", &empty)] {
        group.bench_function(label, |b| {
            b.iter_custom(|iters| {
                (0..iters).map(|_| Duration::from_nanos(run(dir, &["first-use"])["first_use_ns"])).sum()
            })
        });
    }
    group.finish();

    let memory = run(&full, &["memory", &STORED.to_string()]);
    let mb = |bytes: u64| bytes as f64 / 1e6;
    println!(
        "memory of 100000 outcomes: +{:.1} MB at first use, +{:.1} MB after replaying each twice",
        mb(memory["first_use_bytes"]),
        mb(memory["after_replays_bytes"])
    );
}

/// One fresh data dir per burst, so that every outcome is new.
fn fresh(name: &str) -> PathBuf {
    let dir = tmp(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn sustained(c: &mut Criterion) {
    let burst = BURST.to_string();
    let mut group = c.benchmark_group("sustained recording, 20000 new outcomes");
    group.sample_size(10).sampling_mode(SamplingMode::Flat).throughput(Throughput::Elements(BURST));
    group.bench_function("cacheow, flush included", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| Duration::from_nanos(run(&fresh("scale-burst"), &["record", "0", &burst])["total_ns"]))
                .sum()
        })
    });
    group.bench_function("raw files, written and synced alike", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let rate = run(&fresh("scale-raw"), &["raw-files", &burst])["outcomes_per_second"].max(1);
                    Duration::from_secs_f64(BURST as f64 / rate as f64)
                })
                .sum()
        })
    });
    group.finish();

    let mut group = c.benchmark_group("caller's cost over 20000 new outcomes in a row");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.bench_function("per call", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let caller = run(&fresh("scale-burst"), &["record", "0", &burst])["caller_ns_per_call"];
                    Duration::from_nanos(caller)
                })
                .sum()
        })
    });
    group.finish();
}

criterion_group!(benches, first_use, sustained);
criterion_main!(benches);
