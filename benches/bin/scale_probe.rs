//! A fresh process for the scale benchmark, over the data dir of
//! `CACHEOW_DATA_DIR`; it prints what it measured as `name value` lines.
//!
//! - `record <from> <count>`: records `count` new outcomes of `work`, then
//!   flushes; the caller's cost per call, and the rate with the flush.
//! - `first-use`: the first cache-mode call of `work`, which has outcomes.
//! - `memory <count>`: the resident memory `work` adds to a process whose
//!   runtime is started, after its first use and after replaying every
//!   one of its `count` outcomes.
//! - `hits <count> [ttl]`: `count` cache hits of one `u64` outcome (of a
//!   function with a ttl, with `ttl`), for a profiler (`perf record`); the
//!   cost of each.
//! - `raw-files <count>`: the disk's own rate for what the writer does:
//!   files of the same size, written and synced the same way, no cacheow.
#![allow(clippy::print_stdout)] // its output is the measurement

use std::hint::black_box;
use std::time::{Duration, Instant};

use cacheow::{Mode, cacheow, handle};

/// About 250 bytes, as an LLM's short answer.
#[cacheow]
fn work(n: u64) -> String {
    format!("{n:>20}: {}", "the answer, which is long enough to be a typical short reply ".repeat(4))
}

/// Starts the runtime without touching `work`.
#[cacheow]
fn other(n: u64) -> u64 {
    n + 1
}

/// `other` with a ttl, for a profile of its hits.
#[cacheow(ttl = "1h")]
fn other_ttl(n: u64) -> u64 {
    n + 1
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize| args.get(i).and_then(|arg| arg.parse::<u64>().ok()).expect("a number");
    let manager = cacheow::manager().expect("run with CACHEOW_ENABLE=1");
    match args.first().map(String::as_str) {
        Some("record") => record(number(1), number(2), manager),
        Some("first-use") => first_use(),
        Some("memory") => memory(number(1)),
        Some("raw-files") => raw_files(number(1)),
        Some("hits") => hits(number(1), args.get(2).is_some_and(|arg| arg == "ttl")),
        _ => panic!("record <from> <count> | first-use | memory <count> | raw-files <count> | hits <count> [ttl]"),
    }
}

fn record(from: u64, count: u64, manager: &cacheow::Manager) {
    handle!(work).set_mode(Mode::Default).expect("on");
    let started = Instant::now();
    for n in from..from + count {
        black_box(work(n));
    }
    let calls = started.elapsed();
    manager.try_flush().expect("every outcome is written");
    let total = started.elapsed();
    println!("caller_ns_per_call {}", calls.as_nanos() / u128::from(count));
    println!("outcomes_per_second {:.0}", count as f64 / total.as_secs_f64());
    println!("total_ns {}", total.as_nanos());
}

fn first_use() {
    other(1);
    let f = handle!(work);
    let started = Instant::now();
    f.set_mode(Mode::Cache).expect("on");
    black_box(work(0));
    println!("first_use_ns {}", started.elapsed().as_nanos());
}

fn memory(count: u64) {
    other(1);
    let before = resident_bytes();
    handle!(work).set_mode(Mode::Cache).expect("on");
    black_box(work(0));
    let first_use = resident_bytes();
    for _ in 0..2 {
        for n in 0..count {
            black_box(work(n));
        }
    }
    let replayed = resident_bytes();
    println!("first_use_bytes {}", first_use.saturating_sub(before));
    println!("after_replays_bytes {}", replayed.saturating_sub(before));
}

/// This process's resident set, from `/proc/self/statm`.
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|pages| pages.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn raw_files(count: u64) {
    let dir = std::env::temp_dir().join(format!("cacheow-raw-files-{}", std::process::id()));
    let dir = std::env::var_os("RAW_FILES_DIR").map_or(dir, |base| std::path::PathBuf::from(base).join("raw-files"));
    std::fs::create_dir_all(&dir).expect("a directory");
    let body = vec![b'x'; 600];
    let started = Instant::now();
    let paths: Vec<_> = (0..count)
        .map(|n| {
            let path = dir.join(format!("{n:016x}.json"));
            let temp = dir.join(format!("{n:016x}.json.tmp"));
            std::fs::write(&temp, &body).expect("written");
            std::fs::rename(&temp, &path).expect("renamed");
            path
        })
        .collect();
    let chunk = paths.len().div_ceil(8).max(1);
    std::thread::scope(|scope| {
        for chunk in paths.chunks(chunk) {
            scope.spawn(move || {
                for path in chunk {
                    std::fs::File::open(path).and_then(|file| file.sync_data()).expect("synced");
                }
            });
        }
    });
    std::fs::File::open(&dir).and_then(|dir| dir.sync_all()).expect("synced");
    let total = started.elapsed();
    println!("outcomes_per_second {:.0}", count as f64 / total.as_secs_f64());
    let _ = std::fs::remove_dir_all(&dir);
    let _: Duration = total;
}

fn hits(count: u64, ttl: bool) {
    let (call, f): (fn(u64) -> u64, _) = if ttl { (other_ttl, handle!(other_ttl)) } else { (other, handle!(other)) };
    call(7);
    f.set_mode(Mode::Cache).expect("on");
    let started = Instant::now();
    for _ in 0..count {
        black_box(call(black_box(7)));
    }
    println!("hit_ns {:.1}", started.elapsed().as_nanos() as f64 / count as f64);
}
