//! Sources: where array data comes from. Everything that can deliver chunks of an n-dimensional
//! array implements [`ChunkSource`]; the expression graph wraps a source in an adapter node
//! ([`crate::Array::from_source`]).
//!
//! Built-in sources: [`MemorySource`] (an ndarray in memory with a chosen chunk shape),
//! [`GeneratedSource`] (values computed from each chunk's region, for arrays far larger than RAM),
//! [`ConstantSource`] (zeros, ones, full) and [`CountingSource`] (wraps any source and counts reads,
//! so tests can prove laziness). Files and servers live beside the core, one module per format
//! in [`crate::io`].
//!
//! ```
//! use vastarray::{ChunkSource, CountingSource, DType, DynArray, GeneratedSource, NdData};
//! // A 10^6 x 10^6 array computed from positions: only what a result needs is generated.
//! let gen = GeneratedSource::new(&[1_000_000, 1_000_000], &[1000, 1000], DType::F64, |r| {
//!     NdData::from(ndarray::ArrayD::from_shape_fn(
//!         r.iter().map(|x| x.len()).collect::<Vec<_>>(),
//!         |ix| (r[0].start + ix[0]) as f64,
//!     ))
//! })
//! .unwrap();
//! let counted = std::sync::Arc::new(CountingSource::new(gen));
//! let a = DynArray::from_source_arc(counted.clone());
//! let v = a.select_str("1500, 10:20").unwrap().sum(0).unwrap().ndarray().unwrap();
//! assert_eq!(v.into_typed::<f64>().unwrap()[[]], 15000.0);
//! assert_eq!(counted.reads(), 1, "one chunk of a million");
//! ```

mod constant;
mod counting;
mod generated;
mod grid;
mod memory;
pub mod path_check;

pub use constant::ConstantSource;
pub use counting::{CountingSource, ReadCounts};
pub use generated::GeneratedSource;
pub use grid::{cartesian, ChunkGrid};
pub use memory::MemorySource;

use crate::data::NdData;
use crate::dtype::DType;
use crate::error::{Error, Result};
use std::ops::Range;
use std::sync::Arc;

/// Anything that can deliver an n-dimensional array chunk by chunk.
///
/// The chunk grid is regular: chunk `i` along an axis covers `i * c .. min((i + 1) * c, n)`, so
/// the last chunk along an axis may be partial. Implementations must be `Send + Sync`: the
/// executor reads chunks from many threads at once.
pub trait ChunkSource: Send + Sync {
    /// The array's shape.
    fn shape(&self) -> &[usize];
    /// The element type.
    fn dtype(&self) -> DType;
    /// The chunk shape (same length as the shape; every entry at least 1).
    fn chunk_shape(&self) -> &[usize];
    /// A short description for errors and plans: file and dataset, URL, or kind of source.
    fn name(&self) -> String;
    /// Reads chunk `index` (a position in the chunk grid). The result has exactly the chunk's
    /// shape (clipped at the array's edge) and the source's element type.
    fn read_chunk(&self, index: &[usize]) -> Result<NdData>;
    /// Reads an arbitrary box. The default assembles it from whole chunks; sources that can do
    /// better (a format with blocks inside chunks, a server with a region endpoint) override it
    /// and return true from [`ChunkSource::prefers_region_reads`].
    fn read_region(&self, region: &[Range<usize>]) -> Result<NdData> {
        assemble_region(self, region)
    }
    /// True when [`ChunkSource::read_region`] reads less than whole chunks, so the executor asks
    /// it for just the part of a chunk it needs.
    fn prefers_region_reads(&self) -> bool {
        false
    }
    /// True when reading any region costs about what copying it out of memory costs (arrays in
    /// memory, constants): the executor then reads exactly the regions a task needs, tile by
    /// tile, instead of reading whole chunks once and keeping them for the task.
    fn cheap_region_reads(&self) -> bool {
        false
    }
    /// Reads several chunks, in the order given. The default reads them one after the other;
    /// sources whose reads wait (HTTP, a cache in front of a slow source) override it to read
    /// concurrently, up to a bound of their own.
    fn read_chunks(&self, indices: &[Vec<usize>]) -> Result<Vec<NdData>> {
        indices.iter().map(|i| read_checked(self, i)).collect()
    }
    /// True for sources whose reads mostly wait (network, a slow device) rather than compute:
    /// the executor then issues the reads of one task concurrently, on I/O threads.
    fn latency_bound(&self) -> bool {
        false
    }
    /// A stamp of the data's identity (path, size and modification time; URL and ETag), used by
    /// persistent caches to tell whether cached chunks are still valid. `None` when unknown.
    fn identity(&self) -> Option<String> {
        None
    }
    /// The whole array, when the source holds it in memory and can lend it without a copy (an
    /// in-memory array, a stage result): a broadcast operand that covers all of it is then
    /// shared by every task instead of copied out per task. `None` (the default) otherwise.
    fn shared_whole(&self) -> Option<Arc<NdData>> {
        None
    }
    /// The block shape of the chunks [`ChunkSource::read_chunk_blosc2`] gives, when the source
    /// can give its chunks as they are stored: one Blosc2 chunk each (a `.b2nd` dataset on a
    /// Caterva2 server). `None` (the default) otherwise.
    fn blosc2_blocks(&self) -> Option<&[usize]> {
        None
    }
    /// Chunk `index` as it is stored, one Blosc2 chunk of the full chunk shape with blocks of
    /// [`ChunkSource::blosc2_blocks`], not decoded: the caching proxy keeps these bytes as they
    /// arrived instead of decoding the chunk and compressing it again. `None` (the default)
    /// when the source has no such form.
    fn read_chunk_blosc2(&self, index: &[usize]) -> Option<Result<Vec<u8>>> {
        let _ = index;
        None
    }
    /// The chunk grid of this source.
    fn grid(&self) -> ChunkGrid {
        ChunkGrid::new(self.shape().to_vec(), self.chunk_shape().to_vec())
    }
}

