//! # vastarray
//!
//! Lazy, chunked, out-of-core n-dimensional arrays. See `README.md` for a tour and
//! `ARCHITECTURE.md` for how the pieces fit.

#![warn(missing_docs)]

pub mod blosc;
pub mod data;
pub mod dtype;
pub mod error;
pub mod proxy;
pub mod sink;
pub mod source;

pub use data::NdData;
pub use dtype::{DType, Element};
pub use error::{Error, Result};
pub use source::{ChunkGrid, ChunkSource, ConstantSource, CountingSource, GeneratedSource, MemorySource, ReadCounts};
