//! cacheow on: cache hits, mocks and recorded calls, against a plain call
//! and the `cached` crate, in memory and on disk; whether they grow with
//! the outcomes stored; and how soon a mode set elsewhere arrives.
//! `cargo bench -p cacheow-bench --bench enabled`
#![allow(unsafe_code)]

use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cached::macros::{cached, concurrent_cached};
use cacheow::{Function, Mode, cacheow, handle};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-data")
}

#[ctor::ctor(unsafe)]
fn enable_cacheow() {
    // SAFETY: before `main`, on the only thread.
    unsafe {
        cacheow_bench::enable_cacheow(&data_dir(), false);
        // Every payload of the 100,000 stored fits in memory: what is
        // measured is the lookup, not a file read (about 10 µs here; 4 MiB,
        // the default, holds some 16,000 of these).
        std::env::set_var("CACHEOW_PAYLOAD_CACHE_MB", "64");
    }
}

#[derive(Debug, Clone, PartialEq)]
struct DiskError(String);

#[cacheow]
fn square_cacheow(n: u64) -> u64 {
    cacheow_bench::square(n)
}

/// The same with a ttl: its hits check the outcome's age.
#[cacheow(ttl = "1h")]
fn square_ttl(n: u64) -> u64 {
    cacheow_bench::square(n)
}

#[cached]
fn square_cached(n: u64) -> u64 {
    cacheow_bench::square(n)
}

#[concurrent_cached(disk = true, map_error = |e| DiskError(format!("{e:?}")))]
fn square_cached_disk(n: u64) -> Result<u64, DiskError> {
    Ok(cacheow_bench::square(n))
}

#[cacheow]
fn text_cacheow(n: u64) -> String {
    cacheow_bench::text(n)
}

#[cached]
fn text_cached(n: u64) -> String {
    cacheow_bench::text(n)
}

#[concurrent_cached(disk = true, map_error = |e| DiskError(format!("{e:?}")))]
fn text_cached_disk(n: u64) -> Result<String, DiskError> {
    Ok(cacheow_bench::text(n))
}

fn set_mode(f: &Function, mode: Mode) {
    f.set_mode(mode).expect("cacheow is on");
}

fn replays(c: &mut Criterion) {
    let (square_f, text_f, ttl_f) = (handle!(square_cacheow), handle!(text_cacheow), handle!(square_ttl));
    // Recorded once, and warm in every cache.
    let _ = (square_cacheow(7), square_ttl(7), square_cached(7), square_cached_disk(7));
    let _ = (text_cacheow(7), text_cached(7), text_cached_disk(7));
    cacheow::manager().expect("on").flush();

    set_mode(square_f, Mode::Cache);
    set_mode(text_f, Mode::Cache);
    set_mode(ttl_f, Mode::Cache);
    let mut group = c.benchmark_group("cache hit/u64");
    group.bench_function("plain call", |b| b.iter(|| cacheow_bench::square(black_box(7))));
    group.bench_function("cacheow", |b| b.iter(|| square_cacheow(black_box(7))));
    group.bench_function("cacheow, ttl", |b| b.iter(|| square_ttl(black_box(7))));
    group.bench_function("cached (memory)", |b| b.iter(|| square_cached(black_box(7))));
    group.bench_function("cached (disk)", |b| b.iter(|| square_cached_disk(black_box(7))));
    group.finish();
    let mut group = c.benchmark_group("cache hit/1KB string");
    group.bench_function("plain call", |b| b.iter(|| cacheow_bench::text(black_box(7))));
    group.bench_function("cacheow", |b| b.iter(|| text_cacheow(black_box(7))));
    group.bench_function("cached (memory)", |b| b.iter(|| text_cached(black_box(7))));
    group.bench_function("cached (disk)", |b| b.iter(|| text_cached_disk(black_box(7))));
    group.finish();

    set_mode(square_f, Mode::Mock);
    set_mode(text_f, Mode::Mock);
    let mut group = c.benchmark_group("mock");
    group.bench_function("u64", |b| b.iter(|| square_cacheow(black_box(1234))));
    group.bench_function("1KB string", |b| b.iter(|| text_cacheow(black_box(1234))));
    group.finish();
    set_mode(square_f, Mode::Default);
    set_mode(text_f, Mode::Default);
}

#[cacheow]
fn recorded_square(n: u64) -> u64 {
    cacheow_bench::square(n)
}

#[cacheow]
fn recorded_text(n: u64) -> String {
    cacheow_bench::text(n)
}

/// The caller's cost of a call in default mode; the files and rows are
/// written by the background writer.
fn recording(c: &mut Criterion) {
    let mut group = c.benchmark_group("recorded call");
    group.bench_function("u64, same outcome again", |b| b.iter(|| recorded_square(black_box(7))));
    group.bench_function("1KB string, same outcome again", |b| b.iter(|| recorded_text(black_box(7))));
    // Every call a new outcome, in bursts the writer's queue holds: past
    // it, recording waits for the disk (some 17,000 files a second).
    group.sample_size(20).warm_up_time(Duration::from_millis(200)).measurement_time(Duration::from_secs(2));
    let next = AtomicU64::new(1_000_000);
    group.bench_function("u64, new outcome", |b| b.iter_custom(|iters| in_bursts(iters, &next, recorded_square)));
    group.bench_function("1KB string, new outcome", |b| b.iter_custom(|iters| in_bursts(iters, &next, recorded_text)));
    group.finish();
    cacheow::manager().expect("on").flush();
}

