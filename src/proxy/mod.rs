//! The caching proxy: python-blosc2's `Proxy`, for any [`crate::ChunkSource`].
//!
//! - [`Proxy`] wraps a source, is itself a source, and caches whole chunks compressed with
//!   Blosc2. `fetch` makes chunks resident; `get` returns values.
//! - [`MemoryPool`] (tier 1): a byte-bounded LRU shared by any number of proxies.
//! - The cache file (tier 2, [`CacheFileOptions`]): one `.b2nd` file that python-blosc2 opens
//!   as an ordinary array, with an explicit bitmap of fetched chunks and a credential-free
//!   stamp of the source in its metadata; crash-safe and locked against a second process.
//!
//! ```
//! use std::sync::Arc;
//! use vastarray::proxy::Proxy;
//! use vastarray::{ChunkSource, CountingSource, MemorySource};
//! let src = MemorySource::new(ndarray::Array2::<f32>::ones((8, 8)).into_dyn(), &[4, 4]).unwrap();
//! let counted = Arc::new(CountingSource::new(src));
//! let dir = tempfile::tempdir().unwrap();
//! let proxy = Proxy::builder(counted.clone()).cache_file(dir.path().join("c.b2nd")).open().unwrap();
//! proxy.fetch(&[0..4, 0..8]).unwrap(); // two chunks made resident
//! let v = proxy.get(&[1..3, 2..6]).unwrap(); // served from the cache
//! assert_eq!(v.shape(), &[2, 4]);
//! assert_eq!(counted.reads(), 2);
//! ```

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
