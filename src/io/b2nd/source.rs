//! [`B2ndSource`]: a contiguous `.b2nd` file (python-blosc2's format) as a lazy chunk source.

use crate::data::NdData;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::io::b2nd::{decode_chunk, decode_chunk_region, B2ndFile, B2ndMeta, ChunkLayout};
use crate::source::{copy_overlap, ChunkSource};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// A `.b2nd` file read lazily, chunk by chunk or box by box.
///
/// Opening reads and checks the frame's header, metadata and chunk index (not the chunk data):
/// shape, chunk and block shapes and element type. Reads run in parallel from any number of
/// threads on one shared handle (`pread` of exactly the bytes a checked chunk header
/// announces, decompressed by C-Blosc2 into a buffer of the exact size). Region reads
/// decompress only the Blosc2 blocks the box touches ([`ChunkSource::prefers_region_reads`]
/// is true). A damaged file gives an error naming the file and the chunk.
///
/// ```no_run
/// use vastarray::{ChunkSource, B2ndSource};
/// let src = B2ndSource::open("data.b2nd").unwrap();
/// let corner = src.read_region(&[0..10, 0..10]).unwrap();
/// ```
pub struct B2ndSource {
    path: PathBuf,
    meta: B2ndMeta,
    layout: ChunkLayout,
    identity: String,
    file: B2ndFile,
}

impl B2ndSource {
    /// Opens a `.b2nd` file. Errors name the file: missing, truncated or corrupt, unsupported
    /// element type (complex, strings, big-endian, half floats, structured).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = B2ndFile::open(&path)?;
        let meta = file.meta().clone();
        let layout = meta.layout().map_err(|e| Error::file(&path, e))?;
        let identity = file_identity(&path)?;
        Ok(B2ndSource {
            path,
            meta,
            layout,
            identity,
            file,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The block shape (blocks are the unit Blosc2 decompresses inside a chunk).
    pub fn block_shape(&self) -> &[usize] {
        &self.meta.blocks
    }

    /// The file's geometry.
    pub fn meta(&self) -> &B2ndMeta {
        &self.meta
    }

    fn check_index(&self, index: &[usize]) -> Result<usize> {
        self.grid()
            .checked_linear_index(index)
            .map_err(|e| Error::read(self.name(), Some(index), e))
    }
}

/// A stamp of a file's identity: path, size and modification time (nanoseconds).
pub fn file_identity(path: &Path) -> Result<String> {
    let m = std::fs::metadata(path).map_err(|e| Error::file(path, "cannot stat").caused_by(e))?;
    let mtime = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Ok(format!(
        "file:{}|size={}|mtime_ns={}",
        path.display(),
        m.len(),
        mtime
    ))
}

impl ChunkSource for B2ndSource {
    fn shape(&self) -> &[usize] {
        &self.meta.shape
    }
    fn dtype(&self) -> DType {
        self.meta.dtype
    }
    fn chunk_shape(&self) -> &[usize] {
        &self.meta.chunks
    }
    fn name(&self) -> String {
        self.path.display().to_string()
    }
    fn read_chunk(&self, index: &[usize]) -> Result<NdData> {
        let n = self.check_index(index)?;
        let raw = self
            .file
            .chunk_bytes(n)
            .map_err(|e| Error::read(self.name(), Some(index), e))?;
        let extent = self.grid().chunk_extent(index);
        decode_chunk(&raw, &self.layout, &extent)
            .map_err(|e| Error::read(self.name(), Some(index), e))
    }
    fn read_region(&self, region: &[Range<usize>]) -> Result<NdData> {
        let grid = self.grid();
        grid.check_region(region)
            .map_err(|e| Error::read(self.name(), None, e))?;
        let shape: Vec<usize> = region.iter().map(|r| r.end - r.start).collect();
        let mut out = NdData::zeros(self.meta.dtype, &shape);
        if out.is_empty() {
            return Ok(out);
        }
        for idx in grid.chunks_in_box(region) {
            let cbox = grid.chunk_box(&idx);
            let overlap: Vec<Range<usize>> = cbox
                .iter()
                .zip(region)
                .map(|(c, r)| c.start.max(r.start)..c.end.min(r.end))
                .collect();
            let local: Vec<Range<usize>> = overlap
                .iter()
                .zip(&cbox)
                .map(|(o, c)| o.start - c.start..o.end - c.start)
                .collect();
            let n = grid.linear_index(&idx);
            let part = self
                .file
                .chunk_bytes(n)
                .and_then(|raw| decode_chunk_region(&raw, &self.layout, &local))
                .map_err(|e| Error::read(self.name(), Some(&idx), e))?;
            copy_overlap(&part, &overlap, &mut out, region)?;
        }
        Ok(out)
    }
    fn prefers_region_reads(&self) -> bool {
        true
    }
    fn identity(&self) -> Option<String> {
        Some(self.identity.clone())
    }
}
