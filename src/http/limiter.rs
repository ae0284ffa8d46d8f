//! [`Limiter`]: a counting semaphore bounding the requests in flight over all callers. The
//! crate's one such semaphore: [`super::HttpClient`], the Caterva2 client and the caching
//! proxy's source reads all use it.

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn never_more_holders_than_the_limit_and_every_caller_gets_through() {
        let limiter = Limiter::new(3);
        let (now, most, done) = (
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
        );
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..50 {
                        let _permit = limiter.acquire();
                        let held = now.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(held, Ordering::SeqCst);
                        std::thread::yield_now();
                        now.fetch_sub(1, Ordering::SeqCst);
                        done.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
        assert!(most.load(Ordering::SeqCst) <= 3);
        assert_eq!(done.load(Ordering::SeqCst), 8 * 50);
        assert_eq!(*limiter.taken.lock().unwrap(), 0, "all permits given back");
        // A limit of 0 is raised to 1, so callers never wait forever.
        let one = Limiter::new(0);
        let _p = one.acquire();
        assert_eq!(*one.taken.lock().unwrap(), 1);
    }
}
