//! [`Gate`]: a counting semaphore bounding the requests one client has in flight, over all of
//! its callers (the executor may read several batches at once).

use std::sync::{Condvar, Mutex, PoisonError};

/// Lets at most `limit` holders of a [`Pass`] exist at once.
#[derive(Debug)]
pub(crate) struct Gate {
    limit: usize,
    taken: Mutex<usize>,
    freed: Condvar,
}

/// A place in a [`Gate`], given back when dropped.
pub(crate) struct Pass<'a> {
    gate: &'a Gate,
}

impl Gate {
    /// A gate for `limit` holders (at least 1).
    pub(crate) fn new(limit: usize) -> Self {
        Gate {
            limit: limit.max(1),
            taken: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// Waits for a free place and takes it.
    pub(crate) fn enter(&self) -> Pass<'_> {
        let mut taken = self.taken.lock().unwrap_or_else(PoisonError::into_inner);
        while *taken >= self.limit {
            taken = self
                .freed
                .wait(taken)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *taken += 1;
        Pass { gate: self }
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        let mut taken = self
            .gate
            .taken
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *taken = taken.saturating_sub(1);
        self.gate.freed.notify_one();
    }
}
