//! The writer's queue, bounded by the bytes it holds rather than by a
//! number of entries: a burst of small outcomes fits in it whole, and only
//! a burst of many megabytes makes recording wait for the disk.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// The most bytes of outcomes waiting for the writer. Past it, recording
/// waits for the disk; a crash loses at most this much.
pub(crate) const QUEUE_BYTES: usize = 64 * 1024 * 1024;

/// How many bytes wait for the writer, and where a sender waits for room.
#[derive(Default)]
pub(super) struct Queued {
    bytes: AtomicUsize,
    room: Mutex<()>,
    freed: Condvar,
}

impl Queued {
    /// Counts `size` more bytes; waits first while the queue is full of
    /// others' bytes and `gone` says the writer still runs. The caller
    /// holds no lock of cacheow's: waiting here blocks nobody else.
    pub(super) fn take(&self, size: usize, gone: impl Fn() -> bool) {
        let before = self.bytes.fetch_add(size, Ordering::AcqRel);
        if before + size <= QUEUE_BYTES || before == 0 {
            return;
        }
        let mut guard = self.room.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        loop {
            let queued = self.bytes.load(Ordering::Acquire);
            // An outcome larger than the whole queue goes once the rest did.
            if queued <= QUEUE_BYTES || queued <= size || gone() {
                return;
            }
            guard = match self.freed.wait_timeout(guard, Duration::from_millis(50)) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Gives back the bytes of what was written (or dropped).
    pub(super) fn give(&self, size: usize) {
        if size == 0 {
            return;
        }
        let before = self.bytes.fetch_sub(size, Ordering::AcqRel);
        if before > QUEUE_BYTES {
            let _guard = self.room.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            self.freed.notify_all();
        }
    }

    /// Wakes every sender: the writer is gone.
    pub(super) fn wake_all(&self) {
        let _guard = self.room.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_full_queue_waits_for_room_and_a_gone_writer_releases_it() {
        let queued = Arc::new(Queued::default());
        queued.take(QUEUE_BYTES, || false);
        let waiting = {
            let queued = Arc::clone(&queued);
            std::thread::spawn(move || queued.take(10, || false))
        };
        std::thread::sleep(Duration::from_millis(100));
        assert!(!waiting.is_finished(), "waits while the queue is full");
        queued.give(QUEUE_BYTES);
        waiting.join().expect("room was made");
        queued.give(10);
        // A writer that is gone never makes room: the sender goes on.
        queued.take(QUEUE_BYTES, || false);
        queued.take(10, || true);
    }
}
