//! The executor: turns a plan into results, block by block, in parallel, in bounded memory.
//!
//! What users need is re-exported here: [`EvalConfig`] (and its [`Progress`] callback),
//! [`BlockStream`] (blocks of a streamed result), [`PartialResult`] (the state of one
//! partition, serializable), [`ReduceState`] and [`Needs`]. The modules are the crate's own:
//!
//! - `eval`: computes a region of a reduction-free graph (pulling regions of inputs).
//! - `run`: the jobs a plan runs (reduction passes, block passes), streaming, partitions.
//! - `blocks`: block shapes and projected memory; `fetch`: concurrent prefetch for
//!   latency-bound sources; `read`: reading a region of a source; `kernels`: elementwise
//!   math; `fold`: the folding loops; `reduce_state`: mergeable reduction states.
//! - `tiles`: cache-sized tiles a block task computes one after the other; `place`: disjoint
//!   views of the result that tasks write their blocks into.

pub(crate) mod blocks;
pub(crate) mod eval;
pub(crate) mod fetch;
pub(crate) mod fold;
pub(crate) mod kernels;
pub(crate) mod place;
pub(crate) mod read;
pub(crate) mod reduce_state;
pub(crate) mod regions;
pub(crate) mod run;
pub(crate) mod tiles;

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
