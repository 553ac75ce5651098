//! The handle of a decorated function, and the registry of all of them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::codec::CodecError;
use crate::manager::{Manager, manager};
use crate::outcome::{OutcomeKind, Payload};
use crate::state::FunctionState;
use crate::{Error, MockOutcome, Mode, OutcomeInfo, ids};

/// A decorated function: its id, and control of its mode, latency and outcomes.
///
/// Get one with [`handle!`](crate::handle). Changes take effect on the next
/// call and are persisted in the data dir, so other processes see them too.
///
/// ```no_run
/// use cacheow::{cacheow, Mode};
///
/// #[cacheow]
/// fn square(n: u64) -> u64 { n * n }
///
/// # fn main() -> Result<(), cacheow::Error> {
/// let f = cacheow::handle!(square);
/// f.set_mode(Mode::Cache)?;
/// assert_eq!(f.mode(), Mode::Cache);
/// println!("{} has {} outcomes", f.id(), f.outcomes()?.len());
/// # Ok(()) }
/// ```
pub struct Function {
    meta: FunctionMeta,
    names: OnceLock<Names>,
    state: OnceLock<Arc<FunctionState>>,
    /// How its outcomes decode, learnt at its first call in this process.
    checker: OnceLock<Checker>,
}

/// Whether an outcome fits a function's return type, without the type.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Checker {
    /// A value (or `Result`) of the type this checks.
    Value(fn(OutcomeKind, &Payload) -> Result<(), CodecError>),
    /// The items of an iterator or stream, each of the type this checks.
    Items(fn(OutcomeKind, &Payload) -> Result<(), CodecError>),
}

impl Checker {
    /// Whether the outcome replays as the function's return type.
    pub(crate) fn check(self, kind: OutcomeKind, payload: &Payload) -> Result<(), CodecError> {
        match (self, kind) {
            // Any function can panic.
            (_, OutcomeKind::Panic) => Ok(()),
            (Checker::Value(check), kind) => check(kind, payload),
            (Checker::Items(check), OutcomeKind::Items) => {
                crate::sequence::decode_items(payload)?.iter().try_for_each(|(kind, item)| check(*kind, item))
            }
            (Checker::Items(_), kind) => Err(crate::codec::wrong_kind(kind)),
        }
    }
}

/// What `#[cacheow]` knows of the function it decorates.
#[doc(hidden)]
#[derive(Debug)]
pub struct FunctionMeta {
    /// Returns the type name of a function nested in the decorated one.
    pub probe: fn() -> &'static str,
    pub name: &'static str,
    pub module_path: &'static str,
    pub signature: &'static str,
    pub kind: FunctionKind,
    pub file: &'static str,
    pub line: u32,
    /// `#[cacheow(name = "...")]`: the id derives from it, not the path.
    pub stable_name: Option<&'static str>,
    /// `#[cacheow(version = N)]`: a new version has outcomes of its own.
    pub version: u32,
    /// `#[cacheow(record_panics = false)]` turns it off.
    pub record_panics: bool,
    /// Its calls may return different types (type parameters, `Self`):
    /// outcomes are then checked only when they replay.
    pub generic: bool,
}

/// What the function is: how it runs, and what it returns.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionKind {
    Sync,
    Async,
    /// Returns an `impl Iterator`: its items are the outcome.
    Iterator,
    /// Returns an `impl Stream` or a boxed one: its items are the outcome.
    Stream,
    /// A handle made by `handle!` for a function no `#[cacheow]` registered.
    Unregistered,
}

impl FunctionKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FunctionKind::Sync => "sync",
            FunctionKind::Async => "async",
            FunctionKind::Iterator => "iterator",
            FunctionKind::Stream => "stream",
            FunctionKind::Unregistered => "unregistered",
        }
    }
}

#[derive(Debug)]
struct Names {
    qualified: &'static str,
    id: &'static str,
    /// A method of a generic `impl` block: its return type may be the
    /// block's type parameter.
    in_generic_impl: bool,
}

/// Hit, miss and call counts of a function, over every process that used
/// the data dir.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Every call, in any mode.
    pub total_calls: u64,
    /// Calls answered from a recording in cache mode.
    pub cache_hits: u64,
    /// Calls in cache mode that found no recording and called the function.
    pub cache_misses: u64,
    /// Calls answered in mock mode.
    pub mock_calls: u64,
    /// Calls whose outcome was an error.
    pub errors: u64,
}

