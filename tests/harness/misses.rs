//! What a test in `none` mode is told of a call its fixtures lack: the
//! closest recorded arguments, field by field, and where the call is.

use std::panic::{self, UnwindSafe};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::{Mutex, Once};
use std::thread::{self, ThreadId};

use cacheow::admin::fixture_files::{function_dirs, outcome_files};
use cacheow::cacheow;
use cacheow_test::{Record, Scope};
use tempfile::TempDir;

use crate::panic_message;

#[cacheow]
fn quote_price(item: &str, quantity: u32, region: &str) -> u64 {
    u64::from(quantity) * item.len() as u64 + region.len() as u64
}

fn scope(root: &TempDir, record: Record) -> Scope {
    Scope::new("harness::misses::quotes").fixtures_dir(root.path()).force_record(record)
}

/// The message of the panic `f` raises.
fn failure(f: impl FnOnce() + UnwindSafe) -> String {
    panic_message(panic::catch_unwind(f).expect_err("the call has no recording"))
}

#[test]
fn a_miss_shows_how_the_closest_recorded_arguments_differ() {
    let root = tempfile::tempdir().expect("a temporary dir");
    scope(&root, Record::Once).run(|| {
        quote_price("apple", 3, "eu");
        quote_price("pear", 10, "us");
    });

    let message = failure(|| {
        scope(&root, Record::None).run(|| {
            quote_price("apple", 4, "eu");
        })
    });
    assert!(message.contains("differ in 1 field(s):\n    quantity: recorded 3, called with 4\n"), "{message}");
    assert!(message.contains("of the calls [0] in "), "{message}");
    assert!(message.contains("no recorded outcome for call 0 of"), "{message}");

    let message = failure(|| {
        scope(&root, Record::None).run(|| {
            quote_price("pear", 11, "eu");
        })
    });
    assert!(
        message
            .contains("differ in 2 field(s):\n    quantity: recorded 10, called with 11\n    region: recorded \"us\""),
        "{message}"
    );
}

#[test]
fn a_call_made_more_often_than_recorded_is_numbered_as_the_fixtures_number_it() {
    let root = tempfile::tempdir().expect("a temporary dir");
    scope(&root, Record::Once).run(|| {
        (0..2).for_each(|_| {
            quote_price("fig", 1, "eu");
        })
    });
    let message = failure(|| {
        scope(&root, Record::None).run(|| {
            (0..3).for_each(|_| {
                quote_price("fig", 1, "eu");
            })
        })
    });
    assert!(message.contains("no recorded outcome for call 2 of"), "{message}");
    assert!(message.contains("They hold the calls [0, 1] with these arguments"), "{message}");
    let function_dirs = function_dirs(&scope(&root, Record::None).fixture_dir());
    let files = outcome_files(function_dirs.first().expect("a function folder"));
    let fixture = std::fs::read_to_string(files.first().expect("one outcome")).expect("the fixture");
    assert!(fixture.contains("\"calls\": [\n    0,\n    1\n  ]"), "{fixture}");
}

#[test]
fn a_miss_of_a_function_never_recorded_says_so() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let message = failure(|| {
        scope(&root, Record::None).run(|| {
            quote_price("kiwi", 1, "eu");
        })
    });
    assert!(message.contains("They hold no outcome of `harness::misses::quote_price`."), "{message}");
}

/// Where the panics of this thread happened, as the panic hook sees them.
static LOCATIONS: Mutex<Vec<(ThreadId, String, u32)>> = Mutex::new(Vec::new());

/// Where the panic `f` raises points: file and line.
fn panic_location(f: impl FnOnce() + UnwindSafe) -> Option<(String, u32)> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if let Some(location) = info.location() {
                let seen = (thread::current().id(), location.file().to_owned(), location.line());
                LOCATIONS.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(seen);
            }
            previous(info);
        }));
    });
    let _ = panic::catch_unwind(f);
    let locations = LOCATIONS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let me = thread::current().id();
    locations.iter().rev().find(|(thread, ..)| *thread == me).map(|(_, file, line)| (file.clone(), *line))
}

#[test]
fn a_miss_of_a_synchronous_call_points_at_the_call_in_the_test() {
    let root = tempfile::tempdir().expect("a temporary dir");
    let called_at = AtomicU32::new(0);
    let location = panic_location(|| {
        scope(&root, Record::None).run(|| {
            // One line: the line noted is the call's.
            let _ = (called_at.store(line!(), SeqCst), quote_price("plum", 1, "eu"));
        })
    });
    assert_eq!(location, Some((file!().to_owned(), called_at.load(SeqCst))));
}
