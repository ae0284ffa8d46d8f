//! The raw-chunk reader: reads a chunk's stored bytes with `pread` (no HDF5 call, no global
//! lock), undoes its filters into the typed array's own buffer (no copy in between) and fixes
//! the byte order in place. Many threads can run it at once on the same file.

use super::chunk_index::ChunkLocation;
use super::filters::{decode_pipeline_into, PipelineFilter};
use crate::data::NdData;
use crate::dtype::DType;
use ndarray::{ArrayD, IxDyn, Slice, SliceInfoElem};
use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;

/// Checks that `len` bytes at `offset` lie inside a file of `file_len` bytes; returns the end.
fn check_range(file_len: u64, offset: u64, len: u64) -> Result<u64, String> {
    let end = offset
        .checked_add(len)
        .ok_or_else(|| format!("byte range {offset}+{len} overflows"))?;
    if end > file_len {
        return Err(format!(
            "stored bytes {offset}..{end} lie beyond the end of the file ({file_len} bytes): the file is truncated or corrupt"
        ));
    }
    Ok(end)
}

/// Reads `buf.len()` bytes at `offset` of `file`, whose length was `file_len` when it was
/// opened. A range past the end is reported as a truncated file, not read.
pub(super) fn pread_into(
    file: &File,
    file_len: u64,
    offset: u64,
    buf: &mut [u8],
) -> Result<(), String> {
    let end = check_range(file_len, offset, buf.len() as u64)?;
    file.read_exact_at(buf, offset).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            format!("the file ends before byte {end}, where this chunk ends: it was truncated")
        } else {
            format!("reading bytes {offset}..{end}: {e}")
        }
    })
}

/// [`pread_into`] a new buffer of `len` bytes (checked against the file's length before any
/// allocation).
pub(super) fn pread(file: &File, file_len: u64, offset: u64, len: u64) -> Result<Vec<u8>, String> {
    check_range(file_len, offset, len)?;
    let len =
        usize::try_from(len).map_err(|_| format!("chunk of {len} bytes does not fit in memory"))?;
    let mut buf = vec![0u8; len];
    pread_into(file, file_len, offset, &mut buf)?;
    Ok(buf)
}

/// True when every filter still applied to a chunk (its bit in `filter_mask` not set) is one
/// vastarray decodes itself.
pub(super) fn chunk_decodable(pipeline: &[PipelineFilter], filter_mask: u32) -> bool {
    pipeline
        .iter()
        .enumerate()
        .all(|(pos, f)| f.decodable() || (pos < 32 && filter_mask & (1 << pos) != 0))
}

/// True when no filter of the pipeline is applied to a chunk stored with `filter_mask`.
fn unfiltered(pipeline: &[PipelineFilter], filter_mask: u32) -> bool {
    (0..pipeline.len()).all(|pos| pos < 32 && filter_mask & (1 << pos) != 0)
}

/// The decoded size in bytes of a chunk of `shape` and `dtype`, checked.
pub(super) fn chunk_bytes(shape: &[usize], dtype: DType) -> Result<usize, String> {
    shape
        .iter()
        .try_fold(dtype.size(), |acc, &n| acc.checked_mul(n))
        .ok_or_else(|| format!("a chunk of shape {shape:?} has more bytes than memory can hold"))
}

thread_local! {
    /// A reusable buffer per thread for the stored (filtered) bytes of one chunk.
    static STORED: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Stored-bytes buffers larger than this are freed after use instead of kept.
const KEEP_STORED_BYTES: usize = 64 << 20;

/// This thread's buffer for the stored bytes of one chunk, taken out of its slot; give it back
/// with [`StoredBuffer::give_back`] so the next chunk reuses it (a buffer not given back is
/// simply freed).
pub(super) struct StoredBuffer {
    buf: Vec<u8>,
}

/// Takes this thread's stored-bytes buffer (empty the first time).
pub(super) fn take_stored_buffer() -> StoredBuffer {
    StoredBuffer {
        buf: STORED.with(|cell| cell.take()),
    }
}

impl StoredBuffer {
    /// The first `len` bytes of the buffer, grown if needed (contents unspecified).
    pub(super) fn sized(&mut self, len: usize) -> &mut [u8] {
        if self.buf.len() < len {
            self.buf.resize(len, 0);
        }
        &mut self.buf[..len]
    }

    /// Puts the buffer back for the next chunk read on this thread (unless it is very large).
    pub(super) fn give_back(self) {
        if self.buf.capacity() <= KEEP_STORED_BYTES {
            STORED.with(|cell| cell.set(self.buf));
        }
    }
}

/// Runs `f` with this thread's stored-bytes buffer, `len` bytes long (contents unspecified).
pub(super) fn with_stored_buffer<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    let mut buf = take_stored_buffer();
    let r = f(buf.sized(len));
    buf.give_back();
    r
}

