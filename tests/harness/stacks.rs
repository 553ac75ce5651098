//! `#[cacheow_test]` with the other test attributes, in threads and tasks.

use cacheow::cacheow;
use cacheow_test::cacheow_test;
use rstest::{fixture, rstest};

use crate::panic_message;

#[cacheow]
fn triple(n: u64) -> u64 {
    n * 3
}

#[cacheow_test]
fn a_thread_that_enters_the_test_uses_its_fixtures() {
    let test = cacheow_test::current();
    let tripled = std::thread::spawn(move || {
        let _in = test.enter();
        triple(2)
    });
    assert_eq!(tripled.join().expect("the thread ends"), 6);
}

#[cacheow_test]
fn a_call_no_test_can_be_told_from_fails_clearly() {
    let failed = std::thread::spawn(|| triple(3)).join();
    let message = panic_message(failed.expect_err("the call fails"));
    assert!(message.contains("`harness::stacks::triple` was called outside any #[cacheow_test] scope"), "{message}");
    assert!(message.contains("cacheow_test::spawn"), "{message}");
}

#[cacheow_test]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_are_bound_to_the_test_with_the_helper_only() {
    let unbound = tokio::spawn(async { triple(4) }).await;
    assert!(unbound.expect_err("a task spawned without the helper").is_panic());
    let bound = cacheow_test::spawn(async { triple(4) }).await.expect("the task ends");
    assert_eq!(bound, 12);
}

#[cacheow_test]
fn scoped_futures_run_on_any_executor_and_thread() {
    let future = cacheow_test::scoped(async { triple(5) });
    // Polled on a thread outside the test, by a minimal executor.
    let tripled = std::thread::spawn(move || futures_lite_block_on(future));
    assert_eq!(tripled.join().expect("the thread ends"), 15);
}

/// Polls a future to its end on this thread, as a minimal executor would.
fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(value) = future.as_mut().poll(&mut context) {
            return value;
        }
    }
}

#[rstest]
#[case(1, 3)]
#[case(7, 21)]
#[tokio::test]
#[cacheow_test]
async fn rstest_cases_under_tokio(#[case] n: u64, #[case] expected: u64) {
    assert_eq!(triple(n), expected);
}

#[fixture]
async fn base() -> u64 {
    8
}

#[rstest]
#[awt]
#[cacheow_test]
#[tokio::test]
async fn rstest_async_fixtures(#[future] base: u64) {
    assert_eq!(triple(base), 24);
}

#[cacheow_test]
#[test]
fn above_test() {
    assert_eq!(triple(6), 18);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cacheow_test]
async fn below_tokio_on_a_multi_thread_runtime() {
    assert_eq!(triple(7), 21);
    assert_eq!(cacheow_test::spawn(async { triple(8) }).await.expect("the task ends"), 24);
}
