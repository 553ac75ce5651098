//! [`Scope`]: a test's recording settings, run around its body; and the
//! binding of threads and tasks to the running test.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use cacheow::{Function, Mode};

use crate::Record;
use crate::session::Session;
use cacheow::__harness::Redaction;

/// How a test records and replays the decorated functions it calls.
///
/// `#[cacheow_test]` builds one for each test; build one by hand to record
/// part of a test, or in a test harness of your own. Its settings apply to
/// the calls made in [`run`](Scope::run) (or [`run_async`](Scope::run_async)),
/// on its thread, and never to another test running at the same time.
///
/// ```no_run
/// use cacheow_test::{Record, Scope};
/// # #[cacheow::cacheow] fn fetch_user(id: u32) -> String { id.to_string() }
///
/// let name = Scope::new("my_crate::users::looks_up_user")
///     .record(Record::Once)
///     .redact_field("api_key")
///     .run(|| fetch_user(7));
/// ```
#[must_use = "a scope does nothing until it runs"]
#[derive(Clone, Debug)]
pub struct Scope {
    test: String,
    fixtures_root: Option<PathBuf>,
    crate_root: Option<PathBuf>,
    record: Option<Record>,
    forced_record: Option<Record>,
    pins: HashMap<&'static str, Mode>,
    redaction: Redaction,
    /// Variables `redact_env` names that are not set: a run that records
    /// fails, rather than write what a fallback put in their place.
    unset_env: Vec<String>,
    save_on_failure: bool,
    strict: bool,
    /// Set by `#[cacheow_test]`: the test runs on a thread named after it.
    from_attribute: bool,
}

impl Scope {
    /// The scope of the test `crate::module::test`, whose fixtures are in
    /// `fixtures/crate/module/test/`.
    pub fn new(test: impl Into<String>) -> Scope {
        Scope {
            test: test.into(),
            fixtures_root: None,
            crate_root: None,
            record: None,
            forced_record: None,
            pins: HashMap::new(),
            redaction: Redaction::default(),
            unset_env: Vec::new(),
            save_on_failure: false,
            strict: false,
            from_attribute: false,
        }
    }

    /// Keeps fixtures under `root` instead of `<crate>/fixtures` (or
    /// `CACHEOW_FIXTURES_DIR`).
    pub fn fixtures_dir(mut self, root: impl Into<PathBuf>) -> Scope {
        self.fixtures_root = Some(root.into());
        self
    }

    /// The record mode of this test; `CACHEOW_RECORD` overrides it.
    pub fn record(mut self, record: Record) -> Scope {
        self.record = Some(record);
        self
    }

    /// The record mode, whatever `CACHEOW_RECORD` says: for testing a
    /// harness, not for tests.
    #[doc(hidden)]
    pub fn force_record(mut self, record: Record) -> Scope {
        self.forced_record = Some(record);
        self
    }

    /// Runs `function` in `mode` during this test only: `Mock` replays its
    /// fixtures for any arguments and never calls it, `Cache` replays them
    /// when the arguments match (even in `all` record mode), `Default`
    /// always calls it.
    pub fn pin(mut self, function: &'static Function, mode: Mode) -> Scope {
        self.pins.insert(function.id(), mode);
        self
    }

    /// Replaces the value of every argument or object field named `field`
    /// (at any depth, any case) with `[redacted]` before it is written.
    pub fn redact_field(mut self, field: impl Into<String>) -> Scope {
        self.redaction.add_field(field);
        self
    }

    /// Replaces `secret` wherever it occurs in arguments and outcomes with
    /// `[redacted]` before they are written.
    pub fn redact_value(mut self, secret: impl Into<String>) -> Scope {
        self.redaction.add_value(secret);
        self
    }

    /// Redacts the value of the environment variable `variable`. When it
    /// is not set, a run that records (`once`, `all`) fails, saying so: a
    /// test that falls back to a literal key would write that key. A run
    /// that only replays (`none`) needs no secret.
    pub fn redact_env(mut self, variable: &str) -> Scope {
        match std::env::var(variable) {
            Ok(secret) if !secret.is_empty() => self.redact_value(secret),
            _ => {
                self.unset_env.push(variable.to_owned());
                self
            }
        }
    }

    /// Saves what the test recorded even when it fails: a test that fails
    /// saves nothing by default, so a broken run never spoils its fixtures.
    pub fn save_on_failure(mut self, save: bool) -> Scope {
        self.save_on_failure = save;
        self
    }

