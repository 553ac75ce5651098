//! The shared tier on a local redis-server this bench starts, each figure
//! against a baseline of the same run:
//!
//! - a local cache hit with the shared tier on, against the same hit with
//!   none (the hit path has no code of the `redis` feature: it never asks
//!   Redis, and this shows it);
//! - a shared hit (a local miss that Redis answers: the round trip, the
//!   outcome read and kept in the data dir, and its replay), against a
//!   plain `GET` of the same bytes with the redis crate;
//! - pushing, sustained: 50,000 new outcomes recorded in a row, until the
//!   last is in Redis, against pipelined `SET`s of the same bytes.
//!
//! `cargo bench -p cacheow-bench --bench shared` (needs `redis-server`).

#[path = "../../tests/support/redis_server.rs"]
mod redis_server;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cacheow::{Manager, Mode, Settings, cacheow, handle};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use redis::Commands;
use redis_server::RedisServer;

/// Outcomes in Redis for the shared hits: more than a sample takes.
const SHARED: u64 = 60_000;
/// New outcomes of one sustained push.
const PUSHED: u64 = 50_000;

#[cacheow]
fn square_local(n: u64) -> u64 {
    cacheow_bench::square(n)
}

#[cacheow]
fn square_shared(n: u64) -> u64 {
    cacheow_bench::square(n)
}

#[cacheow]
fn square_pushed(n: u64) -> u64 {
    cacheow_bench::square(n)
}

/// Where the data dirs go: tmpfs when there is one, so that the disk is
/// not measured.
fn data_root() -> PathBuf {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() { shm } else { PathBuf::from(env!("CARGO_TARGET_TMPDIR")) }
}

const DATA_DIR_PREFIX: &str = "cacheow-bench-shared-";

