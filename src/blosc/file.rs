//! [`B2ndFile`]: an owned handle on a contiguous single-file `.b2nd` array, over the raw
//! C-Blosc2 `b2nd_*` and `blosc2_schunk_*` calls (the safe `blosc2` crate panics on some bad
//! input and lacks in-place chunk updates of arrays and variable-length metadata).

use super::codec::Compression;
use super::dtype::{numpy_dtype_str, parse_numpy_dtype};
use super::ffi::{error_text, init};
use super::frame::check_frame_file;
use super::layout::ChunkLayout;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::source::ChunkGrid;
use blosc2_rs_sys as sys;
use std::ffi::{CStr, CString};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;

/// The geometry of a `.b2nd` array: shape, chunk and block shapes and element type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct B2ndMeta {
    /// The array's shape.
    pub shape: Vec<usize>,
    /// The chunk shape.
    pub chunks: Vec<usize>,
    /// The block shape (blocks split chunks; the unit Blosc2 decompresses).
    pub blocks: Vec<usize>,
    /// The element type.
    pub dtype: DType,
}

impl B2ndMeta {
    /// The chunk grid.
    pub fn grid(&self) -> ChunkGrid {
        ChunkGrid::new(self.shape.clone(), self.chunks.clone())
    }

    /// The layout of one chunk.
    pub fn layout(&self) -> Result<ChunkLayout> {
        ChunkLayout::new(&self.chunks, &self.blocks, self.dtype)
    }

    fn check(&self) -> Result<()> {
        let nd = self.shape.len();
        if nd == 0 || nd > sys::B2ND_MAX_DIM as usize {
            return Err(Error::Shape(format!(
                "{nd} dimensions: .b2nd arrays have 1 to 16"
            )));
        }
        if self.chunks.len() != nd || self.blocks.len() != nd {
            return Err(Error::Shape(format!(
                "chunks {:?} and blocks {:?} must have one entry per axis of shape {:?}",
                self.chunks, self.blocks, self.shape
            )));
        }
        if self.chunks.iter().any(|&c| c == 0 || c > i32::MAX as usize) {
            return Err(Error::Shape(format!(
                "chunk shape {:?} has a zero or too large extent",
                self.chunks
            )));
        }
        self.layout().map(|_| ())
    }
}

/// An open `.b2nd` array. Not shareable between threads at once: give each thread its own
/// handle, or lend one at a time (it is `Send`, not `Sync`).
pub struct B2ndFile {
    ptr: NonNull<sys::b2nd_array_t>,
    path: PathBuf,
    meta: B2ndMeta,
}

// SAFETY: a b2nd array is heap data owned by this handle; its (de)compression contexts have one
// internal thread and no thread affinity. Every use goes through `&self`/`&mut self` of one
// handle, and the type is not `Sync`, so no two threads use it at once.
unsafe impl Send for B2ndFile {}

fn c_path(path: &Path) -> Result<CString> {
    let s = path
        .to_str()
        .ok_or_else(|| Error::file(path, "path is not valid UTF-8"))?;
    CString::new(s).map_err(|_| Error::file(path, "path contains a NUL byte"))
}

impl B2ndFile {
    /// Opens an existing contiguous `.b2nd` file. Errors name the file: missing, truncated or
    /// not a Blosc2 frame, not an n-dimensional array, unsupported element type.
    pub fn open(path: &Path) -> Result<Self> {
        init();
        check_frame_file(path)?;
        let cpath = c_path(path)?;
        let mut arr: *mut sys::b2nd_array_t = std::ptr::null_mut();
        // SAFETY: valid C string and out pointer.
        let rc = unsafe { sys::b2nd_open(cpath.as_ptr(), &mut arr) };
        let ptr = match NonNull::new(arr) {
            Some(p) if rc >= 0 => p,
            Some(p) => {
                unsafe { sys::b2nd_free(p.as_ptr()) };
                return Err(Error::file(
                    path,
                    format!("not a readable .b2nd array: {}", error_text(rc as i64)),
                ));
            }
            None => {
                return Err(Error::file(
                    path,
                    format!("not a readable .b2nd array: {}", error_text(rc as i64)),
                ));
            }
        };
        let mut f = B2ndFile {
            ptr,
            path: path.to_path_buf(),
            meta: B2ndMeta {
                shape: vec![],
                chunks: vec![],
                blocks: vec![],
                dtype: DType::U8,
            },
        };
        f.meta = f.read_meta()?;
        Ok(f)
    }

