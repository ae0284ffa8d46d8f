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
    flight: Arc<Flight>,
    landed: Option<Landed<'a>>,
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
    }
}

/// A finished flight still in the table: until it is dropped, whoever asks for the same chunk
/// gets the leader's result at once instead of starting a read of its own. The leader keeps
/// it until the chunk is where later lookups find it (the memory pool).
pub(crate) struct Landed<'a> {
    table: &'a SingleFlight,
    key: usize,
    flight: Arc<Flight>,
}

impl Drop for Landed<'_> {
    fn drop(&mut self) {
        if let Ok(mut m) = self.table.flights.lock() {
            if m.get(&self.key)
                .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
            {
                m.remove(&self.key);
            }
        }
    }
}

impl SingleFlight {
    /// Runs `load` for `key` unless another thread is already running it (or has just run it),
    /// in which case this waits for that result. `describe` names the chunk in a follower's
    /// error. A leader also gets the [`Landed`] flight, which keeps the result available to
    /// late askers until it is dropped.
    pub(crate) fn run(
        &self,
        key: usize,
        load: impl FnOnce() -> Result<ChunkBytes>,
        describe: impl Fn(String) -> Error,
    ) -> Result<(ChunkBytes, Role, Option<Landed<'_>>)> {
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
                flight: flight.clone(),
                landed: Some(Landed {
                    table: self,
                    key,
                    flight,
                }),
                result: None,
            };
            let out = load();
            finish.result = Some(match &out {
                Ok(b) => Ok(b.clone()),
                Err(e) => Err(e.to_string()),
            });
            // A failed read leaves the table at once, so the next ask tries again.
            let landed = finish.landed.take().filter(|_| out.is_ok());
            drop(finish);
            return out.map(|b| (b, Role::Leader, landed));
        }
        let mut d = flight.done.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(r) = d.as_ref() {
                return match r {
                    Ok(b) => Ok((b.clone(), Role::Follower, None)),
                    Err(m) => Err(describe(format!("read by another thread failed: {m}"))),
                };
            }
            d = flight.cv.wait(d).unwrap_or_else(|p| p.into_inner());
        }
    }
}
