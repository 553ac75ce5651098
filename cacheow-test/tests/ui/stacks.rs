use cacheow_test::cacheow_test;
use rstest::rstest;

#[cacheow_test]
#[rstest]
#[case(1)]
fn above_rstest(#[case] n: u32) {
    let _ = n;
}

#[cacheow_test]
async fn without_a_runtime() {}

#[cacheow_test]
#[tokio::test]
#[should_panic]
async fn async_should_panic() {}

fn main() {}
