//! Development-only recording, caching and mocking of expensive functions.
//!
//! Add `#[cacheow]` to a function and run with `CACHEOW_ENABLE=1`: every
//! call's outcome is recorded in a data dir (an SQLite index and one
//! readable JSON file per outcome), and each function runs in one of three
//! [`Mode`]s, switched at runtime from code, from another process or from
//! the control panel:
//!
//! - [`Mode::Default`]: call the function, record every outcome;
//! - [`Mode::Cache`]: replay the outcome recorded for the same arguments,
//!   call the function only on a miss;
//! - [`Mode::Mock`]: never call it; replay recorded outcomes, weighted.
//!
//! ```no_run
//! use cacheow::{cacheow, Mode};
//!
//! #[cacheow]
//! fn slow_square(n: u64) -> u64 {
//!     std::thread::sleep(std::time::Duration::from_millis(100));
//!     n * n
//! }
//!
//! # fn main() -> Result<(), cacheow::Error> {
//! assert_eq!(slow_square(3), 9); // recorded
//! cacheow::handle!(slow_square).set_mode(Mode::Cache)?;
//! assert_eq!(slow_square(3), 9); // replayed, without the 100 ms
//! # Ok(()) }
//! ```
//!
//! Without `CACHEOW_ENABLE=1` a decorated function behaves exactly as the
//! undecorated one: nothing touches the disk, no thread starts, and a call
//! costs one relaxed atomic load more. Without the `instrument` feature (on
//! by default) the attribute compiles to the function as written.
//!
//! # The control panel
//!
//! With the `server` feature (on by default), cacheow also starts a local
//! web panel, on `127.0.0.1:8765` unless `CACHEOW_SERVER_HOST` and
//! `CACHEOW_SERVER_PORT` say otherwise, to switch modes, set latencies,
//! weight mock outcomes and read, add or edit outcomes, from a browser or
//! with the Python cacheow's JSON API. [`Manager::panel_url`] gives its
//! address; `CACHEOW_START_SERVER=0` keeps it off.
//!
//! # Sharing recordings
//!
//! With the `redis` feature (`redis-tls` for `rediss://` URLs) and
//! `CACHEOW_REDIS_URL` set, a Redis server is a second tier shared by a
//! team's machines and CI runners: what one records is pushed in the
//! background, and a cache-mode miss elsewhere asks Redis for it within
//! `CACHEOW_REDIS_BUDGET_MS` before calling the function
//! ([`CallStatus::SharedHit`]). The data dir stays the first tier; modes
//! and deletions stay local. Redis failing never fails a call.
//!
//! # What can be decorated
//!
//! Free functions, methods (`&self` and `&mut self` are not part of the
//! key), `async fn`s (in trait impls too) and generic functions. A function
//! returning `impl Iterator` or a stream has its items recorded as they are
//! consumed, and replays them; a panic of the function's body (not one
//! raised while its iterator is consumed) is recorded with its message and
//! location, and replays as a panic. `#[cacheow(name = "...")]` keeps a
//! function's id across renames, `#[cacheow(version = N)]` starts a new set
//! of outcomes, and `#[cacheow(record_panics = false)]` lets panics through. Arguments must implement
//! `serde::Serialize` (or be left out of the key with `#[cacheow(skip)]`)
//! and the return type `Serialize + DeserializeOwned`; a function returning
//! `Result<T, E>` records `Err` as an error outcome and replays it as `Err`,
//! for serde errors, [`std::io::Error`], `Box<dyn Error + Send + Sync>`
//! and, with the `anyhow` feature, `anyhow::Error`. A type that cannot be recorded is a compile error that
//! points at it:
//!
//! ```compile_fail
//! struct Connection;
//!
//! #[cacheow::cacheow]
//! fn query(conn: Connection) -> u32 { 1 } // `Connection` is not `Serialize`
//! ```
//!
//! ```
//! # struct Connection;
//! #[cacheow::cacheow]
//! fn query(#[cacheow(skip)] conn: &Connection, id: u32) -> u32 { id }
//! ```
//!
//! # A dev tool never breaks the program it instruments
//!
//! A failure inside cacheow (an unwritable data dir, a corrupt recording)
//! logs a `tracing` warning and the function returns its real result. The
//! panics are documented: mock mode with nothing recorded to replay, and a
//! recorded panic replayed.

// The layers, each using only those below it: `model`, then `store`,
// `runtime`, `panel`, and on top the composition root (`manager`) with the
// public faces over it (`db`, `handle`, `admin`). The README's
// "Development" section draws them.
pub mod admin;
mod by_args;
mod db;
mod handle;
mod manager;
mod model;
#[cfg(feature = "server")]
mod panel;
mod policy_control;
mod runtime;
mod store;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// What cacheow-test needs of cacheow: **unstable**, for cacheow-test
/// alone; it changes without notice.
#[doc(hidden)]
#[path = "harness.rs"]
pub mod __harness;

pub use cacheow_macros::cacheow;
pub use db::Db;
pub use manager::{Bound, Manager, manager};
pub use model::error::Error;
pub use model::event::Stats;
pub use model::latency::MAX_LATENCY;
pub use model::manual::ManualOutcome;
pub use model::mock::MockOutcome;
pub use model::mode::Mode;
pub use model::outcome::{OutcomeInfo, OutcomeKind};
pub use model::policy::Entry;
pub use model::settings::Settings;
pub use model::status::{CallStatus, last_status};
pub use policy_control::clear_tag;
pub use runtime::function::Function;
pub use runtime::manage::Rebuilt;
pub use runtime::request::{bypass, bypass_async, max_age, max_age_async, refresh, refresh_async};
pub use store::files::CorruptFile;

/// The [`Function`] handle of a decorated function, by its path.
///
/// ```no_run
/// # use cacheow::cacheow;
/// # mod module { #[cacheow::cacheow] pub fn f() -> u8 { 1 } }
/// # struct Client;
/// # impl Client { #[cacheow] fn fetch(&self, id: u32) -> u32 { id } }
/// # fn main() -> Result<(), cacheow::Error> {
/// let f = cacheow::handle!(module::f);
/// f.set_mode(cacheow::Mode::Mock)?;
/// let fetch = cacheow::handle!(Client::fetch);
/// println!("{} is {}", fetch.name(), fetch.id());
/// # Ok(()) }
/// ```
///
/// A generic function needs its type arguments: `handle!(parse::<u32>)`;
/// every instantiation is the same function.
#[macro_export]
macro_rules! handle {
    ($($path:tt)+) => {
        $crate::__private::handle_of(&$($path)+)
    };
}
