//! What the decorated calls of a thread answer to: a test's scope
//! (cacheow-test's fixtures), a runtime bound to the thread
//! (`Manager::bind`), or, when neither, the process-wide runtime. A scope
//! comes first, whichever was entered last.

use std::cell::RefCell;
use std::sync::Arc;

use crate::runtime::Runtime;
use crate::runtime::enable;
use crate::runtime::hook::Hook;

/// What this thread's calls answer to, instead of the process-wide runtime.
#[derive(Clone)]
pub(crate) enum Binding {
    /// A test's scope.
    Scope(Arc<dyn Hook>),
    /// A runtime of its own, over another data dir.
    Runtime(Arc<Runtime>),
}

/// A thread's bindings: one of each kind, each restored when the guard that
/// set it drops.
#[derive(Default)]
struct Bindings {
    scope: Option<Arc<dyn Hook>>,
    runtime: Option<Arc<Runtime>>,
}

thread_local! {
    static CURRENT: RefCell<Bindings> = RefCell::new(Bindings::default());
}

/// Reads this thread's bindings; none once the thread is ending and they
/// are gone (a call made from another thread-local's destructor).
fn read<T>(read: impl FnOnce(&Bindings) -> Option<T>) -> Option<T> {
    CURRENT.try_with(|current| current.try_borrow().ok().and_then(|current| read(&current))).ok().flatten()
}

/// The binding of this thread: its test scope, else its runtime.
pub(crate) fn current() -> Option<Binding> {
    read(|current| match (&current.scope, &current.runtime) {
        (Some(hook), _) => Some(Binding::Scope(Arc::clone(hook))),
        (None, Some(runtime)) => Some(Binding::Runtime(Arc::clone(runtime))),
        (None, None) => None,
    })
}

/// The test scope entered on this thread, if one is.
pub fn hook() -> Option<Arc<dyn Hook>> {
    read(|current| current.scope.clone())
}

/// The runtime bound to this thread, if one is.
pub(crate) fn runtime() -> Option<Arc<Runtime>> {
    read(|current| current.runtime.clone())
}

/// Enters a test's scope on this thread until the guard drops.
pub fn enter(hook: Arc<dyn Hook>) -> Entered {
    Entered(bind(Binding::Scope(hook)))
}

/// Leaves the scope when dropped, restoring the one entered before.
#[must_use = "the scope is left when this guard drops"]
pub struct Entered(#[allow(dead_code)] Rebound);

/// Binds this thread until the guard drops, which restores what it was
/// bound to before.
/// A thread that is ending, whose bindings are gone, stays unbound.
pub(crate) fn bind(binding: Binding) -> Rebound {
    let previous = CURRENT.try_with(|current| {
        let mut current = current.borrow_mut();
        match binding {
            Binding::Scope(hook) => Previous::Scope(current.scope.replace(hook)),
            Binding::Runtime(runtime) => {
                enable::bound();
                Previous::Runtime(current.runtime.replace(runtime))
            }
        }
    });
    Rebound { previous: previous.ok() }
}

/// Restores the thread's previous binding of one kind when dropped.
#[must_use = "the thread is unbound when this guard drops"]
pub(crate) struct Rebound {
    previous: Option<Previous>,
}

/// What a binding replaced: the slot of its kind.
enum Previous {
    Scope(Option<Arc<dyn Hook>>),
    Runtime(Option<Arc<Runtime>>),
}

impl Drop for Rebound {
    fn drop(&mut self) {
        let Some(previous) = self.previous.take() else { return };
        // Taken out of the thread-local before it drops: dropping a runtime
        // flushes it, which may take a while.
        let counted = matches!(previous, Previous::Runtime(_));
        let replaced = CURRENT.try_with(|current| {
            let mut current = current.borrow_mut();
            match previous {
                Previous::Scope(scope) => Previous::Scope(std::mem::replace(&mut current.scope, scope)),
                Previous::Runtime(runtime) => Previous::Runtime(std::mem::replace(&mut current.runtime, runtime)),
            }
        });
        if counted {
            enable::unbound();
        }
        drop(replaced);
    }
}