impl Function {
    #[doc(hidden)]
    pub const fn new(meta: FunctionMeta) -> Function {
        Function { meta, names: OnceLock::new(), state: OnceLock::new(), checker: OnceLock::new() }
    }

    /// The function id: 16 lowercase hex characters, the same in every run.
    ///
    /// It derives from the crate, module path, `Self` type and name of the
    /// function, so editing the body keeps it and renaming changes it.
    pub fn id(&self) -> &'static str {
        self.names().id
    }

    /// The function's path: `my_crate::client::Client::fetch`.
    pub fn name(&self) -> &'static str {
        self.names().qualified
    }

    /// The current mode; [`Mode::Default`] when cacheow is off.
    pub fn mode(&self) -> Mode {
        self.state().map(|state| state.mode()).unwrap_or_default()
    }

    /// Switches the mode, from the next call on, in this and every process
    /// that shares the data dir.
    pub fn set_mode(&self, mode: Mode) -> Result<(), Error> {
        self.manager()?.db().set_mode(self.id(), mode)
    }

    /// The artificial latency added to replayed calls (cache hits, mocks).
    pub fn latency(&self) -> Duration {
        self.state().map(|state| state.latency()).unwrap_or_default()
    }

    /// Sets the artificial latency added to replayed calls, to mimic the
    /// real function's. In an `async` function it does not block the executor.
    pub fn set_latency(&self, latency: Duration) -> Result<(), Error> {
        self.manager()?.db().set_latency(self.id(), latency)
    }

    /// The recorded outcomes, oldest first.
    pub fn outcomes(&self) -> Result<Vec<OutcomeInfo>, Error> {
        Ok(self.state()?.outcome_infos())
    }

    /// Replaces how the recorded outcomes take part in mock mode.
    pub fn set_mock_outcomes(&self, outcomes: impl IntoIterator<Item = MockOutcome>) -> Result<(), Error> {
        self.state()?;
        self.manager()?.db().set_mock_outcomes(self.id(), outcomes)
    }

    /// How the recorded outcomes take part in mock mode, as configured.
    pub fn mock_outcomes(&self) -> Result<Vec<MockOutcome>, Error> {
        self.manager()?.db().mock_outcomes(self.id())
    }

    /// The call counts of the function, over every process.
    pub fn stats(&self) -> Result<Stats, Error> {
        let db = self.manager()?.db();
        db.flush_writer(false);
        db.stats(self.id())
    }

    /// Adds an outcome by hand; its id. Once the function ran in this
    /// process, an outcome that does not fit its return type is refused.
    ///
    /// ```no_run
    /// # #[cacheow::cacheow] fn forecast(city: String) -> String { city }
    /// # fn main() -> Result<(), cacheow::Error> {
    /// use cacheow::{ManualOutcome, Mode};
    ///
    /// let f = cacheow::handle!(forecast);
    /// f.add_manual_outcome(ManualOutcome::returns("hail"))?;
    /// f.set_mode(Mode::Mock)?;
    /// # Ok(()) }
    /// ```
    pub fn add_manual_outcome(&self, outcome: crate::ManualOutcome) -> Result<String, Error> {
        // Loaded first, so that the function is registered.
        self.state()?;
        self.manager()?.db().add_manual_outcome(self.id(), outcome)
    }

    /// Deletes one outcome: its file, its row and its mock entry.
    pub fn delete_outcome(&self, outcome_id: &str) -> Result<(), Error> {
        self.state()?;
        self.manager()?.db().delete_outcome(self.id(), outcome_id)
    }

    /// Rebuilds the function's index from its outcome files alone: after
    /// editing, copying or deleting them by hand. A file that does not
    /// parse, or no longer fits the return type, is left out and reported.
    pub fn rebuild_index(&self) -> Result<crate::Rebuilt, Error> {
        self.state()?;
        self.manager()?.db().rebuild_index(self.id())
    }

    /// Caps how many outcomes the function keeps (`None`: no cap): past it,
    /// the outcomes seen longest ago are dropped.
    pub fn set_max_outcomes(&self, max: Option<u64>) -> Result<(), Error> {
        self.state()?;
        self.manager()?.db().set_max_outcomes(self.id(), max)
    }

    /// The function's cap on stored outcomes, if it has one.
    pub fn max_outcomes(&self) -> Result<Option<u64>, Error> {
        self.manager()?.db().max_outcomes(self.id())
    }

    /// Deletes every recorded outcome of the function.
    pub fn clear(&self) -> Result<(), Error> {
        // Loaded first, so that the function is registered.
        self.state()?;
        self.manager()?.db().delete_outcomes(self.id()).map(drop)
    }

    pub(crate) fn meta(&self) -> &FunctionMeta {
        &self.meta
    }

    pub(crate) fn is_registered(&self) -> bool {
        self.meta.kind != FunctionKind::Unregistered
    }

    fn names(&self) -> &Names {
        self.names.get_or_init(|| {
            let probe = (self.meta.probe)();
            // A generic block's parameters show as `_`: `app::Repo<_>::load`.
            let in_generic_impl = probe.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|part| part == "_");
            let qualified = ids::qualified_name(probe);
            let mut key = self.meta.stable_name.map_or_else(|| qualified.clone(), str::to_owned);
            if self.meta.version > 0 {
                key = format!("{key}#v{}", self.meta.version);
            }
            Names { id: leak(ids::function_id(&key)), qualified: leak(qualified), in_generic_impl }
        })
    }

    /// Notes how the function's outcomes decode, at its first call; not
    /// when its calls may return different types.
    pub(crate) fn learn(&self, checker: Checker) {
        if self.checker.get().is_none() && !self.meta.generic && !self.names().in_generic_impl {
            let _ = self.checker.set(checker);
        }
    }

    /// How its outcomes decode, once it was called in this process.
    pub(crate) fn checker(&self) -> Option<Checker> {
        self.checker.get().copied()
    }

    fn manager(&self) -> Result<&'static Manager, Error> {
        manager().ok_or(Error::Disabled)
    }

    /// The function's runtime state, loaded on first use.
    pub(crate) fn state(&self) -> Result<&Arc<FunctionState>, Error> {
        if let Some(state) = self.state.get() {
            return Ok(state);
        }
        let manager = self.manager()?;
        Ok(self.state.get_or_init(|| manager.load(self)))
    }
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function").field("name", &self.name()).field("id", &self.id()).finish()
    }
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// Every decorated function linked into the program, registered before
/// `main` by the constructor `#[cacheow]` generates.
static REGISTRY: Mutex<Vec<&'static Function>> = Mutex::new(Vec::new());

