//! The model: the values cacheow works with, and nothing of what it does
//! with them. Ids, modes, outcomes and their encodings, arguments, settings
//! and errors. It depends on no other layer: the store, the runtime and the
//! panel all build on it.

pub(crate) mod args;
pub(crate) mod canonical;
pub(crate) mod codec;
pub(crate) mod env;
pub(crate) mod error;
pub(crate) mod event;
pub(crate) mod ids;
pub(crate) mod items;
pub mod json_diff;
pub(crate) mod kind;
pub(crate) mod latency;
pub(crate) mod manual;
pub(crate) mod mock;
pub(crate) mod mode;
pub(crate) mod outcome;
pub(crate) mod policy;
pub(crate) mod redact;
pub(crate) mod report;
pub(crate) mod secret_url;
pub(crate) mod settings;
pub(crate) mod signal;
pub(crate) mod status;
pub(crate) mod time;
