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
//!
//! ```
//! use vastarray::{DynArray, EvalConfig, Plan};
//! let a = DynArray::from_ndarray(ndarray::Array2::<f64>::ones((64, 32)).into_dyn(), &[16, 32]).unwrap();
//! let (m, s) = (a.mean(0).unwrap(), a.sum(1).unwrap());
//! let plan = Plan::new(&[&m, &s], &EvalConfig::default()).unwrap();
//! let out = plan.run().unwrap();
//! assert_eq!(out[0].shape(), &[32]);
//! assert_eq!(out[1].clone().into_typed::<f64>().unwrap()[[0]], 32.0);
//! // The same in partitions, merged (what runs across processes):
//! let parts = (0..3).map(|k| plan.run_partition(k, 3).unwrap()).collect();
//! assert_eq!(plan.finish(parts).unwrap(), out);
//! ```

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
