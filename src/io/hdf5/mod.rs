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
//! - [`CfSource`] is a dataset as netCDF-4 and CF mean it: unlimited dimensions at netCDF's
//!   length (`dims.rs`: dimension scales) and values decoded as xarray does ([`CfDecoding`]:
//!   fill and missing values and the valid range become NaN, `scale_factor`/`add_offset`
//!   unpack), per chunk as it is read; [`crate::open`] reads HDF5 datasets through it.
//! - [`store_hdf5`] writes any array into a dataset in bounded memory (`sink.rs`), encoding
//!   chunks with the same filters.
//!
//! Needs HDF5 >= 1.10.5 (for `H5Dget_chunk_info`).
//!
//! ```
//! use vastarray::io::hdf5::{store_hdf5, Hdf5Source, Hdf5StoreOptions};
//! use vastarray::DynArray;
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("x.h5");
//! let a = DynArray::from_ndarray(ndarray::Array1::<f64>::linspace(0.0, 1.0, 101).into_dyn(), &[25]).unwrap();
//! let opts = Hdf5StoreOptions { chunks: Some(vec![32]), deflate: Some(4), shuffle: true, ..Default::default() };
//! store_hdf5(&a, &path, "/g/x", &opts).unwrap();
//! let back = DynArray::from_source(Hdf5Source::open(&path, "/g/x").unwrap());
//! let m = back.mean(0).unwrap().ndarray().unwrap().into_typed::<f64>().unwrap();
//! assert!((m[[]] - 0.5).abs() < 1e-12);
//! ```

mod attrs;
mod cf;
mod chunk_index;
mod dims;
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
pub use cf::{CfDecoding, CfSource, CoordinateRange, NetcdfVariable, CF_ATTRIBUTES};
pub use chunk_index::{
    ChunkEntry, ChunkIndex, ChunkLocation, ListMode, LIST_HARD_LIMIT, LIST_LIMIT,
};
pub use dims::Dimension;
pub use fd::close_on_exec;
pub use fill::MissingValues;
pub use filters::PipelineFilter;
pub use meta::{dtype_of, Hdf5ByteOrder, Hdf5DatasetInfo, Hdf5Layout};
pub use sink::{store_hdf5, Hdf5StoreOptions, Hdf5StoreReport, StoreMode, COMPLETE_ATTR};
pub use source::{auto_chunk_shape, ChunkIndexQuery, Hdf5Options, Hdf5ReadStats, Hdf5Source};
pub use tree::{Hdf5File, Hdf5Group, Hdf5Node};
