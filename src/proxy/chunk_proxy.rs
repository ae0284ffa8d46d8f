//! [`Proxy`]: a caching [`ChunkSource`] in front of any other source.

use super::builder::ProxyBuilder;
use super::cache_file::CacheFile;
use super::flight::{Landed, Role, SingleFlight};
use super::pool::{ChunkBytes, MemoryPool};
use crate::data::NdData;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::http::Limiter;
use crate::io::b2nd::{decode_chunk, decode_chunk_region, encode_chunk, ChunkLayout, Compression};
use crate::source::{copy_overlap, read_checked, ChunkGrid, ChunkSource};
use rayon::prelude::*;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What one [`Proxy::fetch`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FetchReport {
    /// Chunks the selection touches.
    pub chunks_total: usize,
    /// Chunks read from the source by this call.
    pub chunks_read: usize,
    /// Uncompressed bytes read from the source by this call.
    pub bytes_read: usize,
    /// Compressed bytes those chunks take in the cache.
    pub bytes_stored: usize,
    /// Chunks that were already cached (memory pool or cache file).
    pub chunks_cached: usize,
    /// Chunks another thread was reading at the same time; this call waited for its result.
    pub chunks_shared: usize,
}

/// Counters over a proxy's life.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Chunks read from the source.
    pub source_reads: u64,
    /// Uncompressed bytes read from the source.
    pub source_bytes: u64,
    /// Chunks served from the memory pool.
    pub memory_hits: u64,
    /// Chunks served from the cache file.
    pub file_hits: u64,
    /// Chunks obtained by waiting for another thread's read of the same chunk.
    pub shared_reads: u64,
}

#[derive(Default)]
struct Counters {
    source_reads: AtomicU64,
    source_bytes: AtomicU64,
    memory_hits: AtomicU64,
    file_hits: AtomicU64,
    shared_reads: AtomicU64,
}

pub(crate) struct ProxyParts {
    pub source: Arc<dyn ChunkSource>,
    pub layout: ChunkLayout,
    pub compression: Compression,
    pub pool: Option<Arc<MemoryPool>>,
    pub file: Option<CacheFile>,
    pub concurrency: usize,
}

/// Where a chunk came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    Cache,
    Source { bytes: usize },
    Shared,
}

/// A caching proxy: python-blosc2's `Proxy`, for any [`ChunkSource`], and itself a
/// `ChunkSource`, so lazy arrays read through it without knowing.
///
/// Whole chunks are the unit of caching, stored compressed with Blosc2 (LZ4 by default) in up to
/// two tiers: a byte-bounded LRU [`MemoryPool`] (shareable by many proxies) and a persistent
/// `.b2nd` cache file that python-blosc2 opens as an ordinary array. [`Proxy::fetch`] makes sure
/// the chunks of a box are cached, reading only missing ones, concurrently (up to the proxy's
/// concurrency limit) and each at most once however many threads ask for it at the same time;
/// [`Proxy::get`] fetches, then returns the values, decompressing only the Blosc2 blocks the box
/// touches.
///
/// ```
/// use std::sync::Arc;
/// use vastarray::{ChunkSource, MemorySource, proxy::{MemoryPool, Proxy}};
/// let a = ndarray::Array::from_shape_fn((100, 80), |(i, j)| (i * 80 + j) as f32).into_dyn();
/// let src = Arc::new(MemorySource::new(a, &[10, 40]).unwrap());
/// let proxy = Proxy::builder(src).memory_pool(MemoryPool::new(64 << 20)).open().unwrap();
/// let report = proxy.fetch(&[0..20, 0..80]).unwrap();
/// assert_eq!(report.chunks_read, 4);
/// let v = proxy.get(&[5..15, 30..50]).unwrap();
/// assert_eq!(v.shape(), &[10, 20]);
/// assert_eq!(proxy.fetch(&[0..20, 0..80]).unwrap().chunks_read, 0);
/// ```
pub struct Proxy {
    source: Arc<dyn ChunkSource>,
    grid: ChunkGrid,
    layout: ChunkLayout,
    compression: Compression,
    pool: Option<Arc<MemoryPool>>,
    owner: u64,
    file: Option<CacheFile>,
    flights: SingleFlight,
    limit: Limiter,
    concurrency: usize,
    counters: Counters,
}

