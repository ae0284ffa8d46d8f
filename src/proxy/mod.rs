//! The caching proxy: python-blosc2's `Proxy`, for any [`crate::ChunkSource`].
//!
//! - [`Proxy`] wraps a source, is itself a source, and caches whole chunks compressed with
//!   Blosc2. `fetch` makes chunks resident; `get` returns values.
//! - [`MemoryPool`] (tier 1): a byte-bounded LRU shared by any number of proxies.
//! - The cache file (tier 2, [`CacheFileOptions`]): one `.b2nd` file that python-blosc2 opens
//!   as an ordinary array, with an explicit bitmap of fetched chunks and a credential-free
//!   stamp of the source in its metadata; crash-safe and locked against a second process.

mod builder;
mod cache_file;
mod chunk_proxy;
mod flight;
mod pool;
mod stamp;

pub use builder::{ProxyBuilder, DEFAULT_BLOCK_BYTES, DEFAULT_CONCURRENCY, DEFAULT_POOL_BYTES};
pub use cache_file::{cached_source, CacheFileOptions, CachedSource, LockMode};
pub use chunk_proxy::{FetchReport, Proxy, ProxyStats};
pub use pool::{ChunkBytes, MemoryPool, PoolStats};
pub use stamp::redact_credentials;
