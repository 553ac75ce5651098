//! What makes two calls the same: the canonical key of their arguments.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

use cacheow::{Error, Mode, cacheow, handle};
use serde::Serialize;

static TOTAL_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn total(prices: HashMap<String, u32>, tags: BTreeSet<String>) -> u32 {
    TOTAL_RAN.fetch_add(1, SeqCst);
    prices.values().sum::<u32>() + u32::try_from(tags.len()).unwrap_or(0)
}

#[test]
fn hash_map_arguments_hit_whatever_their_order() -> Result<(), Error> {
    let names = ["apple", "pear", "plum", "fig", "kiwi", "lime", "date", "sloe"];
    let build = |order: &[usize]| -> HashMap<String, u32> {
        order.iter().map(|&i| (names[i].to_owned(), u32::try_from(i).unwrap_or(0))).collect()
    };
    let tags: BTreeSet<String> = ["b".to_owned(), "a".to_owned()].into();
    handle!(total).set_mode(Mode::Cache)?;
    let first = total(build(&[0, 1, 2, 3, 4, 5, 6, 7]), tags.clone());
    for order in [[7, 6, 5, 4, 3, 2, 1, 0], [3, 1, 4, 0, 5, 2, 6, 7]] {
        assert_eq!(total(build(&order), tags.clone()), first);
    }
    assert_eq!(TOTAL_RAN.load(SeqCst), 1);
    let args = &handle!(total).outcomes()?[0].args;
    assert!(args.starts_with(r#"{"prices":{"apple":0,"date":6,"#), "{args}");
    Ok(())
}

struct Connection {
    queries: AtomicU64,
}

static QUERY_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn query(#[cacheow(skip)] conn: &Connection, sql: &str, _: u8) -> usize {
    QUERY_RAN.fetch_add(1, SeqCst);
    conn.queries.fetch_add(1, SeqCst);
    sql.len()
}

#[test]
fn skipped_and_unnamed_parameters_are_not_part_of_the_key() -> Result<(), Error> {
    handle!(query).set_mode(Mode::Cache)?;
    let (a, b) = (Connection { queries: AtomicU64::new(0) }, Connection { queries: AtomicU64::new(0) });
    assert_eq!(query(&a, "select 1", 1), 8);
    assert_eq!(query(&b, "select 1", 2), 8);
    assert_eq!(QUERY_RAN.load(SeqCst), 1);
    assert_eq!(b.queries.load(SeqCst), 0);
    assert_eq!(handle!(query).outcomes()?[0].args, r#"{"sql":"select 1"}"#);
    Ok(())
}

#[derive(Serialize)]
struct Point {
    x: f64,
    y: f64,
}

static PATTERN_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn distance((from, to): (Point, Point), scale: f64) -> f64 {
    PATTERN_RAN.fetch_add(1, SeqCst);
    ((to.x - from.x).powi(2) + (to.y - from.y).powi(2)).sqrt() * scale
}

#[test]
fn destructured_parameters_are_keyed_by_position() -> Result<(), Error> {
    handle!(distance).set_mode(Mode::Cache)?;
    let points = || (Point { x: 0.0, y: 0.0 }, Point { x: 3.0, y: 4.0 });
    assert_eq!(distance(points(), 2.0), 10.0);
    assert_eq!(distance(points(), 2.0), 10.0);
    assert_eq!(distance(points(), 1.0), 5.0);
    assert_eq!(PATTERN_RAN.load(SeqCst), 2);
    let mut args: Vec<String> = handle!(distance).outcomes()?.into_iter().map(|o| o.args).collect();
    args.sort();
    assert_eq!(args[0], r#"{"arg0":[{"x":0.0,"y":0.0},{"x":3.0,"y":4.0}],"scale":1.0}"#);
    Ok(())
}

static GENERIC_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn describe<T: Serialize + std::fmt::Debug>(value: T) -> String {
    GENERIC_RAN.fetch_add(1, SeqCst);
    format!("{value:?}")
}

#[test]
fn a_generic_function_is_one_function_keyed_by_its_values() -> Result<(), Error> {
    let f = handle!(describe::<u8>);
    assert_eq!(f.id(), handle!(describe::<String>).id());
    f.set_mode(Mode::Cache)?;
    assert_eq!(describe(7u8), "7");
    assert_eq!(describe("seven".to_owned()), "\"seven\"");
    assert_eq!(describe(7u8), "7");
    assert_eq!(GENERIC_RAN.load(SeqCst), 2);
    assert_eq!(f.outcomes()?.len(), 2);
    Ok(())
}

fn lowercase(name: &str, _greeting: &str) -> String {
    name.to_lowercase()
}

static KEYED_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow(key = lowercase)]
fn keyed(name: String, #[cacheow(skip)] greeting: &str) -> String {
    KEYED_RAN.fetch_add(1, SeqCst);
    format!("{greeting} {name}")
}

#[test]
fn a_custom_key_is_kept_by_a_rebuild_and_taken_by_invalidate() -> Result<(), Error> {
    let f = handle!(keyed);
    f.set_mode(Mode::Cache)?;
    assert_eq!(keyed("Ann".into(), "hello"), "hello Ann");
    assert_eq!(keyed("ANN".into(), "hi"), "hello Ann", "one entry");
    assert_eq!(f.outcomes()?[0].args, r#"{"name":"Ann"}"#, "the arguments are kept as they were");
    f.rebuild_index()?;
    assert_eq!(keyed("aNN".into(), "hi"), "hello Ann", "the rebuild read the key from the file");
    assert_eq!(KEYED_RAN.load(SeqCst), 1);
    assert_eq!(f.invalidate(serde_json::json!("ann"))?, 1, "the by-arguments API takes the key");
    assert_eq!(keyed("Ann".into(), "hey"), "hey Ann");
    Ok(())
}
