//! Every kind of decorated function, written as people write them, one-line
//! bodies included: the expansion adds no warning.
#![deny(warnings)]

use cacheow::cacheow;

#[cacheow]
fn one_liner(n: u32) -> u32 { n * 2 }

#[cacheow]
async fn async_one_liner(n: u32) -> u32 { n + 1 }

#[cacheow]
fn fallible(n: u32) -> Result<u32, String> { if n > 0 { Ok(n) } else { Err("zero".to_owned()) } }

#[cacheow]
fn unit() {}

#[cacheow]
fn items(n: u32) -> impl Iterator<Item = u32> { 0..n }

#[cacheow]
fn destructured((a, b): (u32, u32)) -> u32 { a + b }

struct Client;

impl Client {
    #[cacheow]
    fn fetch(&self, id: u32) -> u32 { id }
}

fn main() {
    assert_eq!(one_liner(2), 4);
    let _ = async_one_liner(1);
    assert_eq!(fallible(3), Ok(3));
    unit();
    assert_eq!(items(3).count(), 3);
    assert_eq!(destructured((1, 2)), 3);
    assert_eq!(Client.fetch(7), 7);
}
