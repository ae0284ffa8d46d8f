//! [`ReadLimit`]: a counting semaphore bounding how many source reads a proxy runs at once.

use std::sync::{Condvar, Mutex};

/// At most `max` holders at once; others wait.
pub(crate) struct ReadLimit {
    max: usize,
    used: Mutex<usize>,
    cv: Condvar,
}

/// One admitted read; frees its slot when dropped.
pub(crate) struct Permit<'a>(&'a ReadLimit);

impl ReadLimit {
    pub(crate) fn new(max: usize) -> Self {
        ReadLimit {
            max: max.max(1),
            used: Mutex::new(0),
            cv: Condvar::new(),
        }
    }

    /// Waits for a free slot.
    pub(crate) fn acquire(&self) -> Permit<'_> {
        let mut u = self.used.lock().unwrap_or_else(|p| p.into_inner());
        while *u >= self.max {
            u = self.cv.wait(u).unwrap_or_else(|p| p.into_inner());
        }
        *u += 1;
        Permit(self)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut u = self.0.used.lock().unwrap_or_else(|p| p.into_inner());
        *u = u.saturating_sub(1);
        self.0.cv.notify_one();
    }
}
