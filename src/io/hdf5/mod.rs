//! HDF5: datasets as lazy sources, and any array stored as a dataset.
//!
//! - [`Hdf5File`] opens a file as a tree of groups and datasets ([`Hdf5Group`], [`Hdf5Node`]),
//!   each dataset described by [`Hdf5DatasetInfo`] (shape, type, layout, chunks, filters,
//!   attributes) without reading values.
//! - [`Hdf5Source`] serves one dataset chunk by chunk. Chunked datasets are read by file
//!   offset with `pread` and decoded outside the HDF5 library ([`filters`]: deflate, shuffle,
//!   Fletcher32), so reads scale with cores despite the library's global lock; other filters
//!   go through the library. Chunks never written read as the fill value; unchunked datasets
//!   get a chunk grid of contiguous slabs ([`auto_chunk_shape`]).
//! - [`MissingValues`] turns fill values and `_FillValue`/`missing_value` markers into NaN
//!   when [`Hdf5Options::missing_as_nan`] is set.
//! - [`store_hdf5`] writes any array into a dataset in bounded memory (`sink.rs`), encoding
//!   chunks with the same filters.
//!
//! Needs HDF5 >= 1.10.5 (for `H5Dget_chunk_info`).

mod attrs;
mod chunk_index;
mod fd;
mod fill;
pub mod filters;
mod meta;
mod raw;
mod shuffle;
mod sink;
mod source;
mod tree;

pub use attrs::AttrValue;
pub use chunk_index::{
    ChunkEntry, ChunkIndex, ChunkLocation, ListMode, LIST_HARD_LIMIT, LIST_LIMIT,
};
pub use fd::close_on_exec;
pub use fill::MissingValues;
pub use filters::PipelineFilter;
pub use meta::{dtype_of, Hdf5ByteOrder, Hdf5DatasetInfo, Hdf5Layout};
pub use sink::{store_hdf5, Hdf5StoreOptions, Hdf5StoreReport, StoreMode, COMPLETE_ATTR};
pub use source::{auto_chunk_shape, ChunkIndexQuery, Hdf5Options, Hdf5ReadStats, Hdf5Source};
pub use tree::{Hdf5File, Hdf5Group, Hdf5Node};
