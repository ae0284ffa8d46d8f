//! Zarr v2 and v3 arrays on the `zarrs` crate: sources, group trees, HTTP, and a sink.
//!
//! - [`ZarrStore`]: a hierarchy in a local `.zarr` directory ([`ZarrStore::open_dir`]) or under
//!   an `http(s)://` URL ([`ZarrStore::open_http`], through the crate's HTTP client with byte
//!   ranges: [`http_store`]); its nodes ([`ZarrNode`]) and tree ([`ZarrStore::tree`]).
//! - [`ZarrSource`]: one array as a [`crate::ChunkSource`]; a sharded array exposes its inner
//!   chunk grid and decodes only the inner chunks a read touches.
//! - [`meta`]: metadata checked before zarrs sees it (sizes, data types, codec chains);
//!   [`guard`]: chunk bytes checked before zarrs decodes them.
//! - [`store_zarr`]: any array into a new v3 (optionally sharded) or v2 array;
//!   [`store_zarr_node`]: into `/group/array` of a hierarchy (groups created, consolidated
//!   metadata kept true).
//!
//! Codecs read: `bytes`, `transpose`, `sharding_indexed`, `zstd`, `gzip`, `blosc`, `crc32c` (v2:
//! the `zstd`, `gzip` and `blosc` compressors, C and F order, no filters). Data types: `bool`,
//! signed and unsigned integers of 8 to 64 bits, `float32`, `float64`.

mod direct;
mod group_sink;
pub mod guard;
pub mod http_store;
pub mod meta;
mod sink;
mod source;
mod store;

pub use group_sink::store_zarr_node;
pub use meta::{ZarrFormat, ZarrMeta};
pub use sink::{store_zarr, ZarrCodec, ZarrStoreOptions, ZarrStoreReport};
pub use source::{FirstReadCheck, ZarrSource};
pub use store::{ZarrNode, ZarrStore};