/// Reads `region` of `source` by reading every chunk it touches and copying the overlap.
pub fn assemble_region<S: ChunkSource + ?Sized>(
    source: &S,
    region: &[Range<usize>],
) -> Result<NdData> {
    let grid = source.grid();
    grid.check_region(region)
        .map_err(|e| Error::read(source.name(), None, e))?;
    let out_shape: Vec<usize> = region.iter().map(|r| r.end - r.start).collect();
    let mut out = NdData::zeros(source.dtype(), &out_shape);
    if out.is_empty() {
        return Ok(out);
    }
    for idx in grid.chunks_in_box(region) {
        let chunk = read_checked(source, &idx)?;
        let chunk_box = grid.chunk_box(&idx);
        copy_overlap(&chunk, &chunk_box, &mut out, region)?;
    }
    Ok(out)
}

/// Reads one chunk and checks that its shape and type are the ones the grid promises, so a
/// source that lies is caught where it lies.
pub fn read_checked<S: ChunkSource + ?Sized>(source: &S, index: &[usize]) -> Result<NdData> {
    let chunk = source.read_chunk(index)?;
    let want = source.grid().chunk_extent(index);
    chunk.expect(source.dtype(), &want, &|| {
        format!("{} chunk {:?}", source.name(), index)
    })?;
    Ok(chunk)
}

/// Copies the overlap of `src` (covering the box `src_box`) into `dst` (covering `dst_box`).
pub fn copy_overlap(
    src: &NdData,
    src_box: &[Range<usize>],
    dst: &mut NdData,
    dst_box: &[Range<usize>],
) -> Result<()> {
    use ndarray::{Slice, SliceInfoElem};
    let mut src_sl = Vec::with_capacity(src_box.len());
    let mut dst_sl = Vec::with_capacity(src_box.len());
    for (s, d) in src_box.iter().zip(dst_box) {
        let lo = s.start.max(d.start);
        let hi = s.end.min(d.end);
        if lo >= hi {
            return Ok(());
        }
        src_sl.push(SliceInfoElem::from(Slice::from(
            (lo - s.start)..(hi - s.start),
        )));
        dst_sl.push(SliceInfoElem::from(Slice::from(
            (lo - d.start)..(hi - d.start),
        )));
    }
    if src.dtype() != dst.dtype() {
        return Err(Error::Internal(format!(
            "copy_overlap: {} into {}",
            src.dtype(),
            dst.dtype()
        )));
    }
    crate::with_nd!(dst, d: T => {
        let s = T::peek(src).ok_or_else(|| Error::Internal("copy_overlap dtype".into()))?;
        d.slice_mut(dst_sl.as_slice()).assign(&s.slice(src_sl.as_slice()));
        Ok(())
    })
}
