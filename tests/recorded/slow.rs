//! A slow computation: counting primes by trial division.

use cacheow::cacheow;
use cacheow_test::cacheow_test;
use rstest::rstest;

/// Seconds of work for the larger inputs in a debug build.
#[cacheow]
fn count_primes(below: u64) -> u64 {
    (2..below).filter(|&n| (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)).count() as u64
}

#[cacheow_test]
fn counts_primes_below_two_million() {
    assert_eq!(count_primes(2_000_000), 148_933);
}

#[rstest]
#[case::ten(10, 4)]
#[case::thousand(1_000, 168)]
#[case::million(1_000_000, 78_498)]
#[cacheow_test]
fn counts_primes_per_case(#[case] below: u64, #[case] expected: u64) {
    assert_eq!(count_primes(below), expected);
    // Each case has fixtures of its own: `counts_primes_per_case/case_1_ten`.
    let dir = cacheow_test::current().fixture_dir().to_path_buf();
    assert!(dir.parent().is_some_and(|parent| parent.ends_with("recorded/slow/counts_primes_per_case")), "{dir:?}");
    assert!(dir.file_name().and_then(|name| name.to_str()).is_some_and(|name| name.starts_with("case_")), "{dir:?}");
}
