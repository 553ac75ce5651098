//! What `#[cacheow]` and `handle!` expand to call. Not a public API: it
//! changes without notice.

pub use crate::args::{Args, ArgsWriter, KeyArg, Uncaptured, capture_args};
pub use crate::call::{call_async, call_sync};
pub use crate::enable::is_active;
pub use crate::function::{Function, FunctionKind, FunctionMeta};
pub use crate::scope::check_uncaptured;
pub use crate::sequence::{Items, StreamItems, call_iter, call_stream};
pub use ctor;

/// How return values are recorded; see the module's documentation.
pub mod codec {
    pub use crate::codec::{
        Codec, CodecError, Encoded, Recordable, RecordableError, Tag, ViaAnyhowResult, ViaIoResult, ViaSerdeResult,
        ViaUnsupported, ViaUnsupportedResult, ViaValue,
    };
}

/// Test scopes and fixtures, for cacheow-test.
pub mod scope {
    pub use crate::files::write_atomic;
    pub use crate::fixture::{FixtureOutcome, canonical_json, function_dir_name, function_id_of_dir};
    pub use crate::outcome::{OutcomeKind, Payload};
    pub use crate::scope::{Decision, Entered, Hook, Recorded, Running, current, enter};
}

/// Registers a decorated function before `main`.
pub fn register(function: &'static Function) {
    crate::function::register(function);
}

/// The handle of the function `item` names, for `handle!`.
pub fn handle_of<F>(item: &F) -> &'static Function {
    crate::function::by_type_name(std::any::type_name_of_val(item))
}

/// Starts cacheow with these settings, whatever the environment says: for
/// test harnesses that imply `CACHEOW_ENABLE=1`.
pub fn start_with(settings: crate::Settings) -> Result<&'static crate::Manager, crate::Error> {
    crate::manager::start_with(settings)
}

/// What the `cacheow` command line does to a data dir.
#[cfg(feature = "cli")]
pub mod admin {
    pub use crate::admin::*;
}

/// Serves the control panel over the settings' data dir until the process
/// ends: `cacheow serve`. `on_listen` gets its URL once it listens.
#[cfg(feature = "server")]
pub fn serve(settings: crate::Settings, on_listen: impl FnOnce(&str)) -> Result<(), crate::Error> {
    let serve_settings = settings.clone();
    let manager = crate::manager::start_with(crate::Settings { start_server: false, ..settings })?;
    crate::server::serve(manager.db(), &serve_settings, on_listen)
}

/// The control panel's routes over the running cacheow, for tests.
#[cfg(feature = "server")]
pub fn panel_router(settings: &crate::Settings) -> Result<axum::Router, crate::Error> {
    let manager = crate::manager().ok_or(crate::Error::Disabled)?;
    Ok(crate::server::router(manager.db(), crate::server::Access::from_settings(settings)?))
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
