#[cacheow::cacheow(ttl = 60)]
fn with_option(n: u64) -> u64 {
    n
}

#[cacheow::cacheow]
fn with_param_option(#[cacheow(ignore)] n: u64) -> u64 {
    n
}

#[cacheow::cacheow]
const fn constant(n: u64) -> u64 {
    n
}

#[cacheow::cacheow]
fn reversible(n: u64) -> impl DoubleEndedIterator<Item = u64> {
    0..n
}

#[cacheow::cacheow]
async fn numbers(n: u64) -> impl Iterator<Item = u64> {
    0..n
}

#[cacheow::cacheow(version = "two", name = "")]
fn options(n: u64) -> u64 {
    n
}

struct Client;

impl Client {
    #[cacheow::cacheow]
    fn fetch(#[cacheow(skip)] &self, id: u32) -> u32 {
        id
    }
}

fn main() {}