    /// Creates (or overwrites) a contiguous `.b2nd` file whose chunks all read as zero. Unwritten
    /// chunks are Blosc2 "special" zero chunks: a few bytes in the chunk index, no data.
    pub fn create_zeros(path: &Path, meta: &B2ndMeta, compression: Compression) -> Result<Self> {
        init();
        meta.check()?;
        let layout = meta.layout()?;
        let cpath = c_path(path)?;
        if path.exists() {
            std::fs::remove_file(path)
                .map_err(|e| Error::file(path, format!("cannot replace: {e}")))?;
        }
        let mut cparams = compression.cparams(meta.dtype.size(), layout.block_nbytes())?;
        let mut dparams = unsafe { sys::blosc2_get_blosc2_dparams_defaults() };
        dparams.nthreads = 1;
        let storage = sys::blosc2_storage {
            contiguous: true,
            urlpath: cpath.as_ptr().cast_mut(),
            cparams: &mut cparams,
            dparams: &mut dparams,
            io: std::ptr::null_mut(),
        };
        let shape: Vec<i64> = meta.shape.iter().map(|&n| n as i64).collect();
        let chunks: Vec<i32> = meta.chunks.iter().map(|&n| n as i32).collect();
        let blocks: Vec<i32> = meta.blocks.iter().map(|&n| n as i32).collect();
        let dtype = CString::new(numpy_dtype_str(meta.dtype))
            .map_err(|e| Error::Internal(e.to_string()))?;
        // SAFETY: all pointers are valid for the call; the context copies what it keeps.
        let ctx = unsafe {
            sys::b2nd_create_ctx(
                &storage,
                shape.len() as i8,
                shape.as_ptr(),
                chunks.as_ptr(),
                blocks.as_ptr(),
                dtype.as_ptr(),
                sys::DTYPE_NUMPY_FORMAT as i8,
                std::ptr::null(),
                0,
            )
        };
        if ctx.is_null() {
            return Err(Error::file(
                path,
                "cannot create a .b2nd context for this geometry",
            ));
        }
        let mut arr: *mut sys::b2nd_array_t = std::ptr::null_mut();
        let rc = unsafe { sys::b2nd_zeros(ctx, &mut arr) };
        unsafe { sys::b2nd_free_ctx(ctx) };
        let ptr = match NonNull::new(arr) {
            Some(p) if rc >= 0 => p,
            _ => {
                return Err(Error::file(
                    path,
                    format!("cannot create .b2nd file: {}", error_text(rc as i64)),
                ))
            }
        };
        Ok(B2ndFile {
            ptr,
            path: path.to_path_buf(),
            meta: meta.clone(),
        })
    }

    fn arr(&self) -> &sys::b2nd_array_t {
        // SAFETY: the pointer is valid for the handle's life.
        unsafe { self.ptr.as_ref() }
    }

    pub(crate) fn schunk(&self) -> *mut sys::blosc2_schunk {
        self.arr().sc
    }

