//! A call that runs its function: the body, with its panics caught when
//! they are recorded, then its outcome to the sink, then the marks of its
//! key in flight released.

use std::future::Future;
use std::time::Instant;

use crate::model::args::Args;
use crate::model::codec::Codec;
use crate::model::outcome::Recorded;
use crate::model::policy::Rules;
use crate::runtime::function::Function;
use crate::runtime::in_flight::{Joined, Lead};
use crate::runtime::lease::Claim;
use crate::runtime::panics::{self, CatchPanic};
use crate::runtime::scope::{self, InBody};
use crate::runtime::sink::Sink;

/// A call that runs the function, with where its outcome goes, the mark of
/// its key in flight when it leads one, and the lock of its key across
/// processes when it holds it (`dedupe = "processes"`).
pub(crate) struct Run {
    pub(crate) sink: Sink,
    pub(crate) joined: Option<Joined>,
    pub(crate) claim: Claim,
}

impl Run {
    /// A run of `sink`, with the mark it joined in its process.
    pub(crate) fn new(sink: Sink, joined: Option<Joined>) -> Run {
        Run { sink, joined, claim: Claim::None }
    }

    pub(crate) fn sync<R>(
        self,
        function: &Function,
        args: &Args,
        codec: Codec<R>,
        rules: Rules<R>,
        body: impl FnOnce() -> R,
    ) -> R {
        let started = Instant::now();
        let value = {
            let _in = InBody::enter();
            let _running = self.lead().map(Lead::running);
            if self.sink.records_panics(function) {
                panics::catch(body).unwrap_or_else(|caught| {
                    caught.record_and_resume(|outcome| self.sink.record(args, outcome, started))
                })
            } else {
                body()
            }
        };
        self.sink.record_value(function, args, codec, rules, started, &value);
        self.publish();
        value
    }

    pub(crate) async fn run_async<R, F: Future<Output = R>>(
        self,
        function: &Function,
        args: &Args,
        codec: Codec<R>,
        rules: Rules<R>,
        body: F,
    ) -> R {
        let started = Instant::now();
        let body = scope::in_body(body);
        let value = match self.lead() {
            Some(lead) => self.catching(function, args, started, lead.running_future(body)).await,
            None => self.catching(function, args, started, body).await,
        };
        self.sink.record_value(function, args, codec, rules, started, &value);
        self.publish();
        value
    }

    /// A verify run's call: runs the function for its outcome to be
    /// recorded (a panic too, which is not raised, even with
    /// `record_panics = false`), then returns the recorded `outcome`, as a
    /// replay does.
    #[track_caller]
    pub(crate) fn verify_sync<R>(
        self,
        function: &Function,
        args: &Args,
        codec: Codec<R>,
        rules: Rules<R>,
        body: impl FnOnce() -> R,
        outcome: &Recorded,
    ) -> R {
        let started = Instant::now();
        let sink = self.sink.clone_scope();
        // Recorded already when the function records its panics: then the
        // scope has forgotten the call, and this records nothing.
        if let (Err(caught), Some(sink)) = (panics::catch(|| self.sync(function, args, codec, rules, body)), sink) {
            sink.record(args, caught.outcome, started);
        }
        scope::replay(function, outcome, &codec.decode)
    }

    /// [`verify_sync`](Self::verify_sync) for an `async` function.
    pub(crate) async fn verify_async<R, F: Future<Output = R>>(
        self,
        function: &Function,
        args: &Args,
        codec: Codec<R>,
        rules: Rules<R>,
        body: F,
        outcome: &Recorded,
    ) -> R {
        let started = Instant::now();
        let sink = self.sink.clone_scope();
        if let (Err(caught), Some(sink)) =
            (CatchPanic::new(self.run_async(function, args, codec, rules, body)).await, sink)
        {
            sink.record(args, caught.outcome, started);
        }
        scope::replay(function, outcome, &codec.decode)
    }

    /// Releases the key's lock across processes once the outcome is in the
    /// database, where the other processes' calls waiting for it look.
    fn publish(self) {
        if let Claim::Held(lease) = self.claim {
            self.sink.flush_writes();
            drop(lease);
        }
    }

    async fn catching<R>(
        &self,
        function: &Function,
        args: &Args,
        started: Instant,
        body: impl Future<Output = R>,
    ) -> R {
        if !self.sink.records_panics(function) {
            return body.await;
        }
        match CatchPanic::new(body).await {
            Ok(value) => value,
            Err(caught) => caught.record_and_resume(|outcome| self.sink.record(args, outcome, started)),
        }
    }

    fn lead(&self) -> Option<&Lead> {
        match &self.joined {
            Some(Joined::Lead(lead)) => Some(lead),
            _ => None,
        }
    }
}