/// The time of `iters` calls with new arguments, in bursts of 200 with the
/// writer flushed in between (not timed).
fn in_bursts<T>(iters: u64, next: &AtomicU64, call: fn(u64) -> T) -> Duration {
    let manager = cacheow::manager().expect("on");
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let burst = left.min(200);
        let started = Instant::now();
        for _ in 0..burst {
            black_box(call(next.fetch_add(1, Ordering::Relaxed)));
        }
        total += started.elapsed();
        left -= burst;
        manager.flush();
    }
    total
}

#[cacheow]
fn store_100(n: u64) -> u64 {
    cacheow_bench::square(n)
}

#[cacheow]
fn store_100k(n: u64) -> u64 {
    cacheow_bench::square(n)
}

/// A function with its label and the number of outcomes to store.
type Store = (&'static str, &'static Function, fn(u64) -> u64, u64);

/// Cache hits and mocks cost the same with 100 or 100,000 outcomes stored.
fn store_size(c: &mut Criterion) {
    let sizes: [Store; 2] =
        [("100", handle!(store_100), store_100, 100), ("100000", handle!(store_100k), store_100k, 100_000)];
    for (_, _, call, count) in &sizes {
        (0..*count).for_each(|n| {
            call(n);
        });
    }
    cacheow::manager().expect("on").flush();
    let mut group = c.benchmark_group("outcomes stored");
    for (label, f, call, _) in &sizes {
        set_mode(f, Mode::Cache);
        group.bench_with_input(BenchmarkId::new("cache hit", label), call, |b, call| b.iter(|| call(black_box(7))));
        set_mode(f, Mode::Mock);
        group.bench_with_input(BenchmarkId::new("mock", label), call, |b, call| b.iter(|| call(black_box(7))));
    }
    group.finish();
}

#[cacheow]
fn watched(n: u64) -> u64 {
    n
}

/// From asking another process to set a mode to this process using it.
fn mode_propagation(c: &mut Criterion) {
    let f = handle!(watched);
    watched(1);
    let mut setter = Command::new(env!("CARGO_BIN_EXE_mode-setter"))
        .env("CACHEOW_ENABLE", "1")
        .env("CACHEOW_DATA_DIR", data_dir())
        .env("CACHEOW_START_SERVER", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the mode setter starts");
    let mut requests = setter.stdin.take().expect("its stdin");
    let mut answers = BufReader::new(setter.stdout.take().expect("its stdout")).lines();
    let mut group = c.benchmark_group("mode set by another process");
    group.sample_size(10).measurement_time(Duration::from_secs(8));
    group.bench_function("until it applies", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for i in 0..iters {
                let mode = if i % 2 == 0 { Mode::Mock } else { Mode::Cache };
                let started = Instant::now();
                writeln!(requests, "{} {mode}", f.id()).expect("the request");
                while f.mode() != mode {
                    std::hint::spin_loop();
                }
                total += started.elapsed();
                answers.next().expect("an answer").expect("set");
                // Apart by a random fraction of the refresh period, as changes
                // made by people are.
                std::thread::sleep(Duration::from_micros(u64::from(rand_micros())));
            }
            total
        })
    });
    group.finish();
    drop(requests);
    let _ = setter.wait();
}

/// When the body of the last `gated` call ended.
static GATED_ENDED: std::sync::Mutex<Option<Instant>> = std::sync::Mutex::new(None);

/// Says it started, holds on for 2 ms (long enough for another call to
/// start waiting for it), then notes when it ended.
#[cacheow]
fn gated(n: u64, #[cacheow(skip)] started: &std::sync::mpsc::Sender<()>) -> u64 {
    let _ = started.send(());
    let until = Instant::now() + Duration::from_millis(2);
    while Instant::now() < until {
        std::hint::spin_loop();
    }
    *GATED_ENDED.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Instant::now());
    n
}

/// What a call that waits for the same call in flight adds: from the end
/// of the running call's body to the waiter's return (its outcome recorded,
/// the waiter woken, its replay), against a plain hit.
fn in_flight(c: &mut Criterion) {
    set_mode(handle!(gated), Mode::Cache);
    let (keys, leader_keys) = std::sync::mpsc::channel::<u64>();
    let (started, leader_started) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        for key in leader_keys {
            gated(key, &started);
        }
    });
    let next = AtomicU64::new(1 << 40);
    // The first call of each thread sets up what later ones find ready.
    let (unused, _) = std::sync::mpsc::channel();
    keys.send(0).expect("the leader runs");
    leader_started.recv().expect("the leader started");
    gated(0, &unused);
    let mut group = c.benchmark_group("in-flight dedupe");
    group.sample_size(20).measurement_time(Duration::from_secs(4));
    group.bench_function("waiter, after the call it waits for", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                // A waiter that came late (the machine was busy) hit instead
                // of waiting: that round is tried again.
                loop {
                    let key = next.fetch_add(1, Ordering::Relaxed);
                    keys.send(key).expect("the leader runs");
                    leader_started.recv().expect("the leader started");
                    black_box(gated(black_box(key), &unused));
                    let returned = Instant::now();
                    let ended = GATED_ENDED.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
                    if cacheow::last_status() == Some(cacheow::CallStatus::Waited) {
                        total += returned.saturating_duration_since(ended.expect("the leader's body ended"));
                        break;
                    }
                }
            }
            total
        })
    });
    group.bench_function("plain hit", |b| b.iter(|| gated(black_box(0), &unused)));
    group.finish();
}

/// A pseudo-random 0..25,000 µs, without a dependency for it.
fn rand_micros() -> u32 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    nanos.wrapping_mul(2_654_435_761) % 25_000
}

criterion_group!(benches, replays, recording, store_size, in_flight, mode_propagation);
criterion_main!(benches);
