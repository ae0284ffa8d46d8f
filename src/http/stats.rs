//! [`HttpStats`]: what a client has done so far.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of an [`super::HttpClient`]'s counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HttpStats {
    /// Requests sent, first attempts and retries alike.
    pub requests: u64,
    /// Retries (requests sent again after a retryable failure).
    pub retries: u64,
    /// Body bytes received from successful responses.
    pub bytes: u64,
    /// Calls that ended in an error (after their retries).
    pub failures: u64,
    /// Calls answered 404 that the caller accepted as "missing".
    pub missing: u64,
}

/// The live counters behind [`HttpStats`].
#[derive(Debug, Default)]
pub(crate) struct StatsCounters {
    requests: AtomicU64,
    retries: AtomicU64,
    bytes: AtomicU64,
    failures: AtomicU64,
    missing: AtomicU64,
}

impl StatsCounters {
    pub(crate) fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn bytes(&self, n: usize) {
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
    }
    pub(crate) fn failure(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn missing(&self) {
        self.missing.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn snapshot(&self) -> HttpStats {
        HttpStats {
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            missing: self.missing.load(Ordering::Relaxed),
        }
    }
}
