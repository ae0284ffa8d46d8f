//! The executor: turns a plan into results, block by block, in parallel, in bounded memory.
//!
//! - [`eval`]: computes a region of a reduction-free graph (pulling regions of inputs).
//! - [`run`]: the jobs a plan runs (reduction passes, block passes), streaming, partitions.
//! - [`blocks`]: block shapes and projected memory; [`fetch`]: concurrent prefetch for
//!   latency-bound sources; [`read`]: reading a region of a source; [`kernels`]: elementwise
//!   math; [`reduce_state`]: mergeable reduction states.
//! - [`tiles`]: cache-sized tiles a block task computes one after the other; [`place`]: disjoint
//!   views of the result that tasks write their blocks into.

pub mod blocks;
pub mod eval;
pub mod fetch;
pub mod fold;
pub mod kernels;
pub mod place;
pub mod read;
pub mod reduce_state;
pub mod regions;
pub mod run;
pub mod tiles;

pub use reduce_state::{Needs, ReduceState};
pub use run::{BlockStream, PartialResult};

use std::sync::Arc;

/// A callback told how many tasks are done out of how many (for progress bars).
pub type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// How an evaluation runs.
#[derive(Clone)]
pub struct EvalConfig {
    /// Bytes that input chunks, partial states and blocks in flight may take at once.
    pub budget: usize,
    /// Worker threads for computation.
    pub threads: usize,
    /// Reads of latency-bound sources (HTTP, slow caches) in flight at once.
    pub io_concurrency: usize,
    /// Told of progress after each task.
    pub progress: Option<Progress>,
}

impl Default for EvalConfig {
    /// A budget of 512 MiB, one thread per core, 16 concurrent reads.
    fn default() -> Self {
        EvalConfig {
            budget: 512 << 20,
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            io_concurrency: 16,
            progress: None,
        }
    }
}

impl EvalConfig {
    /// The default configuration with a memory budget of `bytes`.
    pub fn with_budget(bytes: usize) -> Self {
        EvalConfig {
            budget: bytes,
            ..Default::default()
        }
    }

    /// The same configuration with `n` worker threads.
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n.max(1);
        self
    }
}

impl std::fmt::Debug for EvalConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvalConfig")
            .field("budget", &self.budget)
            .field("threads", &self.threads)
            .field("io_concurrency", &self.io_concurrency)
            .finish()
    }
}
