//! The runtime through its public API, in one process: modes, keys, values,
//! latency, stats and the mock configuration.
//!
//! Every test has functions of its own, so tests running at once do not
//! share a mode.
#![allow(unsafe_code)] // the environment is set before `main`, on the only thread

mod apart;
#[path = "../support/arbitrary_json.rs"]
mod arbitrary_json;
mod control;
mod drift;
#[path = "../support/enable.rs"]
mod enable;
mod fuzz;
mod keys;
mod kinds;
mod management;
mod modes;
#[path = "../support/panics.rs"]
mod panics;
mod policy;
#[path = "../support/redis_server.rs"]
mod redis_server;
mod shared;
mod values;

/// What cacheow logged, for the tests of its warnings.
static LOG: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        LOG.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The warnings logged so far.
fn warnings() -> String {
    let log = LOG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    String::from_utf8_lossy(&log).lines().filter(|line| line.contains("WARN")).collect::<Vec<_>>().join("\n")
}

/// cacheow reads its settings on first use: set them before anything runs.
#[ctor::ctor(unsafe)]
fn enable_cacheow() {
    tracing_subscriber::fmt().with_writer(|| LogWriter).with_ansi(false).init();
    // SAFETY: before `main`, on the only thread.
    unsafe { enable::enable_cacheow("runtime-") }
}

/// The data dir of this test binary.
fn data_dir() -> std::path::PathBuf {
    cacheow::manager().expect("cacheow is on").settings().data_dir.clone()
}

/// The file of an outcome, once everything is written.
fn outcome_file(function: &cacheow::Function, outcome_id: &str) -> std::path::PathBuf {
    cacheow::manager().expect("cacheow is on").flush();
    data_dir().join("functions").join(function.id()).join("outcomes").join(format!("{outcome_id}.json"))
}