/// Handles made by `handle!` for paths no `#[cacheow]` registered.
static UNREGISTERED: Mutex<Option<HashMap<String, &'static Function>>> = Mutex::new(None);

pub(crate) fn register(function: &'static Function) {
    let mut registry = REGISTRY.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if !registry.iter().any(|known| std::ptr::eq(*known, function)) {
        registry.push(function);
    }
}

pub(crate) fn registered() -> Vec<&'static Function> {
    REGISTRY.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
}

/// The decorated function of this program with this id.
pub(crate) fn by_id(function_id: &str) -> Option<&'static Function> {
    registered().into_iter().find(|function| function.id() == function_id)
}

/// The handle of the function whose item type name is `type_name`.
pub(crate) fn by_type_name(type_name: &str) -> &'static Function {
    let qualified = ids::qualified_name(type_name);
    let found = registered().into_iter().find(|function| function.name() == qualified);
    found.unwrap_or_else(|| unregistered(qualified))
}

/// A handle for a function that no `#[cacheow]` registered in this program
/// (the `instrument` feature is off, or the path names another function):
/// it still knows its id, and controls what the data dir holds for it.
fn unregistered(qualified: String) -> &'static Function {
    let mut handles = UNREGISTERED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let handles = handles.get_or_insert_with(HashMap::new);
    if let Some(function) = handles.get(&qualified) {
        return function;
    }
    if cfg!(feature = "instrument") {
        crate::warn_once::warn_once(
            format!("unregistered:{qualified}"),
            format_args!("cacheow::handle!: `{qualified}` is not a #[cacheow] function of this program"),
        );
    }
    let names =
        Names { id: leak(ids::function_id(&qualified)), qualified: leak(qualified.clone()), in_generic_impl: false };
    let function: &'static Function = Box::leak(Box::new(Function {
        meta: FunctionMeta {
            probe: || "",
            name: names.qualified.rsplit("::").next().unwrap_or(names.qualified),
            module_path: "",
            signature: "",
            kind: FunctionKind::Unregistered,
            file: "",
            line: 0,
            stable_name: None,
            version: 0,
            record_panics: true,
            generic: false,
        },
        names: OnceLock::from(names),
        state: OnceLock::new(),
        checker: OnceLock::new(),
    }));
    handles.insert(qualified, function);
    function
}
