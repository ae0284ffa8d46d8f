//! Zarr v2 and v3 arrays on the `zarrs` crate: sources, group trees, HTTP, and a sink.
//!
//! - [`ZarrStore`]: a hierarchy in a local `.zarr` directory ([`ZarrStore::open_dir`]) or under
//!   an `http(s)://` URL ([`ZarrStore::open_http`], through the crate's HTTP client with byte
//!   ranges: `http_store.rs`); its nodes ([`ZarrNode`]) and tree ([`ZarrStore::tree`]).
//! - [`ZarrSource`]: one array as a [`crate::ChunkSource`]; a sharded array exposes its inner
//!   chunk grid and decodes only the inner chunks a read touches.
//! - `meta.rs` ([`ZarrMeta`]): metadata checked before zarrs sees it (sizes, data types, codec
//!   chains); `guard.rs`: chunk bytes checked before zarrs decodes them.
//! - [`store_zarr`]: any array into a new v3 (optionally sharded) or v2 array;
//!   [`store_zarr_node`]: into `/group/array` of a hierarchy (groups created, consolidated
//!   metadata kept true).
//!
//! Codecs read: `bytes`, `transpose`, `sharding_indexed`, `zstd`, `gzip`, `blosc`, `crc32c` (v2:
//! the `zstd`, `gzip` and `blosc` compressors, C and F order, no filters). Data types: `bool`,
//! signed and unsigned integers of 8 to 64 bits, `float32`, `float64`.
//!
//! ```
//! use vastarray::io::zarr::{store_zarr, ZarrStore, ZarrStoreOptions};
//! use vastarray::DynArray;
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("x.zarr");
//! let x = ndarray::Array2::from_shape_fn((40, 30), |(i, j)| (i * 30 + j) as f32);
//! let a = DynArray::from_ndarray(x.clone().into_dyn(), &[40, 30]).unwrap();
//! // A sharded v3 array: shards of 20 x 30, inner chunks of 10 x 10, zstd.
//! let opts = ZarrStoreOptions { chunks: Some(vec![10, 10]), shards: Some(vec![20, 30]), ..Default::default() };
//! store_zarr(&a, &path, &opts).unwrap();
//! let src = ZarrStore::open_dir(&path).unwrap().array("/").unwrap();
//! assert_eq!(vastarray::ChunkSource::chunk_shape(&src), &[10, 10], "the inner chunks");
//! let back = DynArray::from_source(src).select_str("35, 29").unwrap().ndarray().unwrap();
//! assert_eq!(back.into_typed::<f32>().unwrap()[[]], x[[35, 29]]);
//! ```

mod direct;
mod group_sink;
mod guard;
mod http_store;
mod meta;
mod sharded;
mod sink;
mod source;
mod store;

pub use group_sink::store_zarr_node;
pub use meta::{ZarrFormat, ZarrMeta};
pub use sink::{store_zarr, ZarrCodec, ZarrStoreOptions, ZarrStoreReport};
pub use source::{FirstReadCheck, ZarrSource};
pub use store::{ZarrNode, ZarrStore};
