//! [`store_b2nd`]: writes any array (a lazy array or any source) into a contiguous `.b2nd`
//! file, buffer by buffer in bounded memory.

use crate::data::NdData;
use crate::error::{Error, Result};
use crate::io::b2nd::{default_blocks, encode_chunk, B2ndFile, B2ndMeta, Compression, FrameUpdate};
use crate::sink::{ChunkAlignedBuffers, RegionCompute};
use crate::source::{copy_overlap, ChunkGrid};
use rayon::prelude::*;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Default bytes of one buffer (a box of whole target chunks computed at once).
pub const DEFAULT_BUFFER_BYTES: usize = 64 << 20;
/// Default target bytes of a chunk when no chunk shape is given.
pub const DEFAULT_CHUNK_BYTES: usize = 4 << 20;

/// How [`store_b2nd`] lays out and compresses the file.
#[derive(Clone, Debug)]
pub struct B2ndOptions {
    /// Chunk shape; default: the array split along its leading axes into chunks of about 4 MiB.
    pub chunks: Option<Vec<usize>>,
    /// Block shape; default: the chunk split into blocks of about 256 KiB.
    pub blocks: Option<Vec<usize>>,
    /// Codec and level (default Zstandard level 5, as python-blosc2).
    pub compression: Compression,
    /// Bytes of one buffer (default 64 MiB; never less than one chunk).
    pub buffer_bytes: usize,
}

impl Default for B2ndOptions {
    fn default() -> Self {
        B2ndOptions {
            chunks: None,
            blocks: None,
            compression: Compression::zstd(),
            buffer_bytes: DEFAULT_BUFFER_BYTES,
        }
    }
}

/// What [`store_b2nd`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreReport {
    /// The file written.
    pub path: PathBuf,
    /// The array's geometry in the file.
    pub meta: B2ndMeta,
    /// Buffers computed.
    pub buffers: usize,
    /// Chunks written with data.
    pub chunks_written: usize,
    /// Chunks left as Blosc2 special zero chunks because all their values are zero.
    pub zero_chunks: usize,
    /// Bytes of the finished file.
    pub file_bytes: u64,
}

/// A temporary name beside `path`, locked while the store runs (see [`crate::sink::temp`]).
fn temp_path(path: &Path) -> Result<crate::sink::temp::TempFile> {
    crate::sink::temp::TempFile::claim(path)
}

/// Writes `src` into a new contiguous `.b2nd` file at `path` (replacing any file there).
///
/// The array is computed in buffers of whole target chunks ([`ChunkAlignedBuffers`], at most
/// `options.buffer_bytes` each), each buffer is split into chunks, compressed in parallel and
/// written in order, so memory stays around one buffer and its compressed chunks. The file is
/// written under a temporary name in the same directory and renamed at the end: a failure
/// leaves no file that claims to be complete, and the error says which buffer failed.
///
/// ```
/// use vastarray::{store_b2nd, B2ndOptions, B2ndSource, ChunkSource, MemorySource};
/// let a = ndarray::Array::from_shape_fn((30, 20), |(i, j)| (i * 20 + j) as i32).into_dyn();
/// let src = MemorySource::new(a, &[7, 20]).unwrap();
/// let dir = tempfile::tempdir().unwrap();
/// let opts = B2ndOptions { chunks: Some(vec![8, 8]), ..Default::default() };
/// store_b2nd(&src, &dir.path().join("a.b2nd"), &opts).unwrap();
/// let back = B2ndSource::open(dir.path().join("a.b2nd")).unwrap();
/// assert_eq!(back.read_region(&[0..30, 0..20]).unwrap(), src.read_region(&[0..30, 0..20]).unwrap());
/// ```
pub fn store_b2nd(
    src: &dyn RegionCompute,
    path: &Path,
    options: &B2ndOptions,
) -> Result<StoreReport> {
    let shape = src.region_shape();
    let dtype = src.region_dtype();
    let chunks = match &options.chunks {
        Some(c) => c.clone(),
        None => default_blocks(&shape, dtype.size(), DEFAULT_CHUNK_BYTES),
    };
    if chunks.len() != shape.len() {
        return Err(Error::Shape(format!(
            "chunk shape {chunks:?} does not fit shape {shape:?}"
        )));
    }
    let blocks = match &options.blocks {
        Some(b) => b.clone(),
        None => default_blocks(&chunks, dtype.size(), crate::proxy::DEFAULT_BLOCK_BYTES),
    };
    let meta = B2ndMeta {
        shape: shape.clone(),
        chunks: chunks.clone(),
        blocks,
        dtype,
    };
    let layout = meta.layout()?;
    let tmp = temp_path(path)?;
    let mut file = B2ndFile::create_zeros(&tmp, &meta, options.compression)?;
    let grid = ChunkGrid::new(shape.clone(), chunks.clone());
    let buffers = ChunkAlignedBuffers::new(&shape, &chunks, dtype.size(), options.buffer_bytes)?;
    let total = buffers.num_buffers();
    let mut report = StoreReport {
        path: path.to_path_buf(),
        meta: meta.clone(),
        buffers: 0,
        chunks_written: 0,
        zero_chunks: 0,
        file_bytes: 0,
    };
    let result = (|| -> Result<()> {
        for (k, region) in buffers.enumerate() {
            let fail = |e: Error| {
                Error::file(
                    path,
                    format!("buffer {} of {total} (region {region:?}): {e}", k + 1),
                )
            };
            let data = src.compute_checked(&region).map_err(fail)?;
            let ids = grid.chunks_in_box(&region);
            let encoded: Vec<Option<Vec<u8>>> = ids
                .par_iter()
                .map(|idx| {
                    let cbox = grid.chunk_box(idx);
                    let piece = cut(&data, &region, &cbox)?;
                    if is_all_zero(&piece) {
                        return Ok(None);
                    }
                    encode_chunk(&piece, &layout, options.compression).map(Some)
                })
                .collect::<Result<_>>()
                .map_err(fail)?;
            // The buffer's chunks in one commit: one new chunk index per buffer, not per chunk.
            let chunks: Vec<(usize, &[u8])> = ids
                .iter()
                .zip(&encoded)
                .filter_map(|(idx, raw)| raw.as_deref().map(|r| (grid.linear_index(idx), r)))
                .collect();
            report.chunks_written += chunks.len();
            report.zero_chunks += ids.len() - chunks.len();
            if !chunks.is_empty() {
                let update = FrameUpdate {
                    chunks,
                    ..FrameUpdate::default()
                };
                file.commit(&update, None).map_err(fail)?;
            }
            report.buffers += 1;
        }
        Ok(())
    })();
    drop(file);
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::file(
            path,
            format!("cannot move the finished file into place: {e}"),
        )
    })?;
    report.file_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(report)
}

/// The part `part` (array coordinates) of `data` (covering `region`).
fn cut(data: &NdData, region: &[Range<usize>], part: &[Range<usize>]) -> Result<NdData> {
    let shape: Vec<usize> = part.iter().map(|r| r.end - r.start).collect();
    let mut out = NdData::zeros(data.dtype(), &shape);
    copy_overlap(data, region, &mut out, part)?;
    Ok(out)
}

fn is_all_zero(d: &NdData) -> bool {
    crate::with_nd!(d, a: T => a.iter().all(|v| *v == T::default()))
}
