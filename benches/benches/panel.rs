//! The control panel with 100 and with 100,000 outcomes recorded for a
//! function: its detail, its page and a deep page of its outcomes, over
//! real HTTP, against the cheapest request (`/api/health`).
//! `cargo bench -p cacheow-bench --bench panel`
#![allow(unsafe_code)]

use std::hint::black_box;
use std::path::PathBuf;

use cacheow::{Function, cacheow, handle};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-panel-data")
}

#[ctor::ctor(unsafe)]
fn enable_cacheow() {
    // SAFETY: before `main`, on the only thread.
    unsafe { cacheow_bench::enable_cacheow(&data_dir(), true) }
}

#[cacheow]
fn with_100(n: u64) -> u64 {
    cacheow_bench::square(n)
}

#[cacheow]
fn with_100k(n: u64) -> u64 {
    cacheow_bench::square(n)
}

/// A function with its label and the number of outcomes to record.
type Subject = (&'static str, &'static Function, fn(u64) -> u64, u64);

fn get(agent: &ureq::Agent, url: &str) -> usize {
    let mut response = agent.get(url).call().unwrap_or_else(|error| panic!("{url}: {error}"));
    assert_eq!(response.status(), 200, "{url}");
    response.body_mut().read_to_string().expect("a body").len()
}

fn panel(c: &mut Criterion) {
    let sizes: [Subject; 2] =
        [("100", handle!(with_100), with_100, 100), ("100000", handle!(with_100k), with_100k, 100_000)];
    for (_, _, call, count) in &sizes {
        (0..*count).for_each(|n| {
            call(n);
        });
    }
    let manager = cacheow::manager().expect("cacheow is on");
    manager.flush();
    let url = manager.panel_url().expect("the panel runs");
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();

    let mut group = c.benchmark_group("panel");
    group.bench_function("health (baseline)", |b| b.iter(|| black_box(get(&agent, &format!("{url}api/health")))));
    for (label, f, _, count) in &sizes {
        let detail = format!("{url}api/functions/{}", f.id());
        let page = format!("{url}ui/functions/{}", f.id());
        let deep = format!("{url}api/functions/{}/outcomes?offset={}&limit=50", f.id(), count / 2);
        group.bench_with_input(BenchmarkId::new("GET /api/functions/{id}", label), &detail, |b, url| {
            b.iter(|| black_box(get(&agent, url)))
        });
        group.bench_with_input(BenchmarkId::new("GET /ui/functions/{id}", label), &page, |b, url| {
            b.iter(|| black_box(get(&agent, url)))
        });
        group.bench_with_input(BenchmarkId::new("GET outcomes, middle page", label), &deep, |b, url| {
            b.iter(|| black_box(get(&agent, url)))
        });
    }
    group.bench_function("GET / (index)", |b| b.iter(|| black_box(get(&agent, &url))));
    group.finish();
}

criterion_group!(benches, panel);
criterion_main!(benches);
