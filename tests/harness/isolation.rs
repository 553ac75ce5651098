//! Tests running at once pin the same function to different modes, and
//! neither sees the other's.

use std::cell::Cell;
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::time::Duration;

use cacheow::{Mode, cacheow, handle};
use cacheow_test::{Record, Scope, cacheow_test};

thread_local! {
    /// Calls that ran on this thread: the body runs on its caller's thread.
    static RAN_HERE: Cell<u64> = const { Cell::new(0) };
}

#[cacheow]
fn shared(n: u64) -> u64 {
    RAN_HERE.set(RAN_HERE.get() + 1);
    n * 10
}

#[test]
fn two_scopes_at_once_pin_one_function_to_different_modes() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let scope = |name: &str| Scope::new(format!("harness::isolation::{name}")).fixtures_dir(root.path());
    // Something for the mock to replay: shared(1) = 10.
    scope("mocking").force_record(Record::Once).run(|| shared(1));

    let barrier = Arc::new(Barrier::new(2));
    let mocking = {
        let (barrier, scope) =
            (Arc::clone(&barrier), scope("mocking").pin(handle!(shared), Mode::Mock).force_record(Record::None));
        std::thread::spawn(move || {
            scope.run(|| {
                barrier.wait();
                let values: Vec<u64> = (0..500).map(|_| shared(5)).collect();
                (values, RAN_HERE.get())
            })
        })
    };
    let calling = {
        let (barrier, scope) =
            (Arc::clone(&barrier), scope("calling").pin(handle!(shared), Mode::Default).force_record(Record::None));
        std::thread::spawn(move || {
            scope.run(|| {
                barrier.wait();
                let values: Vec<u64> = (0..500).map(|_| shared(5)).collect();
                (values, RAN_HERE.get())
            })
        })
    };
    let ((mocked, mock_ran), (called, call_ran)) =
        (mocking.join().expect("the mocking test"), calling.join().expect("the calling test"));
    assert!(mocked.iter().all(|&value| value == 10), "the mock replays shared(1)");
    assert!(called.iter().all(|&value| value == 50), "the other calls shared(5)");
    assert_eq!((mock_ran, call_ran), (0, 500), "only the calling test ran it");
}

/// Waits up to a second for the other test of the pair, so that the two
/// overlap when the harness runs tests in parallel, and neither hangs when
/// it does not (one test per process, or one thread).
fn meet(name: &'static str) {
    static MET: Mutex<Vec<&str>> = Mutex::new(Vec::new());
    static ARRIVED: Condvar = Condvar::new();
    let mut met = MET.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    met.push(name);
    ARRIVED.notify_all();
    let _ = ARRIVED.wait_timeout_while(met, Duration::from_secs(1), |met| met.len() < 2);
}

#[cacheow_test(mock(shared))]
fn mocks_shared_while_another_test_calls_it() {
    meet("mocks");
    for n in 0..200 {
        assert_eq!(shared(n), 70, "its one fixture: shared(7)");
    }
    assert_eq!(RAN_HERE.get(), 0, "mock mode never calls it");
}

#[cacheow_test(default(shared), record = "none")]
fn calls_shared_while_another_test_mocks_it() {
    meet("calls");
    for n in 0..200 {
        assert_eq!(shared(n), n * 10);
    }
    assert_eq!(RAN_HERE.get(), 200);
}

#[test]
fn a_scope_comes_before_a_manager_bound_inside_it() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let mut settings = cacheow::Settings::default();
    settings.data_dir = root.path().join("data");
    let apart = cacheow::Manager::open(settings);
    let scope = Scope::new("harness::isolation::bound_inside").fixtures_dir(root.path().join("fixtures"));
    scope.force_record(Record::Once).run(|| {
        let _bound = apart.bind();
        assert_eq!(shared(3), 30);
        cacheow_test::current(); // still inside the test
    });
    let test_dir = root.path().join("fixtures").join("harness").join("isolation").join("bound_inside");
    assert!(test_dir.is_dir(), "the test's fixtures took the call");
    let data_dir = apart.settings().data_dir.join("functions").join(handle!(shared).id());
    assert!(!data_dir.exists(), "the bound data dir did not");
}
