//! [`B2ndSource`]: a contiguous `.b2nd` file (python-blosc2's format) as a lazy chunk source.

use super::ChunkSource;
use crate::blosc::{decode_chunk, nd_from_bytes, B2ndFile, B2ndMeta, ChunkLayout};
use crate::data::NdData;
use crate::dtype::DType;
use crate::error::{Error, Result};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

/// At most this many idle handles are kept for reuse.
const MAX_IDLE_HANDLES: usize = 64;

/// A `.b2nd` file read lazily, chunk by chunk or box by box.
///
/// Opening reads only the header: shape, chunk and block shapes and element type. Reads run in
/// parallel from any number of threads: C-Blosc2 handles cannot be shared between threads, so
/// each read borrows a handle of its own from a small pool (opening one more when all are in
/// use). Region reads decompress only the Blosc2 blocks the box touches
/// ([`ChunkSource::prefers_region_reads`] is true).
///
/// ```no_run
/// use vastarray::{ChunkSource, source::B2ndSource};
/// let src = B2ndSource::open("data.b2nd").unwrap();
/// let corner = src.read_region(&[0..10, 0..10]).unwrap();
/// ```
pub struct B2ndSource {
    path: PathBuf,
    meta: B2ndMeta,
    layout: ChunkLayout,
    identity: String,
    idle: Mutex<Vec<B2ndFile>>,
}

impl B2ndSource {
    /// Opens a `.b2nd` file. Errors name the file: missing, truncated or corrupt, unsupported
    /// element type (complex, strings, big-endian, half floats, structured).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let first = B2ndFile::open(&path)?;
        let meta = first.meta().clone();
        let layout = meta.layout().map_err(|e| Error::file(&path, e))?;
        let identity = file_identity(&path)?;
        Ok(B2ndSource {
            path,
            meta,
            layout,
            identity,
            idle: Mutex::new(vec![first]),
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

    /// Runs `f` with a handle of this thread's own, borrowed from the pool.
    fn with_handle<R>(&self, f: impl FnOnce(&B2ndFile) -> Result<R>) -> Result<R> {
        let pooled = self.idle.lock().ok().and_then(|mut v| v.pop());
        let handle = match pooled {
            Some(h) => h,
            None => B2ndFile::open(&self.path)?,
        };
        let out = f(&handle);
        if let Ok(mut v) = self.idle.lock() {
            if v.len() < MAX_IDLE_HANDLES {
                v.push(handle);
            }
        }
        out
    }

    fn check_index(&self, index: &[usize]) -> Result<usize> {
        self.grid()
            .checked_linear_index(index)
            .map_err(|e| Error::read(self.name(), Some(index), e))
    }
}

/// A stamp of a file's identity: path, size and modification time (nanoseconds).
pub fn file_identity(path: &Path) -> Result<String> {
    let m = std::fs::metadata(path).map_err(|e| Error::file(path, format!("cannot stat: {e}")))?;
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
            .with_handle(|h| h.chunk_bytes(n))
            .map_err(|e| Error::read(self.name(), Some(index), e))?;
        let extent = self.grid().chunk_extent(index);
        decode_chunk(&raw, &self.layout, &extent)
            .map_err(|e| Error::read(self.name(), Some(index), e))
    }
    fn read_region(&self, region: &[Range<usize>]) -> Result<NdData> {
        self.grid()
            .check_region(region)
            .map_err(|e| Error::read(self.name(), None, e))?;
        let shape: Vec<usize> = region.iter().map(|r| r.end - r.start).collect();
        let bytes = self
            .with_handle(|h| h.read_slice_bytes(region))
            .map_err(|e| Error::read(self.name(), None, e))?;
        nd_from_bytes(self.meta.dtype, &shape, &bytes)
    }
    fn prefers_region_reads(&self) -> bool {
        true
    }
    fn identity(&self) -> Option<String> {
        Some(self.identity.clone())
    }
}