/// A fresh data dir.
fn data_dir(name: &str) -> PathBuf {
    let dir = data_root().join(format!("{DATA_DIR_PREFIX}{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Deletes this run's data dirs: hundreds of thousands of outcome files,
/// in memory when on tmpfs.
fn remove_data_dirs() {
    let pid = format!("-{}", std::process::id());
    let Ok(entries) = std::fs::read_dir(data_root()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(DATA_DIR_PREFIX) && name.ends_with(&pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn manager(name: &str, redis: Option<&RedisServer>) -> Manager {
    let mut settings = Settings::default();
    settings.data_dir = data_dir(name);
    settings.start_server = false;
    settings.redis_url = redis.map(RedisServer::url);
    settings.payload_cache_mb = 64;
    Manager::open(settings)
}

fn local_hits(c: &mut Criterion, redis: &RedisServer) {
    let mut group = c.benchmark_group("local hit");
    for (name, tier) in [("no shared tier", None), ("shared tier on", Some(redis))] {
        let manager = manager(&format!("hit-{}", tier.is_some()), tier);
        let _bound = manager.bind();
        handle!(square_local).set_mode(Mode::Cache).expect("set_mode");
        square_local(7);
        group.bench_function(name, |b| b.iter(|| square_local(black_box(7))));
    }
    group.finish();
}

fn shared_hits(c: &mut Criterion, redis: &RedisServer) {
    let recorder = manager("recorder", Some(redis));
    {
        let _bound = recorder.bind();
        (0..SHARED).for_each(|n| {
            black_box(square_shared(n));
        });
    }
    recorder.flush();
    let mut connection = redis.connection();
    let function_id = handle!(square_shared).id();
    let ids: Vec<String> = connection.srandmember_multiple(format!("cacheow:{{{function_id}}}:ids"), 1).expect("ids");
    let key = format!("cacheow:{{{function_id}}}:o:{}", ids[0]);

    // One call at a time, the machine idle between them: the latency of
    // one shared hit. Back to back, the data dir's writer, which keeps
    // each outcome pulled in a file and a row, takes a core of its own.
    let mut group = c.benchmark_group("shared hit");
    group.sample_size(10).warm_up_time(Duration::from_millis(200)).measurement_time(Duration::from_millis(400));
    group.bench_function("plain GET of the same bytes, one at a time", |b| {
        b.iter_custom(|iters| {
            one_at_a_time(iters, |_| drop(black_box(connection.get::<_, Vec<u8>>(&key).expect("GET"))))
        });
    });
    group.bench_function("local miss, Redis hit, one at a time", |b| {
        b.iter_custom(|iters| on_a_new_machine(redis, iters, |calls| one_at_a_time(calls, shared_hit)));
    });
    group.finish();

    let mut group = c.benchmark_group("shared hit, back to back");
    group.sample_size(20).warm_up_time(Duration::from_millis(200)).measurement_time(Duration::from_secs(2));
    group.bench_function("plain GET of the same bytes", |b| {
        b.iter(|| black_box(connection.get::<_, Vec<u8>>(&key).expect("GET")));
    });
    group.bench_function("local miss, Redis hit", |b| {
        b.iter_custom(|iters| {
            on_a_new_machine(redis, iters, |calls| {
                let started = Instant::now();
                (0..calls).for_each(shared_hit);
                started.elapsed()
            })
        });
    });
    group.finish();
}

fn shared_hit(n: u64) {
    black_box(square_shared(black_box(n)));
}

/// `measure`d on a data dir of its own, in cache mode: each of the `calls`
/// is a local miss that Redis answers.
fn on_a_new_machine(redis: &RedisServer, calls: u64, measure: impl FnOnce(u64) -> Duration) -> Duration {
    let machine = manager("machine", Some(redis));
    let _bound = machine.bind();
    handle!(square_shared).set_mode(Mode::Cache).expect("set_mode");
    // The function's first use in the data dir (its state loaded, its
    // connection to Redis made) is not what is measured.
    shared_hit(SHARED - 1);
    assert!(calls < SHARED, "{calls} calls: more than the {SHARED} outcomes in Redis");
    let elapsed = measure(calls);
    assert_eq!(cacheow::last_status(), Some(cacheow::CallStatus::SharedHit));
    elapsed
}

/// The time `op` takes, called `iters` times with a pause between calls
/// that lets the machine settle (the pauses are not counted).
fn one_at_a_time(iters: u64, mut op: impl FnMut(u64)) -> Duration {
    let mut total = Duration::ZERO;
    for n in 0..iters {
        std::thread::sleep(Duration::from_micros(500));
        let started = Instant::now();
        op(n);
        total += started.elapsed();
    }
    total
}

fn pushes(c: &mut Criterion, redis: &RedisServer) {
    let mut connection = redis.connection();
    let function_id = handle!(square_pushed).id();
    let ids = format!("cacheow:{{{function_id}}}:ids");
    let mut group = c.benchmark_group("push, sustained");
    group.sampling_mode(SamplingMode::Flat).sample_size(10).throughput(Throughput::Elements(PUSHED));
    group.measurement_time(Duration::from_secs(20));
    let bytes = vec![b'x'; 300];
    group.bench_function("pipelined SET of the same bytes", |b| {
        b.iter(|| {
            for chunk in (0..PUSHED).collect::<Vec<_>>().chunks(2_000) {
                let mut pipe = redis::pipe();
                for n in chunk {
                    pipe.cmd("SET").arg(format!("baseline:{n}")).arg(&bytes).ignore();
                }
                pipe.query::<()>(&mut connection).expect("the pipeline");
            }
        });
    });
    group.bench_function("recorded, until in Redis", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let _: () = redis::cmd("FLUSHDB").query(&mut connection).expect("FLUSHDB");
                let machine = manager("pusher", Some(redis));
                let _bound = machine.bind();
                let started = Instant::now();
                (0..PUSHED).for_each(|n| {
                    black_box(square_pushed(n));
                });
                while connection.scard::<_, u64>(&ids).expect("SCARD") < PUSHED {
                    std::thread::sleep(Duration::from_micros(200));
                }
                total += started.elapsed();
            }
            total
        });
    });
    group.finish();
}

fn shared(c: &mut Criterion) {
    let redis = RedisServer::start();
    local_hits(c, &redis);
    shared_hits(c, &redis);
    pushes(c, &redis);
    remove_data_dirs();
}

criterion_group!(benches, shared);
criterion_main!(benches);
