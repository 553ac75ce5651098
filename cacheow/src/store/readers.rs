//! Connections for reads, apart from the control connection and its lock:
//! in WAL mode they read while another connection writes or waits to, so a
//! read (a page of the panel, a query of the API) never waits behind a
//! write that waits for another process.

use std::path::PathBuf;
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

use crate::model::error::Error;
use crate::store::schema;

/// The most idle connections kept for the next reads.
const KEPT: usize = 4;
/// The page cache of each, in KiB, as `PRAGMA cache_size` takes it.
const CACHE_KIB: i64 = -256;

pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub(crate) fn new(data_dir: &std::path::Path) -> Readers {
        Readers { path: data_dir.join("cacheow.db"), idle: Mutex::new(Vec::new()) }
    }

    /// Runs `read` in one read transaction: what it reads is one state of
    /// the database.
    pub(crate) fn read<T>(&self, read: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
        let idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                // One thread uses a connection at a time (it is not `Sync`):
                // SQLite's own mutex would cost a lock per column read.
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let conn = Connection::open_with_flags(&self.path, flags)?;
                conn.busy_timeout(schema::BUSY_TIMEOUT)?;
                // Its pages come from the operating system's cache: a big
                // cache of its own, kept while idle, is memory for nothing.
                conn.pragma_update(None, "cache_size", CACHE_KIB)?;
                conn
            }
        };
        let result = conn.unchecked_transaction().map_err(Error::from).and_then(|tx| read(&tx));
        let mut idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if idle.len() < KEPT {
            idle.push(conn);
        }
        result
    }
}
