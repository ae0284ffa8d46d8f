//! Formats and servers, each with its reader, writer and codec together, beside the core (as
//! polars-io and zarrs lay them out). The core ([`crate::source`], [`crate::sink`], the graph,
//! planner and executor) knows none of them: a format is a [`crate::ChunkSource`] to read and
//! a function over [`crate::sink::RegionCompute`] to write.
//!
//! Each format but `.npy` (which needs nothing) is behind the Cargo feature of its name, all on
//! by default:
//!
//! - [`hdf5`]: HDF5 files (reader, tree, raw chunk reads and filters, writer).
//! - [`b2nd`]: Blosc2 `.b2nd` files (frames, chunk codec, reader, writer), also the codec of
//!   the caching proxy and of Caterva2.
//! - [`npy`]: numpy's `.npy` (the one header parser, reader, writer, in-memory codec).
//! - [`tiles`]: slippy-map tiles over HTTP (URL templates, tile decoding, levels, pyramids).
//! - [`caterva2`]: datasets of a Caterva2 server.
//! - [`zarr`]: Zarr v2 and v3 arrays and groups, sharding included, on disk and over HTTP.
//!
//! ```
//! use vastarray::io::npy::{store_npy, NpySource, NpyStoreOptions};
//! use vastarray::DynArray;
//! let dir = tempfile::tempdir().unwrap();
//! let a = DynArray::from_ndarray(ndarray::Array1::<i32>::from_iter(0..10).into_dyn(), &[4]).unwrap();
//! let path = dir.path().join("x.npy");
//! store_npy(&a.mul(3).unwrap(), &path, &NpyStoreOptions::default()).unwrap();
//! let back = DynArray::from_source(NpySource::open(&path).unwrap());
//! assert_eq!(back.ndarray().unwrap().into_typed::<i32>().unwrap()[[9]], 27);
//! ```

#[cfg(feature = "b2nd")]
pub mod b2nd;
#[cfg(feature = "caterva2")]
pub mod caterva2;
#[cfg(feature = "hdf5")]
pub mod hdf5;
pub mod npy;
#[cfg(feature = "tiles")]
pub mod tiles;
#[cfg(feature = "zarr")]
pub mod zarr;