    /// Fails the test, when it passes otherwise, if it leaves recorded
    /// calls of its fixtures unplayed: the failure names each, since that
    /// usually means the code stopped calling something it used to.
    /// `CACHEOW_STRICT=1` makes every test of a run strict.
    ///
    /// Calls that were recorded inside another decorated call are left
    /// out (a replay of that call does not make them), and so are the
    /// functions pinned to a mode; nothing is checked in `all` record mode,
    /// which rewrites the fixtures, nor in a `#[should_panic]` test.
    pub fn strict(mut self, strict: bool) -> Scope {
        self.strict = strict;
        self
    }

    /// The directory of this test's fixtures: under the test's own root
    /// (relative to the crate), else `CACHEOW_FIXTURES_DIR`, else the crate's
    /// `fixtures/`, then the test's module path and name.
    pub fn fixture_dir(&self) -> PathBuf {
        let base = || self.crate_root.clone().or_else(|| std::env::current_dir().ok()).unwrap_or_default();
        let root = match &self.fixtures_root {
            Some(root) => base().join(root),
            None => crate::env::fixtures_dir().unwrap_or_else(|| base().join("fixtures")),
        };
        self.test.split("::").fold(root, |dir, segment| dir.join(sanitize(segment)))
    }

    fn start(self) -> Arc<Session> {
        if self.from_attribute {
            check_registered_once(&self.test);
        }
        let dir = self.fixture_dir();
        let record = resolve_record(self.forced_record, crate::env::record(), self.record, crate::env::in_ci());
        if let (Some(variable), true) = (self.unset_env.first(), record.0 != Record::None) {
            panic!(
                "cacheow-test: `{}` redacts the environment variable {variable}, which is not set, and this run \
                 records (record mode `{}`: {}): what the test uses in its place would be written into the \
                 fixtures. Set {variable} to the real secret to record, or replay only (CACHEOW_RECORD=none)",
                self.test, record.0, record.1,
            );
        }
        let strict = self.strict || crate::env::strict();
        Arc::new(Session::new(self.test, dir, record, self.pins, self.redaction, self.save_on_failure, strict))
    }

    /// Runs `f` in this scope: its decorated calls replay and record in the
    /// test's fixtures, which are written unless `f` panics.
    pub fn run<T>(self, f: impl FnOnce() -> T) -> T {
        self.run_until(f, |_| true)
    }

    /// Runs a test function in this scope, as `#[cacheow_test]` does: like
    /// [`run`](Scope::run), and a test returning `Err` saves nothing either.
    pub fn run_test<T: TestResult>(self, test: impl FnOnce() -> T) -> T {
        self.run_until(test, T::passed)
    }

    /// Runs a `#[should_panic]` test, as `#[cacheow_test]` does. A panic of
    /// cacheow-test's own (a fixture the test lacks) must not pass for the
    /// panic the test expects: then the test ends without one, which the
    /// harness reports as a failure, and the reason is printed.
    pub fn run_should_panic_test(self, test: impl FnOnce()) {
        let session = self.start();
        let ran = {
            let _in = enter(&session);
            catch_unwind(AssertUnwindSafe(test))
        };
        // The test passes by panicking, unless the panic was for a fixture.
        let passed = ran.is_err() && session.fixture_failure().is_none();
        let _ = catch_unwind(AssertUnwindSafe(|| session.finish(passed)));
        if let Err(panic) = ran {
            match session.fixture_failure() {
                Some(message) => report_not_the_expected_panic(&message),
                None => resume_unwind(panic),
            }
        }
    }

    fn run_until<T>(self, f: impl FnOnce() -> T, passed: fn(&T) -> bool) -> T {
        let session = self.start();
        let ran = {
            let _in = enter(&session);
            catch_unwind(AssertUnwindSafe(f))
        };
        match ran {
            Ok(value) => {
                session.end(passed(&value));
                value
            }
            Err(panic) => {
                // The test's own panic is the one to report.
                let _ = catch_unwind(AssertUnwindSafe(|| session.finish(false)));
                resume_unwind(panic)
            }
        }
    }

    /// Runs a future in this scope, on any executor: the scope follows it
    /// across `.await`s and threads. Its fixtures are written unless it panics.
    pub fn run_async<F: Future>(self, future: F) -> impl Future<Output = F::Output> {
        Bound { session: self.start(), inner: Box::pin(future), ends_test: Some(|_: &F::Output| true) }
    }