/// Reads and decodes one stored chunk into an array of the full chunk shape `chunk_shape`.
/// Unfiltered chunks are read straight into the array's buffer; filtered ones are read into a
/// per-thread buffer and decoded into the array's buffer.
pub(super) fn read_stored_chunk(
    file: &File,
    file_len: u64,
    loc: ChunkLocation,
    pipeline: &[PipelineFilter],
    dtype: DType,
    big_endian: bool,
    chunk_shape: &[usize],
) -> Result<NdData, String> {
    let expected = chunk_bytes(chunk_shape, dtype)?;
    check_range(file_len, loc.offset, loc.size)?;
    if unfiltered(pipeline, loc.filter_mask) {
        if loc.size != expected as u64 {
            return Err(format!(
                "unfiltered chunk is stored in {} bytes, expected {expected}",
                loc.size
            ));
        }
        return read_runs_into_array(
            file,
            file_len,
            &[(loc.offset, expected)],
            dtype,
            big_endian,
            chunk_shape,
        );
    }
    let len = usize::try_from(loc.size)
        .map_err(|_| format!("chunk of {} bytes does not fit in memory", loc.size))?;
    with_stored_buffer(len, |stored| {
        pread_into(file, file_len, loc.offset, stored)?;
        decode_stored(
            stored,
            loc.filter_mask,
            pipeline,
            dtype,
            big_endian,
            chunk_shape,
        )
    })
}

/// Decodes the stored bytes of one chunk (read by any means) into an array of the full chunk
/// shape.
pub(super) fn decode_stored(
    stored: &[u8],
    filter_mask: u32,
    pipeline: &[PipelineFilter],
    dtype: DType,
    big_endian: bool,
    chunk_shape: &[usize],
) -> Result<NdData, String> {
    decode_into_array(dtype, big_endian, chunk_shape, |buf| {
        decode_pipeline_into(stored, pipeline, filter_mask, dtype.size(), buf)
    })
}

/// Builds an array of `shape` and `dtype` whose bytes `fill` writes (C order, the file's byte
/// order: swapped here when it is not the machine's). Booleans are bytes, any nonzero byte
/// being `true` (h5py stores numpy `bool` as an enum of 0 and 1).
pub(super) fn decode_into_array(
    dtype: DType,
    big_endian: bool,
    shape: &[usize],
    fill: impl FnOnce(&mut [u8]) -> Result<(), String>,
) -> Result<NdData, String> {
    build_array(dtype, big_endian, shape, Bytes::Fill(Box::new(fill)))
}

/// A filler that writes every byte of a zeroed buffer.
type Filler<'a> = Box<dyn FnOnce(&mut [u8]) -> Result<(), String> + 'a>;

/// Where the bytes of an array come from.
enum Bytes<'a> {
    /// A filler that writes every byte of a zeroed buffer.
    Fill(Filler<'a>),
    /// Byte runs of a file (checked to cover the array), read into memory never zeroed.
    Runs(&'a File, &'a [(u64, usize)]),
}

/// `n` elements from `bytes`.
fn elements<T: bytemuck::Pod>(n: usize, bytes: Bytes) -> Result<Vec<T>, String> {
    match bytes {
        Bytes::Fill(fill) => {
            let mut v: Vec<T> = vec![T::zeroed(); n];
            fill(bytemuck::cast_slice_mut(&mut v))?;
            Ok(v)
        }
        Bytes::Runs(file, runs) => uninit_read(file, runs, n),
    }
}

/// The array of `shape` and `dtype` made of `bytes` (C order, the file's byte order: swapped
/// here when it is not the machine's). Booleans are bytes, any nonzero byte being `true`.
fn build_array(
    dtype: DType,
    big_endian: bool,
    shape: &[usize],
    bytes: Bytes,
) -> Result<NdData, String> {
    chunk_bytes(shape, dtype)?;
    let n: usize = shape.iter().product();
    let dim = IxDyn(shape);
    let err = |e: ndarray::ShapeError| format!("building a {shape:?} array: {e}");
    let swap = big_endian != cfg!(target_endian = "big");
    macro_rules! numbers {
        ($t:ty, $variant:ident, $x:ident => $swapped:expr) => {{
            let mut v: Vec<$t> = elements(n, bytes)?;
            if swap {
                for $x in v.iter_mut() {
                    *$x = $swapped;
                }
            }
            NdData::$variant(ArrayD::from_shape_vec(dim, v).map_err(err)?)
        }};
    }
    Ok(match dtype {
        DType::Bool => {
            let v: Vec<u8> = elements(n, bytes)?;
            NdData::Bool(
                ArrayD::from_shape_vec(dim, v.into_iter().map(|b| b != 0).collect())
                    .map_err(err)?,
            )
        }
        DType::U8 => numbers!(u8, U8, x => *x),
        DType::I8 => numbers!(i8, I8, x => *x),
        DType::I16 => numbers!(i16, I16, x => x.swap_bytes()),
        DType::U16 => numbers!(u16, U16, x => x.swap_bytes()),
        DType::I32 => numbers!(i32, I32, x => x.swap_bytes()),
        DType::U32 => numbers!(u32, U32, x => x.swap_bytes()),
        DType::I64 => numbers!(i64, I64, x => x.swap_bytes()),
        DType::U64 => numbers!(u64, U64, x => x.swap_bytes()),
        DType::F32 => numbers!(f32, F32, x => f32::from_bits(x.to_bits().swap_bytes())),
        DType::F64 => numbers!(f64, F64, x => f64::from_bits(x.to_bits().swap_bytes())),
    })
}

