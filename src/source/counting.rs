//! [`CountingSource`]: wraps any source and counts what is read from it, so tests can prove
//! that an evaluation read only what it needed.

use super::ChunkSource;
use crate::data::NdData;
use crate::dtype::DType;
use crate::error::Result;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

/// What has been read through a [`CountingSource`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadCounts {
    /// Chunks read: calls of `read_chunk`, plus every chunk of a batch read by `read_chunks`.
    pub chunk_reads: usize,
    /// Calls of `read_chunks` (batch reads, forwarded to the inner source so that its own
    /// batching, such as concurrent HTTP requests, is kept).
    pub batch_reads: usize,
    /// Calls of `read_region`.
    pub region_reads: usize,
    /// Elements delivered by all reads.
    pub elements: usize,
    /// How often each chunk was read by `read_chunk` or as part of a `read_chunks` batch.
    pub per_chunk: BTreeMap<Vec<usize>, usize>,
    /// The boxes asked of `read_region`, in order.
    pub regions: Vec<Vec<Range<usize>>>,
}

impl ReadCounts {
    /// Every chunk touched by a read of either kind, with the number of reads touching it.
    pub fn chunks_touched(&self, grid: &super::ChunkGrid) -> BTreeMap<Vec<usize>, usize> {
        let mut out = self.per_chunk.clone();
        for r in &self.regions {
            for c in grid.chunks_in_box(r) {
                *out.entry(c).or_default() += 1;
            }
        }
        out
    }
}

/// A source that forwards to another and counts every read. Clones share the counts.
#[derive(Clone)]
pub struct CountingSource {
    inner: Arc<dyn ChunkSource>,
    counts: Arc<Mutex<ReadCounts>>,
    region_reads: bool,
}

impl CountingSource {
    /// Wraps `inner`. Region reads are forwarded when the inner source prefers them.
    pub fn new(inner: impl ChunkSource + 'static) -> Self {
        let inner: Arc<dyn ChunkSource> = Arc::new(inner);
        let region_reads = inner.prefers_region_reads();
        CountingSource {
            inner,
            counts: Arc::default(),
            region_reads,
        }
    }

    /// Makes the executor read whole chunks only (so counts are in chunks).
    pub fn chunks_only(mut self) -> Self {
        self.region_reads = false;
        self
    }

    /// A snapshot of the counts so far.
    pub fn counts(&self) -> ReadCounts {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Chunks touched by any read so far (with multiplicity).
    pub fn chunks_touched(&self) -> BTreeMap<Vec<usize>, usize> {
        self.counts().chunks_touched(&self.grid())
    }

    /// Total reads of either kind (each chunk of a batch counts as one read).
    pub fn reads(&self) -> usize {
        let c = self.counts();
        c.chunk_reads + c.region_reads
    }

    /// Forgets the counts.
    pub fn reset(&self) {
        if let Ok(mut c) = self.counts.lock() {
            *c = ReadCounts::default();
        }
    }
}

impl ChunkSource for CountingSource {
    fn shape(&self) -> &[usize] {
        self.inner.shape()
    }
    fn dtype(&self) -> DType {
        self.inner.dtype()
    }
    fn chunk_shape(&self) -> &[usize] {
        self.inner.chunk_shape()
    }
    fn name(&self) -> String {
        self.inner.name()
    }
    fn read_chunk(&self, index: &[usize]) -> Result<NdData> {
        let out = self.inner.read_chunk(index)?;
        if let Ok(mut c) = self.counts.lock() {
            c.chunk_reads += 1;
            c.elements += out.len();
            *c.per_chunk.entry(index.to_vec()).or_default() += 1;
        }
        Ok(out)
    }
    fn read_chunks(&self, indices: &[Vec<usize>]) -> Result<Vec<NdData>> {
        let out = self.inner.read_chunks(indices)?;
        if let Ok(mut c) = self.counts.lock() {
            c.batch_reads += 1;
            c.chunk_reads += indices.len();
            c.elements += out.iter().map(NdData::len).sum::<usize>();
            for index in indices {
                *c.per_chunk.entry(index.clone()).or_default() += 1;
            }
        }
        Ok(out)
    }
    fn read_region(&self, region: &[Range<usize>]) -> Result<NdData> {
        let out = self.inner.read_region(region)?;
        if let Ok(mut c) = self.counts.lock() {
            c.region_reads += 1;
            c.elements += out.len();
            c.regions.push(region.to_vec());
        }
        Ok(out)
    }
    fn prefers_region_reads(&self) -> bool {
        self.region_reads
    }
    fn identity(&self) -> Option<String> {
        self.inner.identity()
    }
    fn latency_bound(&self) -> bool {
        self.inner.latency_bound()
    }
}
