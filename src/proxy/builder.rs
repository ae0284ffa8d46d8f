//! [`ProxyBuilder`]: the options of a [`Proxy`] and how it is opened.

use super::cache_file::{CacheFile, CacheFileOptions, LockMode};
use super::chunk_proxy::{Proxy, ProxyParts};
use super::pool::MemoryPool;
use super::stamp::redact_credentials;
use crate::error::{Error, Result};
use crate::io::b2nd::{default_blocks, B2ndMeta, ChunkLayout, Compression};
use crate::source::ChunkSource;
use std::path::PathBuf;
use std::sync::Arc;

/// Default number of source reads a proxy runs at once.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// Default byte limit of the private memory pool a proxy makes when given no pool and no file.
pub const DEFAULT_POOL_BYTES: usize = 256 << 20;
/// Default target size of a block (the unit decompressed inside a chunk) of new caches.
pub const DEFAULT_BLOCK_BYTES: usize = 256 << 10;

/// Options of a [`Proxy`]; made by [`Proxy::builder`], finished by [`ProxyBuilder::open`].
pub struct ProxyBuilder {
    source: Arc<dyn ChunkSource>,
    pool: Option<Arc<MemoryPool>>,
    file: Option<CacheFileOptions>,
    compression: Compression,
    blocks: Option<Vec<usize>>,
    concurrency: usize,
    after_data: Option<Arc<dyn Fn(usize) + Send + Sync>>,
}

impl ProxyBuilder {
    pub(crate) fn new(source: Arc<dyn ChunkSource>) -> Self {
        ProxyBuilder {
            source,
            pool: None,
            file: None,
            compression: Compression::lz4(),
            blocks: None,
            concurrency: DEFAULT_CONCURRENCY,
            after_data: None,
        }
    }

    /// Keeps chunks in a (possibly shared) memory pool: tier 1.
    pub fn memory_pool(mut self, pool: Arc<MemoryPool>) -> Self {
        self.pool = Some(pool);
        self
    }

    /// Keeps chunks in a persistent `.b2nd` cache file: tier 2.
    pub fn cache_file(mut self, path: impl Into<PathBuf>) -> Self {
        let opts = match self.file.take() {
            Some(mut o) => {
                o.path = path.into();
                o
            }
            None => CacheFileOptions::new(path),
        };
        self.file = Some(opts);
        self
    }

    /// All cache file options at once.
    pub fn cache_file_options(mut self, opts: CacheFileOptions) -> Self {
        self.file = Some(opts);
        self
    }

    fn file_opts(&mut self) -> &mut CacheFileOptions {
        self.file
            .get_or_insert_with(|| CacheFileOptions::new(PathBuf::new()))
    }

    /// The stamp the cache file records (default: the source's `identity()`). Credentials
    /// are removed before it is written.
    pub fn stamp(mut self, stamp: impl Into<String>) -> Self {
        self.file_opts().stamp = Some(stamp.into());
        self
    }

    /// The source's metadata as text, recorded in a new cache file so that a later run can
    /// open the source from the cache alone ([`super::cached_source`]).
    pub fn source_metadata(mut self, text: impl Into<String>) -> Self {
        self.file_opts().source_metadata = Some(text.into());
        self
    }

    /// When the cache file caches another source (stamp differs), discard it and start afresh
    /// instead of failing.
    pub fn start_afresh(mut self, yes: bool) -> Self {
        self.file_opts().start_afresh = yes;
        self
    }

    /// What to do when another process has the cache file open (default: wait).
    pub fn lock_mode(mut self, mode: LockMode) -> Self {
        self.file_opts().lock = mode;
        self
    }

    /// Flush every chunk to disk before marking it present (default: off; a killed process
    /// never corrupts the cache either way, this also covers power loss).
    pub fn durable(mut self, yes: bool) -> Self {
        self.file_opts().durable = yes;
        self
    }

    /// Codec and level of cached chunks (default LZ4 level 5).
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// Block shape of cached chunks (default: the chunk split to blocks of about 256 KiB).
    /// An existing cache file keeps its own.
    pub fn blocks(mut self, blocks: &[usize]) -> Self {
        self.blocks = Some(blocks.to_vec());
        self
    }

    /// How many source reads run at once, per proxy (default 8).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Test hook: called after a chunk's data is in the cache file and before it is marked
    /// present (crash-safety tests stop a child process here).
    #[doc(hidden)]
    pub fn after_chunk_data_written(mut self, hook: Arc<dyn Fn(usize) + Send + Sync>) -> Self {
        self.after_data = Some(hook);
        self
    }

    /// Opens the proxy (and its cache file, creating it if needed).
    pub fn open(self) -> Result<Proxy> {
        let src = &self.source;
        let shape = src.shape().to_vec();
        let chunks = src.chunk_shape().to_vec();
        let dtype = src.dtype();
        self.compression.validate()?;
        // A source that gives its chunks as stored Blosc2 chunks sets the blocks, so that its
        // chunks are kept as they arrive.
        let blocks = match (&self.blocks, src.blosc2_blocks()) {
            (Some(b), _) => b.clone(),
            (None, Some(b)) if b.len() == chunks.len() => b.to_vec(),
            (None, _) => default_blocks(&chunks, dtype.size(), DEFAULT_BLOCK_BYTES),
        };
        let meta = B2ndMeta {
            shape,
            chunks: chunks.clone(),
            blocks: blocks.clone(),
            dtype,
        };
        let file = match &self.file {
            Some(opts) => {
                if opts.path.as_os_str().is_empty() {
                    return Err(Error::Invalid(
                        "cache file options were given without a path".into(),
                    ));
                }
                let stamp = redact_credentials(
                    &opts
                        .stamp
                        .clone()
                        .or_else(|| src.identity())
                        .unwrap_or_default(),
                );
                Some(CacheFile::open(
                    opts,
                    &meta,
                    &stamp,
                    self.compression,
                    self.after_data.clone(),
                )?)
            }
            None => None,
        };
        let layout = match &file {
            Some(f) => f.layout()?,
            None => ChunkLayout::new(&chunks, &blocks, dtype)?,
        };
        let pool = match (self.pool, &file) {
            (Some(p), _) => Some(p),
            (None, Some(_)) => None,
            (None, None) => Some(MemoryPool::new(DEFAULT_POOL_BYTES)),
        };
        Ok(Proxy::from_parts(ProxyParts {
            source: self.source,
            layout,
            compression: self.compression,
            pool,
            file,
            concurrency: self.concurrency,
        }))
    }
}
