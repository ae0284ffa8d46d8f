//! The executor: turns a plan into results, block by block, in parallel, in bounded memory.
//!
//! What users need is re-exported here: [`EvalConfig`] (and its [`Progress`] callback),
//! [`BlockStream`] (blocks of a streamed result), [`PartialResult`] (the state of one
//! partition, serializable), [`ReduceState`] and [`Needs`], and the engines a plan runs on
//! across processes ([`Engine`], [`Local`], [`EngineRegions`]; `MpiEngine` with the `mpi`
//! feature). The modules are the crate's own:
//!
//! - `driver`: runs a plan (pool, stages, passes); `explain`: describes that without running.
//! - `engine`: a plan run across the ranks of an [`Engine`] (`Plan::run_on`), MPI's among them.
//! - `eval`: computes a region of a reduction-free graph (pulling regions of inputs).
//! - `pass`: the passes a plan runs (`pass/reduce.rs`: reduction passes, `pass/blocks.rs`: block
//!   passes); `stream`: blocks of a result a few at a time; `partition`: partial runs and merges.
//! - `blocks`: block shapes and projected memory; `fetch`: concurrent prefetch for
//!   latency-bound sources; `read`: reading a region of a source; `kernels`: elementwise
//!   math; `fold`: the folding loops; `reduce_state`: mergeable reduction states.
//! - `tiles`: cache-sized tiles a block task computes one after the other; `place`: disjoint
//!   views of the result that tasks write their blocks into.

pub(crate) mod blocks;
mod driver;
mod engine;
pub(crate) mod eval;
mod explain;
pub(crate) mod fetch;
pub(crate) mod fold;
pub(crate) mod kernels;
pub(crate) mod partition;
pub(crate) mod pass;
pub(crate) mod place;
pub(crate) mod read;
pub(crate) mod reduce_state;
pub(crate) mod regions;
pub(crate) mod stream;
pub(crate) mod tiles;

pub use crate::config::{EvalConfig, Progress};
#[cfg(feature = "mpi")]
pub use engine::{launched_by_mpi, MpiEngine};
pub use engine::{Engine, EngineRegions, Local};
pub use partition::{NdDataSer, PartialPass, PartialResult};
pub use reduce_state::{Needs, ReduceState};
pub use stream::BlockStream;
