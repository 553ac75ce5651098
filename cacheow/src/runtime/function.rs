//! The handle of a decorated function: what `#[cacheow]` knows of it, its
//! names and id, how its outcomes decode, and its state in the process-wide
//! runtime once it was used. Its control methods (`set_mode`, `outcomes`,
//! ...) are the public API, on top of the runtime: see `crate::handle`.

use std::sync::{Arc, OnceLock};

use xxhash_rust::xxh3::Xxh3;

use crate::model::codec::{CodecError, wrong_kind};
use crate::model::ids;
use crate::model::items;
use crate::model::kind::FunctionKind;
use crate::model::outcome::{OutcomeKind, Payload};
use crate::model::policy::Policy;
use crate::model::report;
use crate::runtime::state::FunctionState;
use crate::store::functions::Registration;

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
    /// Its state in the process-wide runtime, once loaded there.
    state: OnceLock<Arc<FunctionState>>,
    /// How its outcomes decode, learnt at its first call in this process.
    checker: OnceLock<Checker>,
    /// The name of its return type, learnt at its first call in this process.
    return_type: OnceLock<&'static str>,
    /// Its body hash with what it depends on, once asked for.
    body_hash: OnceLock<&'static str>,
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
    /// `ttl`, `serve_stale`, `cache_errors`, `tags`, `dedupe`, `wait`, `cleanup`.
    pub policy: Policy,
    /// The hash of its body's tokens (16 hex digits), which the outcomes it
    /// shares carry: an outcome recorded by another body can be told.
    pub body_hash: &'static str,
    /// `#[cacheow(depends(..))]`: what its body hash folds in.
    pub depends: &'static [Dependency],
    /// `#[cacheow(verify = "exact")]`: a verify run of cacheow-test compares
    /// its values exactly, not their shape.
    pub verify_exact: bool,
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
                items::decode(payload)?.iter().try_for_each(|(kind, item)| check(*kind, item))
            }
            (Checker::Items(_), kind) => Err(wrong_kind(kind)),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Names {
    pub(crate) qualified: &'static str,
    pub(crate) id: &'static str,
    /// A method of a generic `impl` block: its return type may be the
    /// block's type parameter.
    pub(crate) in_generic_impl: bool,
}

impl Function {
    #[doc(hidden)]
    pub const fn new(meta: FunctionMeta) -> Function {
        Function {
            meta,
            names: OnceLock::new(),
            state: OnceLock::new(),
            checker: OnceLock::new(),
            return_type: OnceLock::new(),
            body_hash: OnceLock::new(),
        }
    }

    /// A handle for a function known by its path alone.
    pub(crate) fn with_names(meta: FunctionMeta, names: Names) -> Function {
        Function {
            meta,
            names: OnceLock::from(names),
            state: OnceLock::new(),
            checker: OnceLock::new(),
            return_type: OnceLock::new(),
            body_hash: OnceLock::new(),
        }
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

    pub(crate) fn meta(&self) -> &FunctionMeta {
        &self.meta
    }

    /// The hash of its body, and of what it `depends` on: 16 hex digits.
    /// An outcome recorded by another body carries another.
    pub(crate) fn body_hash(&self) -> &'static str {
        self.body_hash.get_or_init(|| leak(folded(self, 0)))
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

    /// Notes how the function's outcomes decode and the name of its return
    /// type, at its first call; not when its calls may return different types.
    pub(crate) fn learn(&self, checker: Checker, return_type: &'static str) {
        if self.checker.get().is_none() && !self.meta.generic && !self.names().in_generic_impl {
            let _ = self.checker.set(checker);
            let _ = self.return_type.set(return_type);
        }
    }

    /// The name of its return type, once it was called in this process.
    pub(crate) fn return_type(&self) -> Option<&'static str> {
        self.return_type.get().copied()
    }

    /// How its outcomes decode, once it was called in this process.
    pub(crate) fn checker(&self) -> Option<Checker> {
        self.checker.get().copied()
    }

    /// Its state in the process-wide runtime, which `load` loads there on
    /// first use; `None` when cacheow is off.
    pub(crate) fn global_state(
        &self,
        load: impl FnOnce(&Function) -> Option<Arc<FunctionState>>,
    ) -> Option<&Arc<FunctionState>> {
        if let Some(state) = self.state.get() {
            return Some(state);
        }
        // Two threads may load at once: the runtime gives both one state.
        let state = load(self)?;
        Some(self.state.get_or_init(|| state))
    }

    /// Its row in the `functions` table.
    pub(crate) fn registration(&self) -> Registration<'_> {
        let meta = &self.meta;
        Registration {
            id: self.id(),
            name: meta.name,
            qualified_name: self.name(),
            module_path: meta.module_path,
            crate_name: ids::crate_of(self.name()),
            kind: meta.kind,
            signature: meta.signature,
            source: format!("{}:{}", meta.file, meta.line),
            policy: Some((&meta.policy).into()),
            body_hash: self.is_registered().then(|| self.body_hash()),
        }
    }
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function").field("name", &self.name()).field("id", &self.id()).finish()
    }
}

/// How deep `depends` is followed: deeper is a cycle (`a` depends on `b`,
/// which depends on `a`), whose hash stops there.
const MAX_DEPTH: u32 = 16;

/// What else a function's behaviour depends on: `#[cacheow(depends(helper,
/// path = "prompts/system.txt"))]`.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Dependency {
    /// Another decorated function, whose body hash is folded in.
    Function(fn() -> &'static Function),
    /// A file of the crate, read when the crate was built.
    File { path: &'static str, content: &'static [u8] },
}

/// The body hash of `function` at `depth` in a chain of `depends`, 16 hex
/// digits: the macro's alone when it depends on nothing, so that outcomes
/// shared before keep theirs.
fn folded(function: &Function, depth: u32) -> String {
    let meta = function.meta();
    if meta.depends.is_empty() || depth >= MAX_DEPTH {
        return meta.body_hash.to_owned();
    }
    let mut hasher = Xxh3::new();
    hasher.update(meta.body_hash.as_bytes());
    for dependency in meta.depends {
        match dependency {
            Dependency::Function(handle) => {
                let dependency = handle();
                if !dependency.is_registered() {
                    warn_unseen(function, dependency);
                }
                hasher.update(b"\0f");
                hasher.update(folded(dependency, depth + 1).as_bytes());
            }
            Dependency::File { path, content } => {
                hasher.update(b"\0p");
                hasher.update(path.as_bytes());
                hasher.update(b"\0");
                hasher.update(content);
            }
        }
    }
    format!("{:016x}", hasher.digest())
}

/// `depends` names a function no `#[cacheow]` registered: the hash folds
/// in nothing of its body.
fn warn_unseen(function: &Function, dependency: &Function) {
    let (name, unseen) = (function.name(), dependency.name());
    report::warn_once(
        format!("depends:{name}:{unseen}"),
        format_args!(
            "`{name}` depends on `{unseen}`, which is not a #[cacheow] function of this program: a change to its \
             body goes unseen. Decorate it, or name the file it is in with depends(path = \"...\")"
        ),
    );
}

pub(crate) fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}