    fn read_meta(&self) -> Result<B2ndMeta> {
        let a = self.arr();
        let nd = a.ndim.max(0) as usize;
        if nd == 0 || nd > sys::B2ND_MAX_DIM as usize {
            return Err(Error::file(
                &self.path,
                format!("{nd}-dimensional arrays are not supported"),
            ));
        }
        if a.dtype.is_null() {
            return Err(Error::file(&self.path, "the array has no element type"));
        }
        if a.dtype_format != sys::DTYPE_NUMPY_FORMAT as i8 {
            return Err(Error::file(
                &self.path,
                format!("unsupported dtype format {}", a.dtype_format),
            ));
        }
        // SAFETY: non-null C string owned by the array.
        let dstr = unsafe { CStr::from_ptr(a.dtype) }
            .to_string_lossy()
            .into_owned();
        let dtype = parse_numpy_dtype(&dstr).map_err(|e| Error::file(&self.path, e))?;
        let sc = self.schunk();
        if sc.is_null() {
            return Err(Error::file(&self.path, "the array has no super-chunk"));
        }
        let typesize = unsafe { (*sc).typesize };
        if typesize as usize != dtype.size() {
            return Err(Error::file(
                &self.path,
                format!("item size {typesize} does not match element type {dstr}"),
            ));
        }
        let to_usize = |v: i64| {
            usize::try_from(v).map_err(|_| Error::file(&self.path, format!("negative extent {v}")))
        };
        let shape = a.shape[..nd]
            .iter()
            .map(|&v| to_usize(v))
            .collect::<Result<Vec<_>>>()?;
        let chunks = a.chunkshape[..nd]
            .iter()
            .map(|&v| to_usize(v as i64))
            .collect::<Result<Vec<_>>>()?;
        let blocks = a.blockshape[..nd]
            .iter()
            .map(|&v| to_usize(v as i64))
            .collect::<Result<Vec<_>>>()?;
        let meta = B2ndMeta {
            shape,
            chunks,
            blocks,
            dtype,
        };
        meta.check().map_err(|e| Error::file(&self.path, e))?;
        let nchunks = unsafe { (*sc).nchunks };
        let want = meta.grid().num_chunks();
        if nchunks < 0 || nchunks as usize != want && meta.shape.iter().all(|&n| n > 0) {
            return Err(Error::file(
                &self.path,
                format!("holds {nchunks} chunks, its grid needs {want}"),
            ));
        }
        Ok(meta)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The array's geometry.
    pub fn meta(&self) -> &B2ndMeta {
        &self.meta
    }

    /// The compressed bytes of chunk `n` (C-order number), exactly as stored.
    pub fn chunk_bytes(&self, n: usize) -> Result<Vec<u8>> {
        let mut p: *mut u8 = std::ptr::null_mut();
        let mut needs_free = false;
        // SAFETY: valid super-chunk and out pointers.
        let rc = unsafe {
            sys::blosc2_schunk_get_chunk(self.schunk(), n as i64, &mut p, &mut needs_free)
        };
        if rc < 0 || p.is_null() {
            if needs_free && !p.is_null() {
                unsafe { libc::free(p.cast()) };
            }
            return Err(Error::file(
                &self.path,
                format!("cannot read chunk {n}: {}", error_text(rc as i64)),
            ));
        }
        // SAFETY: the library returned `rc` valid bytes at `p`.
        let v = unsafe { std::slice::from_raw_parts(p, rc as usize) }.to_vec();
        if needs_free {
            unsafe { libc::free(p.cast()) };
        }
        Ok(v)
    }

    /// Replaces chunk `n` by already compressed b2nd chunk bytes. The frame grows by the
    /// chunk's size (the old chunk's space is reused when the new one fits in it).
    pub fn update_chunk(&mut self, n: usize, raw: &[u8]) -> Result<()> {
        let (nbytes, cbytes) = super::chunk::chunk_sizes(raw)
            .map_err(|e| Error::file(&self.path, format!("chunk {n}: {e}")))?;
        let want = self.meta.layout()?.chunk_nbytes();
        if nbytes != want || cbytes != raw.len() {
            return Err(Error::file(
                &self.path,
                format!("chunk {n}: {nbytes} bytes uncompressed in {cbytes} (of {}), the array needs {want}", raw.len()),
            ));
        }
        // SAFETY: `copy = true`: the library copies the bytes and never writes through the pointer.
        let rc = unsafe {
            sys::blosc2_schunk_update_chunk(self.schunk(), n as i64, raw.as_ptr().cast_mut(), true)
        };
        if rc < 0 {
            return Err(Error::file(
                &self.path,
                format!("cannot write chunk {n}: {}", error_text(rc)),
            ));
        }
        Ok(())
    }

    /// True when chunk `n` is a Blosc2 "special" chunk (zeros, NaNs, uninitialised: no data
    /// stored), as every chunk of a file from [`B2ndFile::create_zeros`] is until written.
    pub fn chunk_is_special(&self, n: usize) -> Result<bool> {
        let raw = self.chunk_bytes(n)?;
        let flags = raw
            .get(sys::BLOSC2_CHUNK_BLOSC2_FLAGS as usize)
            .copied()
            .unwrap_or(0);
        Ok((flags >> 4) & (sys::BLOSC2_SPECIAL_MASK as u8) != 0)
    }

    /// Turns chunk `n` back into a special zero chunk (only the chunk index changes; the old
    /// bytes stay in the file, unreferenced).
    pub fn clear_chunk(&mut self, n: usize) -> Result<()> {
        let layout = self.meta.layout()?;
        let mut cparams =
            Compression::lz4().cparams(self.meta.dtype.size(), layout.block_nbytes())?;
        cparams.nthreads = 1;
        let mut buf = vec![0u8; sys::BLOSC_EXTENDED_HEADER_LENGTH as usize];
        let nbytes = super::ffi::c_len(layout.chunk_nbytes(), "chunk")?;
        // SAFETY: `buf` has the length passed.
        let rc = unsafe {
            sys::blosc2_chunk_zeros(cparams, nbytes, buf.as_mut_ptr().cast(), buf.len() as i32)
        };
        if rc < 0 {
            return Err(Error::Internal(format!(
                "making a zero chunk: {}",
                error_text(rc as i64)
            )));
        }
        buf.truncate(rc as usize);
        self.update_chunk(n, &buf)
    }

    /// Reads a box of the array as C-ordered bytes; Blosc2 decompresses only the blocks it
    /// needs.
    pub fn read_slice_bytes(&self, region: &[Range<usize>]) -> Result<Vec<u8>> {
        self.meta
            .grid()
            .check_region(region)
            .map_err(|e| Error::file(&self.path, e))?;
        let start: Vec<i64> = region.iter().map(|r| r.start as i64).collect();
        let stop: Vec<i64> = region.iter().map(|r| r.end as i64).collect();
        let shape: Vec<i64> = region.iter().map(|r| (r.end - r.start) as i64).collect();
        let n: usize =
            region.iter().map(|r| r.end - r.start).product::<usize>() * self.meta.dtype.size();
        let mut out = vec![0u8; n];
        if n == 0 {
            return Ok(out);
        }
        // SAFETY: `out` has the size passed; start/stop/shape have ndim entries.
        let rc = unsafe {
            sys::b2nd_get_slice_cbuffer(
                self.ptr.as_ptr(),
                start.as_ptr(),
                stop.as_ptr(),
                out.as_mut_ptr().cast(),
                shape.as_ptr(),
                n as i64,
            )
        };
        if rc < 0 {
            return Err(Error::file(
                &self.path,
                format!("cannot read region {region:?}: {}", error_text(rc as i64)),
            ));
        }
        Ok(out)
    }
}

impl Drop for B2ndFile {
    fn drop(&mut self) {
        unsafe { sys::b2nd_free(self.ptr.as_ptr()) };
    }
}
