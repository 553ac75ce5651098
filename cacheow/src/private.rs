//! What `#[cacheow]` and `handle!` expand to call. Not a public API: it
//! changes without notice. Decorated calls run in the process-wide runtime,
//! which the composition root starts on first use, unless their thread is
//! bound to another.

use std::future::Future;

use futures_core::Stream;

pub use crate::model::args::{Args, ArgsWriter, KeyArg, Uncaptured, capture_args};
pub use crate::model::kind::FunctionKind;
pub use crate::model::policy::{Dedupe, OnChange, Policy, Rules};
pub use crate::runtime::enable::is_active;
pub use crate::runtime::function::{Dependency, Function, FunctionMeta};
pub use crate::runtime::scope::check_uncaptured;
pub use crate::runtime::sequence::{Items, StreamItems};
pub use ctor;

use crate::manager::global_runtime;
use crate::model::codec::Codec;
use crate::runtime::{call, registry, sequence};

/// How return values are recorded; see the module's documentation.
pub mod codec {
    pub use crate::model::codec::{
        Codec, CodecError, Recordable, RecordableError, Tag, ViaAnyhowResult, ViaBoxedResult, ViaIoResult,
        ViaSerdeResult, ViaUnsupported, ViaUnsupportedResult, ViaValue,
    };
}

/// Calls a synchronous function through cacheow.
#[track_caller]
pub fn call_sync<R>(
    function: &'static Function,
    args: Args,
    codec: Codec<R>,
    rules: Rules<R>,
    body: impl FnOnce() -> R,
) -> R {
    call::call_sync(function, args, codec, rules, body, global_runtime)
}

/// Calls a synchronous function with `serve_stale` through cacheow.
#[track_caller]
pub fn call_sync_stale<R: Send + 'static>(
    function: &'static Function,
    args: Args,
    codec: Codec<R>,
    rules: Rules<R>,
    body: impl FnOnce() -> R + Send + 'static,
) -> R {
    call::call_sync_stale(function, args, codec, rules, body, global_runtime)
}

/// Calls an `async` function through cacheow.
pub async fn call_async<R, F: Future<Output = R>>(
    function: &'static Function,
    args: Args,
    codec: Codec<R>,
    rules: Rules<R>,
    body: F,
) -> R {
    call::call_async(function, args, codec, rules, body, global_runtime).await
}

/// Calls an `async` function with `serve_stale` through cacheow.
pub async fn call_async_stale<R: Send + 'static, F: Future<Output = R> + Send + 'static>(
    function: &'static Function,
    args: Args,
    codec: Codec<R>,
    rules: Rules<R>,
    body: F,
) -> R {
    call::call_async_stale(function, args, codec, rules, body, global_runtime).await
}

/// Calls a function that returns an iterator.
pub fn call_iter<I: Iterator<Item = T>, T>(
    function: &'static Function,
    args: Args,
    item: Codec<T>,
    body: impl FnOnce() -> I,
) -> Items<I, T> {
    sequence::call_iter(function, args, item, body, global_runtime)
}

/// Calls a function that returns a stream.
pub fn call_stream<S: Stream<Item = T>, T>(
    function: &'static Function,
    args: Args,
    item: Codec<T>,
    body: impl FnOnce() -> S,
) -> StreamItems<S, T> {
    sequence::call_stream(function, args, item, body, global_runtime)
}

/// `cache_if = f`: a `fn(&R) -> bool`; another signature is a type error
/// at `f` that names the one expected.
pub const fn cache_if<R>(keep: fn(&R) -> bool) -> Option<fn(&R) -> bool> {
    Some(keep)
}

/// `ttl_from = f`: a `fn(&R) -> std::time::Duration`.
pub const fn ttl_from<R>(ttl_of: fn(&R) -> std::time::Duration) -> Option<fn(&R) -> std::time::Duration> {
    Some(ttl_of)
}

/// `validate = f`: a `fn(&cacheow::Entry<'_, R>) -> bool`.
pub const fn validate<R>(still_good: fn(&crate::Entry<'_, R>) -> bool) -> Option<fn(&crate::Entry<'_, R>) -> bool> {
    Some(still_good)
}

/// `serve_stale` refreshes after the caller has moved on: its arguments
/// must be sent to another thread.
#[diagnostic::on_unimplemented(
    message = "`serve_stale` needs arguments that are owned, `Send` and `'static`: `{Self}` is not `Send`",
    label = "the refresh runs on another thread, after the caller has moved on",
    note = "pass owned values (`String`, not `&str`; `Arc`, not `Rc`), or drop `serve_stale`"
)]
pub trait StaleArg: Send + 'static {}

impl<T: Send + 'static> StaleArg for T {}

/// Checks, at compile time, that `serve_stale` can refresh with this argument.
pub fn stale_arg<T: StaleArg>(_: &T) {}

/// Registers a decorated function before `main`.
pub fn register(function: &'static Function) {
    registry::register(function);
}

/// The handle of the function `item` names, for `handle!`.
pub fn handle_of<F>(item: &F) -> &'static Function {
    registry::by_type_name(std::any::type_name_of_val(item))
}

/// The handle of the function `item` names, for `depends`: one that no
/// `#[cacheow]` registered is warned of when the body hash is folded.
pub fn dependency_of<F>(item: &F) -> &'static Function {
    registry::lookup(std::any::type_name_of_val(item))
}

/// Keeps the instrumented version of a function when the `instrument`
/// feature is on, the function as written otherwise.
#[cfg(feature = "instrument")]
#[macro_export]
#[doc(hidden)]
macro_rules! __cacheow_instrument {
    (plain { $($plain:tt)* } instrumented { $($instrumented:tt)* }) => { $($instrumented)* };
}

#[cfg(not(feature = "instrument"))]
#[macro_export]
#[doc(hidden)]
macro_rules! __cacheow_instrument {
    (plain { $($plain:tt)* } instrumented { $($instrumented:tt)* }) => { $($plain)* };
}

/// Registers the function in the static `$function` before `main`.
#[macro_export]
#[doc(hidden)]
macro_rules! __cacheow_register {
    ($function:ident) => {
        $crate::__private::ctor::declarative::ctor! {
            #[ctor(unsafe, anonymous)]
            fn __cacheow_register() {
                $crate::__private::register(&$function);
            }
        }
    };
}

pub use crate::__cacheow_instrument as instrument;
pub use crate::__cacheow_register as register;
