//! Server-side request counters: per path, in total, and the most requests in flight at once.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// A snapshot of what a [`super::TileServer`] has been asked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Requests received (including those answered with a fault).
    pub total_requests: u64,
    /// Requests being handled right now.
    pub in_flight: usize,
    /// The most requests handled at the same time since the start (or the last reset).
    pub max_in_flight: usize,
    /// Requests received per path (`/z/x/y.ext`, query string removed).
    pub per_path: BTreeMap<String, u64>,
}

/// The live counters.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    total: AtomicU64,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    per_path: Mutex<HashMap<String, u64>>,
}

/// Marks one request as in flight until dropped.
pub(crate) struct InFlight<'a> {
    counters: &'a Counters,
}

/// The place of a request in the counts: n-th of its path and n-th overall (from 1).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Arrival {
    pub(crate) nth_for_path: u64,
    pub(crate) nth_overall: u64,
}

impl Counters {
    /// Counts a request that has just arrived.
    pub(crate) fn arrive(&self, path: &str) -> (Arrival, InFlight<'_>) {
        let nth_overall = self.total.fetch_add(1, Ordering::SeqCst) + 1;
        let nth_for_path = {
            let mut map = self.per_path.lock().unwrap_or_else(PoisonError::into_inner);
            let n = map.entry(path.to_string()).or_insert(0);
            *n += 1;
            *n
        };
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        (
            Arrival {
                nth_for_path,
                nth_overall,
            },
            InFlight { counters: self },
        )
    }

    /// A snapshot.
    pub(crate) fn snapshot(&self) -> ServerStats {
        let map = self.per_path.lock().unwrap_or_else(PoisonError::into_inner);
        ServerStats {
            total_requests: self.total.load(Ordering::SeqCst),
            in_flight: self.in_flight.load(Ordering::SeqCst),
            max_in_flight: self.max_in_flight.load(Ordering::SeqCst),
            per_path: map.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        }
    }

    /// Requests received for one path.
    pub(crate) fn for_path(&self, path: &str) -> u64 {
        let map = self.per_path.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(path).copied().unwrap_or(0)
    }

    /// Forgets everything but the requests in flight now (fault counting starts again too).
    pub(crate) fn reset(&self) {
        let mut map = self.per_path.lock().unwrap_or_else(PoisonError::into_inner);
        map.clear();
        self.total.store(0, Ordering::SeqCst);
        self.max_in_flight
            .store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.counters.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}
