//! [`ZarrSource`]: one Zarr v2 or v3 array as a [`ChunkSource`].
//!
//! The source's chunk grid is the array's chunk grid, or for a sharded array the grid of its
//! inner chunks: a read decodes only the inner chunks it touches, and reads a shard's index once
//! while a cache holds it. Chunks of the common codec chains are read and decoded once by
//! vastarray ([`DirectChain`] for unsharded chunks, [`ShardedDirect`] for the inner chunks of
//! shards); other chains go through zarrs (its sharded partial decoding for shards), every
//! chunk's bytes passing the [`super::guard::GuardedStore`] checks first.

use super::direct::DirectChain;
use super::guard::GuardedStore;
use super::meta::{ZarrFormat, ZarrMeta};
use super::sharded::ShardedDirect;
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

/// Chunks read at once by a box read of the chains vastarray decodes itself.
const ASSEMBLE_BATCH: usize = 64;

/// A check run before the first read of chunk data, until it passes once (see
/// [`ZarrSource::with_first_read_check`]).
pub type FirstReadCheck = Box<dyn Fn() -> Result<()> + Send + Sync>;

/// One Zarr array (v2 or v3, sharded or not) as a [`ChunkSource`].
pub struct ZarrSource {
    array: Array<GuardedStore>,
    /// The store under `array`, for chunks decoded without zarrs.
    guard: Arc<GuardedStore>,
    /// The chunks' codec chain, when vastarray decodes it itself.
    direct: Option<DirectChain>,
    /// The inner chunks of a sharded array, when vastarray reads and decodes them itself.
    sharded: Option<ShardedDirect>,
    cache: ArrayShardedReadableExtCache,
    meta: ZarrMeta,
    name: String,
    identity: Option<String>,
    /// The HTTP client of a remote array: batch reads run on it concurrently.
    client: Option<Arc<crate::http::HttpClient>>,
    /// A check still to pass before chunk data is read (and whether it has passed).
    first_read: Option<(FirstReadCheck, std::sync::Mutex<bool>)>,
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
        let guard = Arc::new(guard);
        let array = Array::new_with_metadata(guard.clone(), node, metadata)
            .map_err(|e| bad(e.to_string()))?;
        let cache = ArrayShardedReadableExtCache::new(&array);
        let direct = DirectChain::of(&meta);
        let sharded = ShardedDirect::of(&meta);
        Ok(ZarrSource {
            array,
            guard,
            direct,
            sharded,
            cache,
            meta,
            name,
            identity,
            client,
            first_read: None,
        })
    }

    /// Runs `check` before the first read of chunk data (again before later reads until it
    /// passes once); its error fails the read. A source opened from a cache's record of its
    /// metadata checks that the store's metadata still gives the recorded stamp, so chunks the
    /// cache lacks are never read with another version's metadata.
    pub fn with_first_read_check(mut self, check: FirstReadCheck) -> ZarrSource {
        self.first_read = Some((check, std::sync::Mutex::new(false)));
        self
    }

    /// The array's metadata as a record a cache keeps (the format and the checked document),
    /// from which [`super::ZarrStore::array_from_record`] opens the array without reading it.
    pub fn cache_record(&self) -> String {
        let format = match self.meta.format {
            ZarrFormat::V2 => 2,
            ZarrFormat::V3 => 3,
        };
        serde_json::json!({"zarr_format": format, "document": self.meta.document}).to_string()
    }

    fn check_first_read(&self) -> Result<()> {
        let Some((check, passed)) = &self.first_read else {
            return Ok(());
        };
        let mut passed = passed.lock().unwrap_or_else(|p| p.into_inner());
        if !*passed {
            check()?;
            *passed = true;
        }
        Ok(())
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
        self.check_first_read()?;
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

impl ZarrSource {
    /// Chunk `index` decoded by `chain` straight into its buffer (one decoding, no copy but
    /// the crop of an edge chunk); a chunk never written is the fill value.
    fn read_direct(&self, chain: &DirectChain, index: &[usize]) -> Result<NdData> {
        self.check_first_read()?;
        let at: Vec<u64> = index.iter().map(|&i| i as u64).collect();
        let key = self.array.chunk_key(&at);
        let fail =
            |m: String| Error::read(&self.name, Some(index), format!("{}: {m}", key.as_str()));
        let stored = self
            .guard
            .get_stored(&key)
            .map_err(|e| fail(e.to_string()))?;
        self.decode_chunk(chain, index, stored.as_deref(), &fail)
    }

    /// Chunk (or inner chunk) `index` decoded by `chain` from its stored bytes (`None`: never
    /// written, the fill value), in the array's type; `fail` words an error.
    fn decode_chunk(
        &self,
        chain: &DirectChain,
        index: &[usize],
        stored: Option<&[u8]>,
        fail: &dyn Fn(String) -> Error,
    ) -> Result<NdData> {
        let extent = self.grid().chunk_extent(index);
        match self.meta.dtype {
            DType::I8 => self.decode_typed::<i8>(chain, stored, &extent, fail),
            DType::I16 => self.decode_typed::<i16>(chain, stored, &extent, fail),
            DType::I32 => self.decode_typed::<i32>(chain, stored, &extent, fail),
            DType::I64 => self.decode_typed::<i64>(chain, stored, &extent, fail),
            DType::U8 => self.decode_typed::<u8>(chain, stored, &extent, fail),
            DType::U16 => self.decode_typed::<u16>(chain, stored, &extent, fail),
            DType::U32 => self.decode_typed::<u32>(chain, stored, &extent, fail),
            DType::U64 => self.decode_typed::<u64>(chain, stored, &extent, fail),
            DType::F32 => self.decode_typed::<f32>(chain, stored, &extent, fail),
            DType::F64 => self.decode_typed::<f64>(chain, stored, &extent, fail),
            DType::Bool => self.read_box(&self.grid().chunk_box(index), Some(index)),
        }
    }

    /// Inner chunk `index` of a sharded array read by `sharded`: the shard's index (cached),
    /// then the inner chunk's bytes alone, decoded once; never written = the fill value.
    fn read_sharded(&self, sharded: &ShardedDirect, index: &[usize]) -> Result<NdData> {
        self.check_first_read()?;
        let (shard, k) = sharded.locate(index);
        let key = self.array.chunk_key(&shard);
        let stored = sharded
            .inner_bytes_many(&self.guard, &key, &shard, &[k])
            .map_err(|(_, m)| self.inner_error(index, &shard, k, &key, m))?
            .pop()
            .flatten();
        self.decode_inner(sharded, index, &shard, k, &key, stored.as_deref())
    }

    /// Inner chunks `indices` of a remote sharded array, grouped by shard: one request for
    /// each shard's index (unless cached) and one for each run of its inner chunks stored
    /// together ([`ShardedDirect::inner_bytes_many`]), the shards concurrently; then each chunk
    /// decoded once, in parallel.
    fn read_sharded_many(
        &self,
        sharded: &ShardedDirect,
        client: &crate::http::HttpClient,
        indices: &[Vec<usize>],
    ) -> Result<Vec<NdData>> {
        self.check_first_read()?;
        let grid = self.grid();
        // Shard -> (position in `indices`, entry in the shard's index) of its chunks asked for.
        let mut shards: std::collections::BTreeMap<Vec<u64>, Vec<(usize, usize)>> =
            Default::default();
        for (pos, index) in indices.iter().enumerate() {
            grid.checked_linear_index(index)
                .map_err(|e| Error::read(&self.name, Some(index), e))?;
            let (shard, k) = sharded.locate(index);
            shards.entry(shard).or_default().push((pos, k));
        }
        let groups: Vec<_> = shards.into_iter().collect();
        // The bytes, a shard's requests at a time, concurrently...
        let fetched = client.map_concurrent(groups.len(), |g| {
            let (shard, members) = &groups[g];
            let key = self.array.chunk_key(shard);
            let ks: Vec<usize> = members.iter().map(|&(_, k)| k).collect();
            let stored = sharded
                .inner_bytes_many(&self.guard, &key, shard, &ks)
                .map_err(|(at, m)| {
                    let (pos, k) = members[at];
                    self.inner_error(&indices[pos], shard, k, &key, m)
                })?;
            Ok::<_, Error>((key, stored))
        });
        let mut work = Vec::with_capacity(indices.len());
        for ((shard, members), got) in groups.iter().zip(fetched) {
            let (key, stored) = got?;
            let key = Arc::new(key);
            for (&(pos, k), bytes) in members.iter().zip(stored) {
                work.push((pos, shard, k, key.clone(), bytes));
            }
        }
        // ...then every chunk decoded on the worker threads (a shard's chunks in parallel too).
        use rayon::prelude::*;
        let decoded = work
            .par_iter()
            .map(|(pos, shard, k, key, bytes)| {
                let index = &indices[*pos];
                let chunk = self.decode_inner(sharded, index, shard, *k, key, bytes.as_deref())?;
                chunk.expect(self.meta.dtype, &grid.chunk_extent(index), &|| {
                    format!("{} chunk {index:?}", self.name)
                })?;
                Ok((*pos, chunk))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut out: Vec<Option<NdData>> = vec![None; indices.len()];
        for (pos, chunk) in decoded {
            out[pos] = Some(chunk);
        }
        out.into_iter()
            .map(|c| c.ok_or_else(|| Error::Internal("an inner chunk was not read".into())))
            .collect()
    }

    /// What a failed read of inner chunk `index` (entry `k` of shard `shard`, stored under
    /// `key`) says.
    fn inner_error(
        &self,
        index: &[usize],
        shard: &[u64],
        k: usize,
        key: &zarrs::storage::StoreKey,
        message: String,
    ) -> Error {
        Error::read(
            &self.name,
            Some(index),
            format!(
                "inner chunk {index:?} of shard {shard:?} ({}, entry {k} of its index): {message}",
                key.as_str()
            ),
        )
    }

    /// Inner chunk `index` decoded from its stored bytes (`None`: never written, the fill
    /// value).
    fn decode_inner(
        &self,
        sharded: &ShardedDirect,
        index: &[usize],
        shard: &[u64],
        k: usize,
        key: &zarrs::storage::StoreKey,
        stored: Option<&[u8]>,
    ) -> Result<NdData> {
        let fail = |m: String| self.inner_error(index, shard, k, key, m);
        self.decode_chunk(sharded.chain(), index, stored, &fail)
    }

    /// A box read chunk by chunk through [`ChunkSource::read_chunks`] (concurrent when
    /// remote), a bounded number of chunks at a time: for the chains vastarray decodes itself.
    fn assemble(&self, region: &[Range<usize>]) -> Result<NdData> {
        let grid = self.grid();
        let shape: Vec<usize> = region.iter().map(|r| r.end - r.start).collect();
        let mut out = NdData::zeros(self.meta.dtype, &shape);
        if out.is_empty() {
            return Ok(out);
        }
        let all = grid.chunks_in_box(region);
        for batch in all.chunks(ASSEMBLE_BATCH) {
            for (idx, chunk) in batch.iter().zip(self.read_chunks(batch)?) {
                crate::source::copy_overlap(&chunk, &grid.chunk_box(idx), &mut out, region)?;
            }
        }
        Ok(out)
    }

    fn decode_typed<T: bytemuck::Pod + crate::Element>(
        &self,
        chain: &DirectChain,
        stored: Option<&[u8]>,
        extent: &[usize],
        fail: &dyn Fn(String) -> Error,
    ) -> Result<NdData> {
        let full = self.meta.read_chunks();
        let Some(stored) = stored else {
            let fill = self.array.fill_value().as_ne_bytes();
            if fill.len() != std::mem::size_of::<T>() {
                return Err(fail(format!(
                    "fill value of {} bytes for elements of {}",
                    fill.len(),
                    std::mem::size_of::<T>()
                )));
            }
            let f: T = bytemuck::pod_read_unaligned(fill);
            let a = ArrayD::from_elem(IxDyn(extent), f);
            return Ok(T::wrap(a));
        };
        // At most MAX_CHUNK_BYTES: the metadata check bounded the chunk's size.
        let n = usize::try_from(chain.decoded_bytes).map_err(|e| fail(e.to_string()))?
            / std::mem::size_of::<T>();
        // Zeroed first: decoding into memory not initialised (tried) measured no faster.
        let mut v = vec![<T as bytemuck::Zeroable>::zeroed(); n];
        chain
            .decode_into(stored, bytemuck::cast_slice_mut(&mut v))
            .map_err(fail)?;
        let a = ArrayD::from_shape_vec(IxDyn(full), v).map_err(|e| fail(e.to_string()))?;
        if extent == full {
            return Ok(T::wrap(a));
        }
        let cropped = a
            .slice_each_axis(|ax| ndarray::Slice::from(0..extent[ax.axis.index()]))
            .to_owned();
        Ok(T::wrap(cropped))
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
        if let Some(chain) = &self.direct {
            return self.read_direct(chain, index);
        }
        if let Some(sharded) = &self.sharded {
            return self.read_sharded(sharded, index);
        }
        self.read_box(&grid.chunk_box(index), Some(index))
    }

    fn read_region(&self, region: &[Range<usize>]) -> Result<NdData> {
        ChunkGrid::new(self.meta.shape.clone(), self.meta.read_chunks().to_vec())
            .check_region(region)
            .map_err(|e| Error::read(&self.name, None, e))?;
        if self.direct.is_some() || self.sharded.is_some() {
            return self.assemble(region);
        }
        self.read_box(region, None)
    }

    fn read_chunks(&self, indices: &[Vec<usize>]) -> Result<Vec<NdData>> {
        if let (Some(sharded), Some(client)) = (&self.sharded, &self.client) {
            if self.meta.dtype != DType::Bool {
                return self.read_sharded_many(sharded, client, indices);
            }
        }
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