    /// Runs an `async` test function in this scope, as `#[cacheow_test]`
    /// does: like [`run_async`](Scope::run_async), and a test returning
    /// `Err` saves nothing either.
    pub fn run_async_test<T: TestResult, F: Future<Output = T>>(self, test: F) -> impl Future<Output = T> {
        Bound { session: self.start(), inner: Box::pin(test), ends_test: Some(T::passed) }
    }
}

/// Says why a `#[should_panic]` test is about to fail: it panicked for its
/// fixtures, not as it expects.
#[allow(clippy::print_stderr)] // the test harness shows a failed test's output
fn report_not_the_expected_panic(message: &str) {
    eprintln!(
        "{message}\ncacheow-test: this #[should_panic] test panicked for a fixture it lacks, not for the panic it \
         expects, so it is reported as a test that did not panic"
    );
}

/// The record mode a test runs in, and why: forced by a harness, else
/// `CACHEOW_RECORD`, else the test's, else `none` in CI, else `once`.
fn resolve_record(
    forced: Option<Record>,
    environment: Option<Record>,
    test: Option<Record>,
    in_ci: bool,
) -> (Record, &'static str) {
    match (forced, environment, test) {
        (Some(record), _, _) => (record, "the harness forces it"),
        (None, Some(record), _) => (record, "CACHEOW_RECORD says so"),
        (None, None, Some(record)) => (record, "the test asks for it"),
        (None, None, None) if in_ci => (Record::None, "CI is set"),
        (None, None, None) => (Record::Once, "the default"),
    }
}

/// A fixture directory segment from a path segment: `<T as Trait>` and
/// `{{closure}}` become plain names.
fn sanitize(segment: &str) -> String {
    segment.chars().map(|c| if c.is_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect()
}

/// Whether a test passed, from what its function returned.
#[diagnostic::on_unimplemented(
    message = "cacheow-test cannot tell whether a test returning `{Self}` passed",
    note = "return `()` or a `Result`"
)]
pub trait TestResult {
    /// Whether the test passed.
    fn passed(&self) -> bool;
}

impl TestResult for () {
    fn passed(&self) -> bool {
        true
    }
}

impl<T, E> TestResult for Result<T, E> {
    fn passed(&self) -> bool {
        self.is_ok()
    }
}

/// Enters `session` on this thread, where cacheow's calls find it.
fn enter(session: &Arc<Session>) -> Entered {
    Entered(cacheow::__harness::enter(Arc::clone(session) as Arc<dyn cacheow::__harness::Hook>))
}

/// Leaves the test's scope when dropped.
#[must_use = "the test's scope is left when this guard drops"]
pub struct Entered(#[allow(dead_code)] cacheow::__harness::Entered);

/// The test running on this thread, to bind other threads and tasks to it.
///
/// # Panics
///
/// Outside a `#[cacheow_test]` (or [`Scope::run`]), with a message that
/// says so.
pub fn current() -> CurrentTest {
    cacheow::__harness::current()
        .and_then(|hook| hook.into_any().downcast::<Session>().ok())
        .map(|session| CurrentTest { session })
        .unwrap_or_else(|| panic!("cacheow_test::current() is called outside any #[cacheow_test]"))
}

/// A handle on a running test.
///
/// ```no_run
/// # #[cacheow::cacheow] fn fetch(n: u32) -> u32 { n }
/// #[cacheow_test::cacheow_test]
/// fn in_a_thread() {
///     let test = cacheow_test::current();
///     std::thread::spawn(move || {
///         let _in = test.enter();
///         fetch(1)
///     })
///     .join()
///     .unwrap();
/// }
/// ```
#[derive(Clone)]
pub struct CurrentTest {
    session: Arc<Session>,
}

impl CurrentTest {
    /// Enters the test's scope on this thread until the guard drops.
    pub fn enter(&self) -> Entered {
        enter(&self.session)
    }

    /// Binds a future to the test: its calls use the test's fixtures
    /// wherever it is polled.
    pub fn scoped<F: Future>(&self, future: F) -> impl Future<Output = F::Output> + use<F> {
        Bound { session: Arc::clone(&self.session), inner: Box::pin(future), ends_test: None }
    }

    /// Replaces `secret` wherever it occurs in what this test writes from
    /// now on.
    pub fn redact_value(&self, secret: impl Into<String>) {
        self.session.redact_value(secret.into());
    }

    /// The directory of the test's fixtures.
    pub fn fixture_dir(&self) -> &Path {
        &self.session.dir
    }

    /// The record mode the test runs in.
    pub fn record(&self) -> Record {
        self.session.record
    }

    pub(crate) fn session(&self) -> &Session {
        &self.session
    }
}

/// Binds a future to the test running on this thread; see
/// [`CurrentTest::scoped`].
pub fn scoped<F: Future>(future: F) -> impl Future<Output = F::Output> + use<F> {
    current().scoped(future)
}

/// Spawns a task on tokio, bound to the test running on this thread: its
/// decorated calls use the test's fixtures.
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(scoped(future))
}