impl Proxy {
    /// Starts building a proxy in front of `source`.
    pub fn builder(source: Arc<dyn ChunkSource>) -> ProxyBuilder {
        ProxyBuilder::new(source)
    }

    pub(crate) fn from_parts(p: ProxyParts) -> Proxy {
        let owner = p.pool.as_ref().map(|pool| pool.new_owner()).unwrap_or(0);
        Proxy {
            grid: p.source.grid(),
            source: p.source,
            layout: p.layout,
            compression: p.compression,
            pool: p.pool,
            owner,
            file: p.file,
            flights: SingleFlight::default(),
            limit: Limiter::new(p.concurrency),
            concurrency: p.concurrency.max(1),
            counters: Counters::default(),
        }
    }

    /// The source behind the cache.
    pub fn source(&self) -> &Arc<dyn ChunkSource> {
        &self.source
    }

    /// The layout (chunk and block shapes) of cached chunks.
    pub fn layout(&self) -> &ChunkLayout {
        &self.layout
    }

    /// The persistent cache file, if any.
    pub fn cache_path(&self) -> Option<&Path> {
        self.file.as_ref().map(|f| f.path())
    }

    /// True when opening the cache file rolled back a chunk write a killed process left
    /// unfinished.
    pub fn cache_recovered(&self) -> bool {
        self.file.as_ref().is_some_and(|f| f.recovered())
    }

    /// Number of chunks in the persistent cache file (0 without one).
    pub fn chunks_in_file(&self) -> usize {
        self.file.as_ref().map_or(0, |f| f.count())
    }

    /// True when chunk `index` is cached in either tier.
    pub fn is_cached(&self, index: &[usize]) -> bool {
        let n = self.grid.linear_index(index);
        self.file.as_ref().is_some_and(|f| f.contains(n))
            || self
                .pool
                .as_ref()
                .is_some_and(|p| p.peek(self.owner, n).is_some())
    }

    /// Counters over the proxy's life.
    pub fn stats(&self) -> ProxyStats {
        let c = &self.counters;
        ProxyStats {
            source_reads: c.source_reads.load(Ordering::Relaxed),
            source_bytes: c.source_bytes.load(Ordering::Relaxed),
            memory_hits: c.memory_hits.load(Ordering::Relaxed),
            file_hits: c.file_hits.load(Ordering::Relaxed),
            shared_reads: c.shared_reads.load(Ordering::Relaxed),
        }
    }

    /// Makes sure every chunk `selection` touches is cached, reading only the missing ones
    /// (concurrently, up to the concurrency limit). A failed chunk fails the call with an error
    /// naming the chunk and the source; chunks read before it stay cached.
    ///
    /// A selection is one range per axis; like numpy, missing trailing axes are taken whole
    /// (`[2..3]` of a 3-d array is `[2..3, all, all]`).
    pub fn fetch(&self, selection: &[Range<usize>]) -> Result<FetchReport> {
        let selection = &self.complete(selection)?;
        let chunks = self.grid.chunks_in_box(selection);
        self.ensure_many(&chunks).map(|(_, r)| r)
    }

    /// Fetches the whole array.
    pub fn fetch_all(&self) -> Result<FetchReport> {
        let all: Vec<Range<usize>> = self.grid.shape().iter().map(|&n| 0..n).collect();
        self.fetch(&all)
    }

