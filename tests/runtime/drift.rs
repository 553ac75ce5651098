//! Drift in the data dir: each outcome carries the body hash of the
//! function that recorded it, and cache mode does with one of another body
//! what `on_change` says.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

use cacheow::{CallStatus, Error, Function, Manager, Mode, Settings, cacheow, handle, last_status};

use crate::warnings;

static WARNED_RAN: AtomicU64 = AtomicU64::new(0);
static REDONE_RAN: AtomicU64 = AtomicU64::new(0);
static QUIET_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn drift_warned(n: u64) -> u64 {
    WARNED_RAN.fetch_add(1, SeqCst);
    n + 1
}

#[cacheow(on_change = "rerecord")]
fn drift_redone(n: u64) -> u64 {
    REDONE_RAN.fetch_add(1, SeqCst);
    n + 2
}

#[cacheow(on_change = "ignore")]
fn drift_quiet(n: u64) -> u64 {
    QUIET_RAN.fetch_add(1, SeqCst);
    n + 3
}

/// The one outcome file of `function`.
fn outcome_file(function: &Function) -> PathBuf {
    let dir = function.dir().expect("cacheow is on");
    std::fs::read_dir(dir).expect("its folder").flatten().map(|entry| entry.path()).next().expect("an outcome")
}

/// Records `call` in default mode, then makes its outcome one another body
/// recorded, as an older build of the program would have, and rebuilds the
/// function's index from its files.
fn recorded_by_another_body(function: &'static Function, call: impl Fn() -> u64) -> Result<String, Error> {
    function.set_mode(Mode::Default)?;
    call();
    cacheow::manager().expect("cacheow is on").flush();
    let file = outcome_file(function);
    let text = std::fs::read_to_string(&file).expect("the outcome file");
    let hash = cacheow::__harness::body_hash(function);
    assert!(text.contains(&format!("\"body_hash\": \"{hash}\"")), "each outcome carries its body hash: {text}");
    std::fs::write(&file, text.replace(hash, "00000000000000aa")).expect("an edit");
    function.rebuild_index()?;
    assert_eq!(function.outcomes()?.iter().map(|outcome| outcome.body_changed).collect::<Vec<_>>(), [true]);
    function.set_mode(Mode::Cache)?;
    Ok(hash.to_owned())
}

#[test]
fn an_outcome_of_another_body_replays_with_one_warning_by_default() -> Result<(), Error> {
    recorded_by_another_body(handle!(drift_warned), || drift_warned(1))?;
    let ran = WARNED_RAN.load(SeqCst);
    assert_eq!((drift_warned(1), last_status()), (2, Some(CallStatus::Hit)));
    assert_eq!(drift_warned(1), 2);
    assert_eq!(WARNED_RAN.load(SeqCst), ran, "replayed, not called");
    let warned = warnings();
    assert_eq!(
        warned.matches("cacheow replays outcomes of `runtime::drift::drift_warned` that another body").count(),
        1,
        "{warned}"
    );
    Ok(())
}

#[test]
fn rerecord_calls_the_function_and_the_outcome_is_of_this_body_again() -> Result<(), Error> {
    let hash = recorded_by_another_body(handle!(drift_redone), || drift_redone(1))?;
    let ran = REDONE_RAN.load(SeqCst);
    assert_eq!((drift_redone(1), last_status()), (3, Some(CallStatus::Miss)));
    assert_eq!(REDONE_RAN.load(SeqCst), ran + 1, "recorded again");
    assert_eq!((drift_redone(1), last_status()), (3, Some(CallStatus::Hit)));
    cacheow::manager().expect("cacheow is on").flush();
    let text = std::fs::read_to_string(outcome_file(handle!(drift_redone))).expect("the outcome file");
    assert!(text.contains(&format!("\"body_hash\": \"{hash}\"")), "{text}");
    let outcomes = handle!(drift_redone).outcomes()?;
    assert_eq!((outcomes.len(), outcomes[0].body_changed, outcomes[0].count), (1, false, 2), "one outcome, of now");
    Ok(())
}

