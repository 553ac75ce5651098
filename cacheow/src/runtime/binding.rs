//! What the decorated calls of a thread answer to: a test's scope
//! (cacheow-test's fixtures), a runtime bound to the thread
//! (`Manager::bind`), or, when neither, the process-wide runtime.

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

thread_local! {
    static CURRENT: RefCell<Option<Binding>> = const { RefCell::new(None) };
}

/// The binding of this thread.
pub(crate) fn current() -> Option<Binding> {
    CURRENT.with(|current| current.borrow().clone())
}

/// The test scope entered on this thread, if one is.
pub fn hook() -> Option<Arc<dyn Hook>> {
    match current()? {
        Binding::Scope(hook) => Some(hook),
        Binding::Runtime(_) => None,
    }
}

/// Enters a test's scope on this thread until the guard drops.
pub fn enter(hook: Arc<dyn Hook>) -> Entered {
    Entered(bind(Binding::Scope(hook)))
}

/// Leaves the scope when dropped, restoring the one entered before.
#[must_use = "the scope is left when this guard drops"]
pub struct Entered(#[allow(dead_code)] Rebound);

/// The runtime bound to this thread, if one is.
pub(crate) fn runtime() -> Option<Arc<Runtime>> {
    match current()? {
        Binding::Runtime(runtime) => Some(runtime),
        Binding::Scope(_) => None,
    }
}

/// Binds this thread until the guard drops, which restores what it was
/// bound to before.
pub(crate) fn bind(binding: Binding) -> Rebound {
    let counted = matches!(binding, Binding::Runtime(_));
    if counted {
        enable::bound();
    }
    let previous = CURRENT.with(|current| current.borrow_mut().replace(binding));
    Rebound { previous, counted }
}

/// Restores the thread's previous binding when dropped.
#[must_use = "the thread is unbound when this guard drops"]
pub(crate) struct Rebound {
    previous: Option<Binding>,
    counted: bool,
}

impl Drop for Rebound {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // Taken out before it drops: dropping a runtime may flush it.
        let bound = CURRENT.with(|current| std::mem::replace(&mut *current.borrow_mut(), previous));
        drop(bound);
        if self.counted {
            enable::unbound();
        }
    }
}
