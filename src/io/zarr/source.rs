//! [`ZarrSource`]: one Zarr v2 or v3 array as a [`ChunkSource`].
//!
//! The source's chunk grid is the array's chunk grid, or for a sharded array the grid of its
//! inner chunks: a read decodes only the inner chunks it touches (zarrs' sharded partial
//! decoding, with a cache of shard indexes), and reads a shard's index once while the cache
//! holds it. Every chunk's bytes pass the [`super::guard::GuardedStore`] checks first.

use super::guard::GuardedStore;
use super::meta::{ZarrFormat, ZarrMeta};
use crate::data::NdData;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::source::{read_checked, ChunkGrid, ChunkSource};
use ndarray::{ArrayD, IxDyn};
use std::ops::Range;
use std::sync::Arc;
use zarrs::array::{Array, ArrayShardedReadableExt, ArrayShardedReadableExtCache, ArraySubset};
use zarrs::storage::ReadableStorageTraits;

/// Shard indexes kept by one source before the cache is emptied (each is 16 bytes per inner
/// chunk; the cache would otherwise grow with the number of shards read).
const MAX_CACHED_INDEXES: usize = 1024;

/// One Zarr array (v2 or v3, sharded or not) as a [`ChunkSource`].
pub struct ZarrSource {
    array: Array<GuardedStore>,
    cache: ArrayShardedReadableExtCache,
    meta: ZarrMeta,
    name: String,
    identity: Option<String>,
    /// The HTTP client of a remote array: batch reads run on it concurrently.
    client: Option<Arc<crate::http::HttpClient>>,
}

impl ZarrSource {
    /// The array at `node` (`/` or `/group/array`) of `store`, whose metadata `meta` was read and
    /// checked; `name` is what errors call it; `identity` the stamp for caches.
    pub(crate) fn new(
        store: Arc<dyn ReadableStorageTraits>,
        local_root: Option<std::path::PathBuf>,
        node: &str,
        meta: ZarrMeta,
        name: String,
        identity: Option<String>,
        client: Option<Arc<crate::http::HttpClient>>,
    ) -> Result<ZarrSource> {
        let prefix = node_prefix(node);
        let mut guard =
            GuardedStore::new(store, prefix, meta.chunk_check.clone(), meta.shards.clone());
        if let Some(root) = local_root {
            guard = guard.with_local_root(root);
        }
        let bad = |e: String| Error::read(&name, None, format!("metadata: {e}"));
        let metadata = match meta.format {
            ZarrFormat::V3 => zarrs::array::ArrayMetadata::V3(
                serde_json::from_value(meta.document.clone()).map_err(|e| bad(e.to_string()))?,
            ),
            ZarrFormat::V2 => zarrs::array::ArrayMetadata::V2(
                serde_json::from_value(meta.document.clone()).map_err(|e| bad(e.to_string()))?,
            ),
        };
        let array = Array::new_with_metadata(Arc::new(guard), node, metadata)
            .map_err(|e| bad(e.to_string()))?;
        let cache = ArrayShardedReadableExtCache::new(&array);
        Ok(ZarrSource {
            array,
            cache,
            meta,
            name,
            identity,
            client,
        })
    }

    /// The array's metadata, as checked.
    pub fn meta(&self) -> &ZarrMeta {
        &self.meta
    }

    /// The stored chunk (shard, if sharded) shape.
    pub fn stored_chunks(&self) -> &[usize] {
        &self.meta.chunks
    }

    fn read_box(&self, region: &[Range<usize>], chunk: Option<&[usize]>) -> Result<NdData> {
        let ranges: Vec<Range<u64>> = region
            .iter()
            .map(|r| r.start as u64..r.end as u64)
            .collect();
        let subset = ArraySubset::new_with_ranges(&ranges);
        let shape: Vec<usize> = region.iter().map(|r| r.end - r.start).collect();
        let options = zarrs::array::CodecOptions::default().with_concurrent_target(1);
        let fail = |e: zarrs::array::ArrayError| {
            let what = match chunk {
                Some(c) if self.meta.shards.is_some() => format!(
                    "inner chunk {c:?} of shard {:?}: {e}",
                    shard_of(c, &self.meta)
                ),
                _ => e.to_string(),
            };
            Error::read(&self.name, chunk, what)
        };
        let out = crate::dispatch_dtype!(self.meta.dtype, T => {
            let v: Vec<T> = self
                .array
                .retrieve_array_subset_sharded_opt(&self.cache, &subset, &options)
                .map_err(fail)?;
            let a = ArrayD::from_shape_vec(IxDyn(&shape), v)
                .map_err(|e| Error::read(&self.name, chunk, format!("decoded data: {e}")))?;
            T::wrap(a)
        });
        if self.cache.len() > MAX_CACHED_INDEXES {
            self.cache.clear();
        }
        Ok(out)
    }
}

/// The shard holding inner chunk `inner`.
fn shard_of(inner: &[usize], meta: &ZarrMeta) -> Vec<usize> {
    let read = meta.read_chunks();
    inner
        .iter()
        .zip(read)
        .zip(&meta.chunks)
        .map(|((i, r), s)| i * r / s)
        .collect()
}

/// The key prefix of a node: `""` for the root, `group/array/` otherwise.
pub(crate) fn node_prefix(node: &str) -> String {
    let t = node.trim_matches('/');
    if t.is_empty() {
        String::new()
    } else {
        format!("{t}/")
    }
}

impl ChunkSource for ZarrSource {
    fn shape(&self) -> &[usize] {
        &self.meta.shape
    }

    fn dtype(&self) -> DType {
        self.meta.dtype
    }

    fn chunk_shape(&self) -> &[usize] {
        self.meta.read_chunks()
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn read_chunk(&self, index: &[usize]) -> Result<NdData> {
        let grid = self.grid();
        grid.checked_linear_index(index)
            .map_err(|e| Error::read(&self.name, Some(index), e))?;
        self.read_box(&grid.chunk_box(index), Some(index))
    }

    fn read_region(&self, region: &[Range<usize>]) -> Result<NdData> {
        ChunkGrid::new(self.meta.shape.clone(), self.meta.read_chunks().to_vec())
            .check_region(region)
            .map_err(|e| Error::read(&self.name, None, e))?;
        self.read_box(region, None)
    }

    fn read_chunks(&self, indices: &[Vec<usize>]) -> Result<Vec<NdData>> {
        match &self.client {
            None => indices.iter().map(|i| read_checked(self, i)).collect(),
            // Up to the client's bound at once (each read's requests take the client's permits).
            Some(c) => c
                .map_concurrent(indices.len(), |i| read_checked(self, &indices[i]))
                .into_iter()
                .collect(),
        }
    }

    fn latency_bound(&self) -> bool {
        self.client.is_some()
    }

    fn identity(&self) -> Option<String> {
        self.identity.clone()
    }
}
