//! [`Limiter`]: a counting semaphore bounding the requests in flight over all callers.

use std::sync::{Condvar, Mutex, PoisonError};

/// Lets at most `limit` holders of a [`Permit`] exist at once.
#[derive(Debug)]
pub(crate) struct Limiter {
    limit: usize,
    taken: Mutex<usize>,
    freed: Condvar,
}

/// A place in a [`Limiter`], given back when dropped.
pub(crate) struct Permit<'a> {
    limiter: &'a Limiter,
}

impl Limiter {
    /// A limiter for `limit` holders (at least 1).
    pub(crate) fn new(limit: usize) -> Self {
        Limiter {
            limit: limit.max(1),
            taken: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// Waits for a free place and takes it.
    pub(crate) fn acquire(&self) -> Permit<'_> {
        let mut taken = self.taken.lock().unwrap_or_else(PoisonError::into_inner);
        while *taken >= self.limit {
            taken = self
                .freed
                .wait(taken)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *taken += 1;
        Permit { limiter: self }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut taken = self
            .limiter
            .taken
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *taken = taken.saturating_sub(1);
        self.limiter.freed.notify_one();
    }
}
