//! A future polled inside a guard: what a thread-local says during a call
//! (a body running, a per-call request, a key in flight) follows the task
//! onto whichever thread polls it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// `inner`, with the guard `enter` makes held during each of its polls.
    pub(crate) struct Polled<E, F> {
        enter: E,
        #[pin]
        inner: F,
    }
}

impl<E, F> Polled<E, F> {
    pub(crate) fn new(enter: E, inner: F) -> Self {
        Polled { enter, inner }
    }
}

impl<G, E: Fn() -> G, F: Future> Future for Polled<E, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _guard = (this.enter)();
        this.inner.poll(cx)
    }
}
