//! A manager opened apart, over a data dir of its own: what the threads
//! bound to it call is recorded there, and nowhere else; other threads,
//! and the thread once unbound, use the process-wide one.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

use cacheow::{Error, Manager, Mode, Settings, cacheow, handle};

static RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn isolated(n: u64) -> u64 {
    RAN.fetch_add(1, SeqCst);
    n + 1
}

fn outcome_files(data_dir: &Path, function_id: &str) -> usize {
    let dir = data_dir.join("functions").join(function_id).join("outcomes");
    std::fs::read_dir(dir).map(|entries| entries.count()).unwrap_or(0)
}

#[test]
fn a_bound_thread_records_into_its_own_data_dir() -> Result<(), Error> {
    let dir = tempfile::tempdir().map_err(|source| Error::Io { action: "create", path: "tmp".into(), source })?;
    let mut settings = Settings::default();
    settings.data_dir = dir.path().join("apart");
    let apart = Manager::open(settings);
    let f = handle!(isolated);
    let global = cacheow::manager().expect("cacheow is on in this binary");
    {
        let _bound = apart.bind();
        assert_eq!(isolated(1), 2);
        f.set_mode(Mode::Cache)?;
        assert_eq!(isolated(1), 2, "replayed from the bound data dir");
        assert_eq!(RAN.load(SeqCst), 1);
        assert_eq!(f.mode(), Mode::Cache);
        // Another thread is not bound: it uses the process-wide runtime.
        let elsewhere = std::thread::spawn(|| (handle!(isolated).mode(), isolated(1))).join().expect("joins");
        assert_eq!(elsewhere, (Mode::Default, 2));
        assert_eq!(RAN.load(SeqCst), 2, "called: nothing recorded there yet");
    }
    // Unbound, the thread is back on the process-wide runtime.
    assert_eq!(f.mode(), Mode::Default);
    assert_eq!(apart.db().mode(f.id())?, Mode::Cache, "the mode was set in the bound data dir");
    global.flush();
    assert_eq!(outcome_files(&global.settings().data_dir, f.id()), 1, "the other thread's call");
    drop(apart);
    assert_eq!(outcome_files(&dir.path().join("apart"), f.id()), 1, "on disk once the manager is dropped");
    Ok(())
}