    /// Fetches `selection` (missing trailing axes taken whole), then returns its values.
    pub fn get(&self, selection: &[Range<usize>]) -> Result<NdData> {
        let selection = &self.complete(selection)?;
        let shape: Vec<usize> = selection.iter().map(|r| r.end - r.start).collect();
        let mut out = NdData::zeros(self.dtype(), &shape);
        if out.is_empty() {
            return Ok(out);
        }
        let chunks = self.grid.chunks_in_box(selection);
        let (bytes, _) = self.ensure_many(&chunks)?;
        if let ([idx], [raw]) = (chunks.as_slice(), bytes.as_slice()) {
            // One chunk: decode the selection straight out of it, no copy.
            let cbox = self.grid.chunk_box(idx);
            let local: Vec<Range<usize>> = selection
                .iter()
                .zip(&cbox)
                .map(|(s, c)| (s.start - c.start)..(s.end - c.start))
                .collect();
            return decode_chunk_region(raw, &self.layout, &local)
                .map_err(|e| self.cache_error(idx, e));
        }
        let parts: Vec<(Vec<Range<usize>>, NdData)> = chunks
            .par_iter()
            .zip(bytes.par_iter())
            .map(|(idx, raw)| {
                let cbox = self.grid.chunk_box(idx);
                let overlap: Vec<Range<usize>> = cbox
                    .iter()
                    .zip(selection)
                    .map(|(c, s)| c.start.max(s.start)..c.end.min(s.end))
                    .collect();
                let local: Vec<Range<usize>> = overlap
                    .iter()
                    .zip(&cbox)
                    .map(|(o, c)| (o.start - c.start)..(o.end - c.start))
                    .collect();
                let part = decode_chunk_region(raw, &self.layout, &local)
                    .map_err(|e| self.cache_error(idx, e))?;
                Ok((overlap, part))
            })
            .collect::<Result<_>>()?;
        for (overlap, part) in &parts {
            copy_overlap(part, overlap, &mut out, selection)?;
        }
        Ok(out)
    }

    /// The selection with missing trailing axes taken whole, checked against the shape.
    fn complete(&self, selection: &[Range<usize>]) -> Result<Vec<Range<usize>>> {
        let shape = self.grid.shape();
        let mut sel = selection.to_vec();
        if sel.len() < shape.len() {
            sel.extend(shape[sel.len()..].iter().map(|&n| 0..n));
        }
        self.grid
            .check_region(&sel)
            .map_err(|e| Error::read(self.name(), None, e))?;
        Ok(sel)
    }

    fn cache_error(&self, idx: &[usize], e: impl std::fmt::Display) -> Error {
        Error::read(
            self.name(),
            Some(idx),
            format!("cached chunk is unreadable: {e}"),
        )
    }