#[test]
fn ignore_replays_and_says_nothing() -> Result<(), Error> {
    recorded_by_another_body(handle!(drift_quiet), || drift_quiet(1))?;
    let ran = QUIET_RAN.load(SeqCst);
    assert_eq!((drift_quiet(1), last_status()), (4, Some(CallStatus::Hit)));
    assert_eq!(QUIET_RAN.load(SeqCst), ran);
    assert!(!warnings().contains("drift_quiet"), "{}", warnings());
    Ok(())
}

static RACED_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow(on_change = "rerecord")]
fn drift_raced(n: u64) -> u64 {
    RACED_RAN.fetch_add(1, SeqCst);
    n + 4
}

/// Another process, of another build, records while this one runs: the
/// refresh that takes its outcome in sees the other body too.
#[test]
fn an_outcome_another_running_build_records_is_judged_by_on_change() -> Result<(), Error> {
    let dir = tempfile::Builder::new().prefix("runtime-drift-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("a dir");
    let open = || {
        let mut settings = Settings::default();
        settings.data_dir = dir.path().to_owned();
        Manager::open(settings)
    };
    let (this_build, other_build) = (open(), open());
    let f = handle!(drift_raced);
    let _bound = this_build.bind();
    drift_raced(0);
    this_build.flush();
    // What the other build's rows say: a body of another hash.
    let db = rusqlite::Connection::open(dir.path().join("cacheow.db")).expect("the database");
    db.execute_batch(
        "CREATE TRIGGER other_build AFTER INSERT ON outcomes
         BEGIN UPDATE outcomes SET body_hash = '00000000000000aa' WHERE rowid = NEW.rowid; END;",
    )
    .expect("a trigger");
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let _bound = other_build.bind();
                drift_raced(1);
                other_build.flush();
                // Set after the outcome's row: the refresh that sees the mode
                // has seen the row.
                f.set_mode(Mode::Cache)
            })
            .join()
            .expect("the other build's thread")
    })?;
    let seen = std::time::Instant::now();
    while f.mode() != Mode::Cache {
        assert!(seen.elapsed() < std::time::Duration::from_secs(10), "the mode set by the other build never came");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let ran = RACED_RAN.load(SeqCst);
    assert_eq!((drift_raced(1), last_status()), (5, Some(CallStatus::Miss)), "not replayed");
    assert_eq!(RACED_RAN.load(SeqCst), ran + 1, "recorded again by this body");
    assert_eq!((drift_raced(1), last_status()), (5, Some(CallStatus::Hit)));
    Ok(())
}

/// Not decorated: what `depends` cannot see into.
fn plain_helper(n: u64) -> u64 {
    n * 3
}

#[cacheow(depends(plain_helper))]
fn drift_on_plain(n: u64) -> u64 {
    plain_helper(n)
}

#[test]
fn depends_on_an_undecorated_function_says_its_changes_go_unseen() {
    assert_eq!(drift_on_plain(2), 6, "the call returns its real result");
    let warned = warnings();
    assert!(
        warned.contains(
            "`runtime::drift::drift_on_plain` depends on `runtime::drift::plain_helper`, which is not a #[cacheow] \
             function of this program: a change to its body goes unseen"
        ),
        "{warned}"
    );
    assert!(!warned.contains("cacheow::handle!: `runtime::drift::plain_helper`"), "{warned}");
}

static PANICKED_ONCE: AtomicU64 = AtomicU64::new(0);

#[cacheow(on_change = "rerecord")]
fn drift_panicked(n: u64) -> u64 {
    if PANICKED_ONCE.fetch_add(1, SeqCst) == 0 {
        panic!("the old body panicked");
    }
    n + 5
}

#[test]
fn rerecord_calls_the_function_for_a_panic_another_body_recorded() -> Result<(), Error> {
    recorded_by_another_body(handle!(drift_panicked), || std::panic::catch_unwind(|| drift_panicked(1)).unwrap_or(0))?;
    let replayed = std::panic::catch_unwind(|| drift_panicked(1));
    assert_eq!(replayed.ok(), Some(6), "called, not the old body's panic replayed");
    assert_eq!(last_status(), Some(CallStatus::Miss));
    Ok(())
}