/// Byte runs of the file that hold a box of a chunk stored unfiltered in C order: `(file
/// offset, bytes)` in the box's C order. `origin` is the chunk's file offset, `chunk` its
/// shape, `rel` the box relative to the chunk. `None` when the box needs more than `max_runs`
/// runs (a thin column: read the whole chunk instead).
pub(super) fn box_runs(
    origin: u64,
    chunk: &[usize],
    rel: &[Range<usize>],
    item: usize,
    max_runs: usize,
) -> Option<Vec<(u64, usize)>> {
    let nd = chunk.len();
    if nd == 0 {
        return Some(vec![(origin, item)]);
    }
    // Axes from `k` on form one contiguous run: those after `k` are whole.
    let mut k = nd - 1;
    while k > 0 && rel[k].start == 0 && rel[k].end == chunk[k] {
        k -= 1;
    }
    let inner: usize = chunk[k + 1..].iter().product();
    let run = rel[k].len() * inner;
    let count: usize = rel[..k].iter().map(|r| r.len()).product();
    if count > max_runs || run == 0 {
        return None;
    }
    let mut strides = vec![1usize; nd];
    for d in (0..nd.saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * chunk[d + 1];
    }
    let outer: Vec<Vec<usize>> = rel[..k].iter().map(|r| r.clone().collect()).collect();
    let mut runs = Vec::with_capacity(count);
    for ix in crate::source::cartesian(&outer) {
        let mut at = rel[k].start * strides[k];
        for (d, &i) in ix.iter().enumerate() {
            at += i * strides[d];
        }
        runs.push((origin + (at * item) as u64, run * item));
    }
    Some(runs)
}

/// Reads byte runs of `file` straight into a new array of `shape` (the runs, in order, hold its
/// elements in C order), with no zeroing and no copy; byte order swapped in place if needed.
pub(super) fn read_runs_into_array(
    file: &File,
    file_len: u64,
    runs: &[(u64, usize)],
    dtype: DType,
    big_endian: bool,
    shape: &[usize],
) -> Result<NdData, String> {
    let bytes = chunk_bytes(shape, dtype)?;
    if runs.iter().map(|r| r.1).sum::<usize>() != bytes {
        return Err(format!("byte runs do not cover a {shape:?} {dtype} box"));
    }
    for &(off, len) in runs {
        check_range(file_len, off, len as u64)?;
    }
    build_array(dtype, big_endian, shape, Bytes::Runs(file, runs))
}

/// `n` elements read from the byte runs (in bounds of the file, bytes summing to `n` elements)
/// into a vector that was never zeroed.
fn uninit_read<T: bytemuck::Pod>(
    file: &File,
    runs: &[(u64, usize)],
    n: usize,
) -> Result<Vec<T>, String> {
    use std::os::fd::AsRawFd;
    let bytes = n * std::mem::size_of::<T>();
    let mut v: Vec<T> = Vec::with_capacity(n);
    let base = v.as_mut_ptr() as *mut u8;
    let mut pos = 0usize;
    for &(off, len) in runs {
        let mut done = 0usize;
        while done < len {
            if pos + len > bytes {
                return Err("byte runs overflow the array".into());
            }
            let at = off + done as u64;
            let at =
                libc::off_t::try_from(at).map_err(|_| format!("file offset {at} too large"))?;
            // SAFETY: `base + pos + done .. base + pos + len` lies inside the vector's
            // allocation of `bytes` bytes (checked above); pread writes at most `len - done`.
            let r = unsafe {
                libc::pread(
                    file.as_raw_fd(),
                    base.add(pos + done) as *mut libc::c_void,
                    len - done,
                    at,
                )
            };
            if r < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(format!("reading bytes {off}..{}: {e}", off + len as u64));
            }
            if r == 0 {
                return Err(format!(
                    "the file ends before byte {}, where this chunk ends: it was truncated",
                    off + len as u64
                ));
            }
            done += r as usize;
        }
        pos += len;
    }
    if pos != bytes {
        return Err(format!("read {pos} bytes for an array of {bytes}"));
    }
    // SAFETY: all `bytes` bytes were written by pread above, and every bit pattern is a valid
    // `T` (Pod).
    unsafe { v.set_len(n) };
    Ok(v)
}

/// The leading `extent` corner of a full chunk (edge chunks are stored at full size).
pub(super) fn crop(data: NdData, extent: &[usize]) -> NdData {
    if data.shape() == extent {
        return data;
    }
    let sl: Vec<SliceInfoElem> = extent
        .iter()
        .zip(data.shape())
        .map(|(&e, &n)| SliceInfoElem::from(Slice::from(0..e.min(n))))
        .collect();
    crate::map_nd!(&data, a: T => a.slice(sl.as_slice()).to_owned())
}