    /// The compressed bytes of every chunk in `chunks` (same order), reading missing ones.
    ///
    /// Missing chunks are read concurrently, but they enter the memory pool afterwards, in the
    /// order asked for, so the pool's contents and recency never depend on which read finished
    /// first. Until then their flights stay open: another caller asking for one of them gets
    /// it from the flight, never from a second read.
    fn ensure_many(&self, chunks: &[Vec<usize>]) -> Result<(Vec<ChunkBytes>, FetchReport)> {
        let mut report = FetchReport {
            chunks_total: chunks.len(),
            ..FetchReport::default()
        };
        let mut found: Vec<Option<ChunkBytes>> = Vec::with_capacity(chunks.len());
        let mut missing = Vec::new();
        for (k, idx) in chunks.iter().enumerate() {
            let hit = self.lookup(self.grid.linear_index(idx), idx, true, true)?;
            if hit.is_none() {
                missing.push(k);
            }
            found.push(hit);
        }
        report.chunks_cached = chunks.len() - missing.len();
        if missing.is_empty() {
            let bytes = found.into_iter().flatten().collect();
            return Ok((bytes, report));
        }
        type Done<'a> = (usize, ChunkBytes, Origin, Option<Landed<'a>>);
        let results: Mutex<Vec<Done<'_>>> = Mutex::new(Vec::with_capacity(missing.len()));
        let first_error: Mutex<Option<Error>> = Mutex::new(None);
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let work = || loop {
            if failed.load(Ordering::Relaxed) {
                break;
            }
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(&k) = missing.get(i) else { break };
            let Some(idx) = chunks.get(k) else { break };
            match self.ensure_one(idx) {
                Ok((b, o, landed)) => results
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((k, b, o, landed)),
                Err(e) => {
                    failed.store(true, Ordering::Relaxed);
                    let mut fe = first_error.lock().unwrap_or_else(|p| p.into_inner());
                    if fe.is_none() {
                        *fe = Some(e);
                    }
                }
            }
        };
        let threads = self.concurrency.min(missing.len());
        if threads <= 1 {
            work();
        } else {
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(work);
                }
            });
        }
        let mut done = results.into_inner().unwrap_or_else(|p| p.into_inner());
        done.sort_by_key(|d| d.0);
        // Into the pool in the order asked for (a follower's chunk is its leader's to store).
        if let Some(pool) = &self.pool {
            for (k, b, origin, _) in &done {
                if *origin != Origin::Shared {
                    pool.insert(self.owner, self.grid.linear_index(&chunks[*k]), b.clone());
                }
            }
        }
        if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        for (k, b, origin, landed) in done {
            match origin {
                Origin::Source { bytes } => {
                    report.chunks_read += 1;
                    report.bytes_read += bytes;
                    report.bytes_stored += b.len();
                }
                Origin::Shared => report.chunks_shared += 1,
                Origin::Cache => report.chunks_cached += 1,
            }
            drop(landed);
            if let Some(slot) = found.get_mut(k) {
                *slot = Some(b);
            }
        }
        let bytes = found
            .into_iter()
            .zip(chunks)
            .map(|(b, idx)| {
                b.ok_or_else(|| {
                    Error::Internal(format!("chunk {idx:?} was neither cached nor read"))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((bytes, report))
    }

    /// The chunk from the memory pool or the cache file, if cached. `count` says whether the
    /// pool counts the lookup in its hit/miss statistics (not when re-checking); `fill` whether
    /// a chunk found in the file enters the pool now (else the caller stores it, in order).
    fn lookup(
        &self,
        n: usize,
        idx: &[usize],
        count: bool,
        fill: bool,
    ) -> Result<Option<ChunkBytes>> {
        if let Some(pool) = &self.pool {
            let hit = if count {
                pool.get(self.owner, n)
            } else {
                pool.peek(self.owner, n)
            };
            if let Some(b) = hit {
                self.counters.memory_hits.fetch_add(1, Ordering::Relaxed);
                return Ok(Some(b));
            }
        }
        if let Some(file) = &self.file {
            if let Some(b) = file.read(n).map_err(|e| self.cache_error(idx, e))? {
                self.counters.file_hits.fetch_add(1, Ordering::Relaxed);
                if let (Some(pool), true) = (&self.pool, fill) {
                    pool.insert(self.owner, n, b.clone());
                }
                return Ok(Some(b));
            }
        }
        Ok(None)
    }

    /// One missing chunk: read once (single flight), compressed, written to the cache file.
    /// The caller puts it into the memory pool, then drops the landed flight.
    fn ensure_one(&self, idx: &[usize]) -> Result<(ChunkBytes, Origin, Option<Landed<'_>>)> {
        let n = self.grid.linear_index(idx);
        let read_bytes = AtomicUsize::new(0);
        let mut cached = false;
        let (bytes, role, landed) = self.flights.run(
            n,
            || {
                // Another flight may have finished between our lookup and this one.
                if let Some(b) = self.lookup(n, idx, false, false)? {
                    cached = true;
                    return Ok(b);
                }
                let (nbytes, raw) = match self.read_as_arrived(idx)? {
                    Some(kept) => kept,
                    None => {
                        let data = {
                            let _permit = self.limit.acquire();
                            read_checked(self.source.as_ref(), idx)
                                .map_err(|e| self.source_error(idx, e))?
                        };
                        let raw =
                            encode_chunk(&data, &self.layout, self.compression).map_err(|e| {
                                Error::read(
                                    self.source.name(),
                                    Some(idx),
                                    "compressing for the cache",
                                )
                                .caused_by(e)
                            })?;
                        (data.nbytes(), raw)
                    }
                };
                read_bytes.store(nbytes, Ordering::Relaxed);
                self.counters.source_reads.fetch_add(1, Ordering::Relaxed);
                self.counters
                    .source_bytes
                    .fetch_add(nbytes as u64, Ordering::Relaxed);
                if let Some(file) = &self.file {
                    file.write(n, &raw)?;
                }
                Ok(Arc::new(raw))
            },
            |msg| Error::read(self.source.name(), Some(idx), msg),
        )?;
        let origin = match role {
            Role::Follower => {
                self.counters.shared_reads.fetch_add(1, Ordering::Relaxed);
                Origin::Shared
            }
            Role::Leader if cached => Origin::Cache,
            Role::Leader => Origin::Source {
                bytes: read_bytes.load(Ordering::Relaxed),
            },
        };
        Ok((bytes, origin, landed))
    }

    /// Chunk `idx` as the source stores it (a Blosc2 chunk of this cache's blocks), with its
    /// decoded size, when the source gives that form: kept as it arrived, not compressed again.
    /// It is decoded once first, so a chunk that does not decode to its extent never enters
    /// the cache.
    fn read_as_arrived(&self, idx: &[usize]) -> Result<Option<(usize, Vec<u8>)>> {
        if self.source.blosc2_blocks() != Some(self.layout.block_shape()) {
            return Ok(None);
        }
        let raw = {
            let _permit = self.limit.acquire();
            match self.source.read_chunk_blosc2(idx) {
                None => return Ok(None),
                Some(r) => r.map_err(|e| self.source_error(idx, e))?,
            }
        };
        let data = decode_chunk(&raw, &self.layout, &self.grid.chunk_extent(idx)).map_err(|e| {
            Error::read(self.source.name(), Some(idx), "not a valid Blosc2 chunk").caused_by(e)
        })?;
        Ok(Some((data.nbytes(), raw)))
    }

    fn source_error(&self, idx: &[usize], e: Error) -> Error {
        match e {
            Error::Read { chunk: Some(_), .. } => e,
            other => Error::read(self.source.name(), Some(idx), other),
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(pool) = &self.pool {
            pool.remove_owner(self.owner);
        }
    }
}

impl ChunkSource for Proxy {
    fn shape(&self) -> &[usize] {
        self.grid.shape()
    }
    fn dtype(&self) -> DType {
        self.source.dtype()
    }
    fn chunk_shape(&self) -> &[usize] {
        self.grid.chunk_shape()
    }
    fn name(&self) -> String {
        format!("cache of {}", self.source.name())
    }
    fn read_chunk(&self, index: &[usize]) -> Result<NdData> {
        self.grid
            .checked_linear_index(index)
            .map_err(|e| Error::read(self.name(), Some(index), e))?;
        let (bytes, _) = self.ensure_many(&[index.to_vec()])?;
        let raw = bytes
            .first()
            .ok_or_else(|| Error::Internal("no chunk returned".into()))?;
        decode_chunk(raw, &self.layout, &self.grid.chunk_extent(index))
            .map_err(|e| self.cache_error(index, e))
    }
    fn read_region(&self, region: &[Range<usize>]) -> Result<NdData> {
        self.get(region)
    }
    fn prefers_region_reads(&self) -> bool {
        true
    }
    fn read_chunks(&self, indices: &[Vec<usize>]) -> Result<Vec<NdData>> {
        for index in indices {
            self.grid
                .checked_linear_index(index)
                .map_err(|e| Error::read(self.name(), Some(index), e))?;
        }
        let (bytes, _) = self.ensure_many(indices)?;
        indices
            .par_iter()
            .zip(bytes.par_iter())
            .map(|(idx, raw)| {
                decode_chunk(raw, &self.layout, &self.grid.chunk_extent(idx))
                    .map_err(|e| self.cache_error(idx, e))
            })
            .collect()
    }
    fn latency_bound(&self) -> bool {
        self.source.latency_bound()
    }
    fn identity(&self) -> Option<String> {
        self.source.identity()
    }
}
