//! [`SingleFlight`]: many threads asking for the same missing chunk at once share one read.

use super::pool::ChunkBytes;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};

#[derive(Default)]
struct Flight {
    done: Mutex<Option<std::result::Result<ChunkBytes, String>>>,
    cv: Condvar,
}

/// Who produced a chunk: this call or another thread's call that was already under way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// This call ran the read.
    Leader,
    /// This call waited for another thread's read.
    Follower,
}

/// A table of reads under way, keyed by chunk number.
#[derive(Default)]
pub(crate) struct SingleFlight {
    flights: Mutex<HashMap<usize, Arc<Flight>>>,
}

/// Completes a flight even if the leader panics, so followers never wait forever.
struct Finish<'a> {
    table: &'a SingleFlight,
    key: usize,
    flight: Arc<Flight>,
    result: Option<std::result::Result<ChunkBytes, String>>,
}

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        let r = self
            .result
            .take()
            .unwrap_or_else(|| Err("the reading thread panicked".into()));
        if let Ok(mut d) = self.flight.done.lock() {
            *d = Some(r);
        }
        self.flight.cv.notify_all();
        if let Ok(mut m) = self.table.flights.lock() {
            m.remove(&self.key);
        }
    }
}

impl SingleFlight {
    /// Runs `load` for `key` unless another thread is already running it, in which case this
    /// waits for that result. `describe` names the chunk in a follower's error.
    pub(crate) fn run(
        &self,
        key: usize,
        load: impl FnOnce() -> Result<ChunkBytes>,
        describe: impl Fn(String) -> Error,
    ) -> Result<(ChunkBytes, Role)> {
        let (flight, leader) = {
            let mut m = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            match m.get(&key) {
                Some(f) => (f.clone(), false),
                None => {
                    let f = Arc::new(Flight::default());
                    m.insert(key, f.clone());
                    (f, true)
                }
            }
        };
        if leader {
            let mut finish = Finish {
                table: self,
                key,
                flight,
                result: None,
            };
            let out = load();
            finish.result = Some(match &out {
                Ok(b) => Ok(b.clone()),
                Err(e) => Err(e.to_string()),
            });
            drop(finish);
            return out.map(|b| (b, Role::Leader));
        }
        let mut d = flight.done.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(r) = d.as_ref() {
                return match r {
                    Ok(b) => Ok((b.clone(), Role::Follower)),
                    Err(m) => Err(describe(format!("read by another thread failed: {m}"))),
                };
            }
            d = flight.cv.wait(d).unwrap_or_else(|p| p.into_inner());
        }
    }
}