/// A future polled inside a test's scope.
struct Bound<F: Future> {
    session: Arc<Session>,
    inner: Pin<Box<F>>,
    /// For the test's own future: whether its output means it passed.
    ends_test: Option<fn(&F::Output) -> bool>,
}

impl<F: Future> Future for Bound<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let polled = {
            let _in = enter(&this.session);
            catch_unwind(AssertUnwindSafe(|| this.inner.as_mut().poll(cx)))
        };
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => {
                if let Some(passed) = this.ends_test.take() {
                    this.session.end(passed(&value));
                }
                Poll::Ready(value)
            }
            Err(panic) => {
                if this.ends_test.take().is_some() {
                    // The test's own panic is the one to report.
                    let _ = catch_unwind(AssertUnwindSafe(|| this.session.finish(false)));
                }
                resume_unwind(panic)
            }
        }
    }
}

impl<F: Future> Drop for Bound<F> {
    /// A test dropped before its end (a timeout) saves nothing.
    fn drop(&mut self) {
        if self.ends_test.take().is_some() {
            let _ = catch_unwind(AssertUnwindSafe(|| self.session.finish(false)));
        }
    }
}

/// Tests started in this process, by the name of their thread.
static STARTED: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// The test harness names a test's thread after the test. A test whose
/// thread starts it twice was registered twice: `#[cacheow_test]` below
/// `#[test]`, which it cannot see, and adds a second `#[test]` of its own.
fn check_registered_once(test: &str) {
    let thread = std::thread::current();
    let Some(name) = thread.name() else { return };
    // The thread's name is the test's path within its crate.
    if test.split_once("::").is_none_or(|(_, path)| path != name) {
        return;
    }
    let mut started = STARTED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if !started.get_or_insert_with(HashSet::new).insert(name.to_owned()) {
        panic!(
            "cacheow-test: the test `{name}` is registered twice: #[cacheow_test] is below #[test], which it cannot \
             see, so it added its own. Put #[cacheow_test] above #[test], or remove #[test]: alone, #[cacheow_test] \
             is a test"
        );
    }
}

/// Where a test's fixtures go, for tests of this crate.
#[doc(hidden)]
pub fn scope_for(module_path: &str, name: &str, crate_root: &str) -> Scope {
    Scope {
        crate_root: Some(Path::new(crate_root).to_path_buf()),
        from_attribute: true,
        ..Scope::new(format!("{module_path}::{name}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started_twice(thread: &str, test: &'static str) -> Result<(), String> {
        let thread = std::thread::Builder::new().name(thread.to_owned());
        let twice = thread.spawn(move || {
            check_registered_once(test);
            std::panic::catch_unwind(|| check_registered_once(test))
                .map_err(|panic| panic.downcast_ref::<String>().cloned().unwrap_or_default())
        });
        twice.ok().and_then(|handle| handle.join().ok()).unwrap_or(Ok(()))
    }

    #[test]
    fn a_test_its_thread_starts_twice_was_registered_twice() {
        let error = started_twice("checks::twice", "suite::checks::twice").err().unwrap_or_default();
        assert!(error.contains("`checks::twice` is registered twice") && error.contains("above #[test]"), "{error}");
        // Called twice from another test's thread: a test calling a test.
        assert_eq!(started_twice("checks::caller", "suite::checks::callee"), Ok(()));
    }

    #[test]
    fn the_record_mode_is_the_environment_s_then_the_test_s_then_ci_s() {
        use Record::{All, None as Nothing, Once};
        let mode = |forced, environment, test, ci| resolve_record(forced, environment, test, ci).0;
        assert_eq!(mode(Some(All), Some(Once), Some(Nothing), true), All);
        assert_eq!(mode(None, Some(Once), Some(Nothing), true), Once);
        assert_eq!(mode(None, None, Some(All), true), All);
        assert_eq!(mode(None, None, None, true), Nothing);
        assert_eq!(mode(None, None, None, false), Once);
    }

    #[test]
    fn fixture_dirs_follow_the_module_path() {
        let scope = Scope::new("suite::users::<Client as Fetch>::fetch").fixtures_dir("/f");
        assert_eq!(scope.fixture_dir(), Path::new("/f/suite/users/_Client_as_Fetch_/fetch"));
    }
}
