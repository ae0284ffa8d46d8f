//! # vastarray
//!
//! Lazy, chunked, out-of-core n-dimensional arrays. Build an expression over sources (files,
//! servers, generated data), slice and reduce it, and ask for the result: only the chunks the
//! result needs are read, in parallel, in bounded memory.
//!
//! The data path, module by module: [`source`] (where data comes from) -> [`graph`] (the lazy
//! expression) -> [`plan`] (optimisation rules, stages, passes) -> [`exec`] (parallel,
//! bounded-memory evaluation) -> [`sink`] (storing results). The formats (HDF5, `.b2nd`,
//! `.npy`, HTTP tiles, Caterva2) sit beside that core in [`io`], one module each, reader,
//! writer and codec together. See `ARCHITECTURE.md`.
//!

#![warn(missing_docs)]
#![warn(unreachable_pub)]
#![doc = include_str!("../README.md")]

pub mod config;
pub mod data;
pub mod dtype;
pub mod error;
mod evaluate;
pub mod exec;
pub mod expr;
pub mod graph;
pub mod http;
pub mod io;
mod open;
pub mod plan;
#[cfg(feature = "b2nd")]
pub mod proxy;
pub mod select;
pub mod sink;
pub mod source;
#[cfg(feature = "test-server")]
pub mod tileserver;

// The test tile server (`tileserver/`) names the crate `vastarray::`, so the same files build
// inside the library and inside the `vastarray` binary (its `demo`).
extern crate self as vastarray;

pub use config::EvalConfig;
pub use data::NdData;
pub use dtype::{DType, Element};
pub use error::{Error, Result};
pub use evaluate::evaluate;
pub use exec::ReduceState;
pub use graph::{
    Array, Axes, AxisArg, BinaryOp, DynArray, Operand, Over, ReduceOp, ReduceOptions, UnaryOp,
};
#[cfg(feature = "b2nd")]
pub use io::b2nd::{store_b2nd, B2ndOptions, B2ndSource};
#[cfg(feature = "caterva2")]
pub use io::caterva2::Caterva2Source;
#[cfg(feature = "hdf5")]
pub use io::hdf5::{
    store_hdf5, Hdf5File, Hdf5Options, Hdf5Source, Hdf5StoreOptions, Hdf5StoreReport, StoreMode,
};
pub use io::npy::{store_npy, NpySource, NpyStoreOptions};
#[cfg(feature = "tiles")]
pub use io::tiles::{TileLevelSource, UrlTemplate};
pub use open::{
    open, open_spec, open_with, split_hdf5, split_zarr, OpenOptions, Opened, SourceDetails,
    SourceSpec,
};
pub use plan::Plan;
pub use select::{Dim, Region, SelItem, Selection, SliceArg, Stride};
pub use source::{
    ChunkGrid, ChunkSource, ConstantSource, CountingSource, GeneratedSource, MemorySource,
    ReadCounts,
};
