//! The cost of `#[cacheow]` when cacheow is off: one relaxed atomic load
//! and a branch. `cargo bench -p cacheow-bench --bench disabled`
#![allow(unsafe_code)]

use std::hint::black_box;

use cacheow::cacheow;
use criterion::{Criterion, criterion_group, criterion_main};

/// Off, whatever the shell says.
#[ctor::ctor(unsafe)]
fn disable_cacheow() {
    // SAFETY: no other thread exists before `main`.
    unsafe { std::env::remove_var("CACHEOW_ENABLE") };
}

#[cacheow]
fn square(n: u64) -> u64 {
    cacheow_bench::square(n)
}

#[cacheow]
fn text(n: u64) -> String {
    cacheow_bench::text(n)
}

fn disabled(c: &mut Criterion) {
    assert!(cacheow::manager().is_none(), "this benchmark measures cacheow off");
    let mut group = c.benchmark_group("disabled/u64");
    group.bench_function("plain call", |b| b.iter(|| cacheow_bench::square(black_box(7))));
    group.bench_function("cacheow off", |b| b.iter(|| square(black_box(7))));
    group.finish();
    let mut group = c.benchmark_group("disabled/1KB string");
    group.bench_function("plain call", |b| b.iter(|| cacheow_bench::text(black_box(7))));
    group.bench_function("cacheow off", |b| b.iter(|| text(black_box(7))));
    group.finish();
}

criterion_group!(benches, disabled);
criterion_main!(benches);
