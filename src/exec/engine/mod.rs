//! Engines: where the partitions of a plan run and how their partial results meet.
//!
//! An [`Engine`] is a group of processes (ranks `0..size`) that can send each other bytes.
//! [`Plan::run_on`](crate::Plan::run_on) runs partition `rank` of `size` of every stage and
//! pass of a plan on each rank and merges the partial results over the engine: reduction
//! states in a fixed binary tree (rank order), computed blocks gathered to rank 0 in rank
//! order; stage results reach every rank. Plans know nothing of engines: a new engine is one
//! more implementation of this small trait.
//!
//! - [`Local`]: one process; `run_on` is exactly [`Plan::run`](crate::Plan::run).
//! - `MpiEngine` (feature `mpi`, `mpi.rs`): the ranks of an `mpirun` / `srun` job, over
//!   rsmpi's world communicator.
//! - `exchange.rs`: the messages (bincode of serde types) and the collective steps built on
//!   `send` / `receive` / `broadcast`; `run.rs`: `Plan::run_on`; `regions.rs`:
//!   [`EngineRegions`], a sink's buffers computed by every rank, written by rank 0.

mod exchange;
#[cfg(feature = "mpi")]
mod mpi;
mod regions;
mod run;

#[cfg(feature = "mpi")]
pub use self::mpi::{launched_by_mpi, MpiEngine};
pub use regions::EngineRegions;

use crate::error::{Error, Result};

/// A group of ranks that run the partitions of a plan and exchange their partial results.
///
/// Every rank of a run calls the same operations in the same order (as MPI's collectives
/// do); `send` / `receive` pair up in that order between two ranks. Implementations must be
/// safe to call from any thread, one call at a time.
pub trait Engine: Send + Sync + std::fmt::Debug {
    /// This process's rank, `0..size()`. Rank 0 holds the results.
    fn rank(&self) -> usize;

    /// Number of ranks.
    fn size(&self) -> usize;

    /// Sends `bytes` to rank `to` (returns once they may be reused).
    fn send(&self, to: usize, bytes: &[u8]) -> Result<()>;

    /// Receives the next bytes rank `from` sent to this rank.
    fn receive(&self, from: usize) -> Result<Vec<u8>>;

    /// Rank `root`'s `bytes` on every rank (what the others pass is ignored). The default
    /// sends them to each other rank in turn.
    fn broadcast(&self, root: usize, bytes: Vec<u8>) -> Result<Vec<u8>> {
        if self.rank() == root {
            for r in (0..self.size()).filter(|&r| r != root) {
                self.send(r, &bytes)?;
            }
            Ok(bytes)
        } else {
            self.receive(root)
        }
    }

    /// True on rank 0, which holds the results and prints or writes them.
    fn is_root(&self) -> bool {
        self.rank() == 0
    }

    /// Ends every rank with exit code `code`: for a failure the other ranks cannot learn of
    /// through the exchanges (they may be waiting on this rank). The default ends this
    /// process, the only one.
    fn abort(&self, code: i32) -> ! {
        std::process::exit(code)
    }
}

/// One process, no other rank: plans run as [`Plan::run`](crate::Plan::run) runs them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Local;

impl Engine for Local {
    fn rank(&self) -> usize {
        0
    }

    fn size(&self) -> usize {
        1
    }

    fn send(&self, to: usize, _bytes: &[u8]) -> Result<()> {
        Err(Error::Invalid(format!(
            "a local engine has no rank {to} to send to"
        )))
    }

    fn receive(&self, from: usize) -> Result<Vec<u8>> {
        Err(Error::Invalid(format!(
            "a local engine has no rank {from} to receive from"
        )))
    }
}

#[cfg(test)]
mod tests;
