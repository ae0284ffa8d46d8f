//! [`NpySource`]: a `.npy` file (numpy's one-array format) as a chunked source that reads only
//! the bytes a region needs, with positioned reads (`pread`), never the whole file.
//!
//! Supported: format versions 1, 2 and 3; every [`DType`]; little- or big-endian data; C or
//! Fortran order (a Fortran-order file is read as the transpose of its C-order storage, so the
//! source's shape is numpy's shape either way). The chunk grid is vastarray's choice (the
//! format has none): about [`DEFAULT_CHUNK_BYTES`] of contiguous storage per chunk.

use crate::data::NdData;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::source::ChunkSource;
use ndarray::{ArrayD, IxDyn};
use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Bytes of contiguous storage per chunk that [`NpySource::open`] aims at.
pub const DEFAULT_CHUNK_BYTES: usize = 4 << 20;

/// Two reads closer than this many bytes are merged into one (reading the gap is cheaper than
/// another system call).
const MERGE_GAP: u64 = 64 << 10;

/// Largest single read after merging.
const MAX_READ: u64 = 16 << 20;

/// The magic bytes every `.npy` file starts with.
const MAGIC: &[u8] = b"\x93NUMPY";

/// Longest header text accepted (numpy writes a few hundred bytes).
const MAX_HEADER: usize = 1 << 24;

/// What the header of a `.npy` file says. The crate's one `.npy` header parser: used by
/// [`NpySource`] (header read from a file) and by `.npy` tiles
/// ([`crate::io::npy::decode_npy`], header at the start of a response body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NpyHeader {
    /// Format version (major, minor).
    pub version: (u8, u8),
    /// numpy's type string (`"<f4"`, `"|u1"`, `">i8"`).
    pub descr: String,
    /// The element type.
    pub dtype: DType,
    /// True when multi-byte elements are stored big-endian.
    pub big_endian: bool,
    /// True for Fortran (column-major) storage.
    pub fortran_order: bool,
    /// numpy's shape of the array.
    pub shape: Vec<usize>,
    /// Byte offset of the first element.
    pub data_offset: u64,
}

impl NpyHeader {
    /// Reads and checks the header at the start of `file`.
    pub fn read(file: &File, path: &Path) -> Result<NpyHeader> {
        let bad = |m: String| Error::file(path, m);
        let mut pre = [0u8; 12];
        let got = read_up_to(file, 0, &mut pre).map_err(|e| bad(format!("cannot read: {e}")))?;
        let (version, start, len) = prelude(&pre[..got]).map_err(bad)?;
        let mut text = vec![0u8; len];
        file.read_exact_at(&mut text, start as u64)
            .map_err(|_| bad(format!("truncated .npy header ({len} bytes announced)")))?;
        Self::from_text(version, start, &text).map_err(bad)
    }

    /// Parses the header at the start of `bytes` (a whole file in memory, or at least its
    /// header). The error says what is wrong; callers add the path or URL.
    pub(crate) fn parse(bytes: &[u8]) -> std::result::Result<NpyHeader, String> {
        let (version, start, len) = prelude(bytes)?;
        let text = bytes
            .get(start..start + len)
            .ok_or_else(|| format!("truncated .npy header ({len} bytes announced)"))?;
        Self::from_text(version, start, text)
    }

    /// The header from its dictionary text, which starts at byte `start` of the file.
    fn from_text(
        version: (u8, u8),
        start: usize,
        text: &[u8],
    ) -> std::result::Result<NpyHeader, String> {
        let text = std::str::from_utf8(text).map_err(|_| "the .npy header is not text")?;
        let dict = parse_header_dict(text).map_err(|m| format!("malformed .npy header: {m}"))?;
        let dtype = DType::parse(&dict.descr).map_err(|_| {
            format!(
                "unsupported .npy element type {:?} (supported: bool, int8 to int64, uint8 to uint64, float32, float64)",
                dict.descr
            )
        })?;
        let big_endian = dict.descr.starts_with('>') && dtype.size() > 1;
        // Every size computed from the shape (elements, bytes, chunk counts, also with empty
        // axes counted as 1) must fit in a signed 64-bit integer.
        let fits = dict
            .shape
            .iter()
            .try_fold(dtype.size() as u64, |acc, &n| {
                acc.checked_mul(n.max(1) as u64)
            })
            .is_some_and(|b| b <= i64::MAX as u64);
        if !fits {
            return Err(format!(
                "shape {:?} of {dtype} is too large (more than 2^63 bytes)",
                dict.shape
            ));
        }
        Ok(NpyHeader {
            version,
            descr: dict.descr,
            dtype,
            big_endian,
            fortran_order: dict.fortran_order,
            shape: dict.shape,
            data_offset: (start + text.len()) as u64,
        })
    }

    /// Shape of the stored C-order array: numpy's shape, reversed for Fortran order.
    pub fn storage_shape(&self) -> Vec<usize> {
        if self.fortran_order {
            self.shape.iter().rev().copied().collect()
        } else {
            self.shape.clone()
        }
    }

    /// Bytes of the array's data.
    pub fn data_bytes(&self) -> Option<u64> {
        self.shape
            .iter()
            .try_fold(self.dtype.size() as u64, |acc, &n| {
                acc.checked_mul(n as u64)
            })
    }

    /// The header bytes numpy would write for an array of `shape` and `dtype` (little endian,
    /// C order; version 1.0, or 2.0 when the header does not fit 64 KiB).
    pub fn encode(shape: &[usize], dtype: DType) -> Vec<u8> {
        let dims: Vec<String> = shape.iter().map(|n| n.to_string()).collect();
        let tuple = match dims.len() {
            1 => format!("({},)", dims[0]),
            _ => format!("({})", dims.join(", ")),
        };
        let mut dict = format!(
            "{{'descr': '{}', 'fortran_order': False, 'shape': {tuple}, }}",
            descr(dtype)
        );
        let v1 = dict.len() + 1 + 10 <= u16::MAX as usize;
        let prefix = if v1 { 10 } else { 12 };
        while !(prefix + dict.len() + 1).is_multiple_of(64) {
            dict.push(' ');
        }
        dict.push('\n');
        let mut out = Vec::with_capacity(prefix + dict.len());
        out.extend_from_slice(MAGIC);
        if v1 {
            out.extend_from_slice(&[1, 0]);
            out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&[2, 0]);
            out.extend_from_slice(&(dict.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(dict.as_bytes());
        out
    }
}

/// The start of a file, up to the header text: the version, where the text starts and its
/// length.
fn prelude(pre: &[u8]) -> std::result::Result<((u8, u8), usize, usize), String> {
    if pre.len() < 10 || !pre.starts_with(MAGIC) {
        return Err("not a .npy file (no \\x93NUMPY magic)".into());
    }
    let version = (pre[6], pre[7]);
    let (len, start) = match version.0 {
        1 => (u16::from_le_bytes([pre[8], pre[9]]) as usize, 10),
        2 | 3 => {
            let b = pre.get(8..12).ok_or("truncated .npy header")?;
            (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 12)
        }
        v => return Err(format!("unsupported .npy format version {v}")),
    };
    if len > MAX_HEADER {
        return Err(format!("implausible .npy header length {len}"));
    }
    Ok((version, start, len))
}

/// An array of `shape` from its stored bytes (exactly `shape.product()` elements of `dtype`,
/// big-endian if `big`).
pub(crate) fn decode_elements(
    dtype: DType,
    big: bool,
    bytes: &[u8],
    shape: &[usize],
) -> std::result::Result<NdData, String> {
    crate::dispatch_dtype!(dtype, T => {
        let values: Vec<T> = bytes
            .chunks_exact(std::mem::size_of::<T>())
            .map(|b| <T as FromBytes>::from_bytes(b, big))
            .collect();
        ArrayD::from_shape_vec(IxDyn(shape), values)
            .map(T::wrap)
            .map_err(|e| format!("shape {shape:?}: {e}"))
    })
}

/// numpy's array from (a box of) the C-order storage of a Fortran-order file: the transpose.
pub(crate) fn from_fortran_storage(data: NdData) -> NdData {
    crate::with_nd!(data, a: T => T::wrap(a.reversed_axes().as_standard_layout().into_owned()))
}

/// numpy's little-endian type string for a dtype.
pub fn descr(dtype: DType) -> &'static str {
    match dtype {
        DType::Bool => "|b1",
        DType::I8 => "|i1",
        DType::U8 => "|u1",
        DType::I16 => "<i2",
        DType::U16 => "<u2",
        DType::I32 => "<i4",
        DType::U32 => "<u4",
        DType::I64 => "<i8",
        DType::U64 => "<u8",
        DType::F32 => "<f4",
        DType::F64 => "<f8",
    }
}

/// A `.npy` file as a lazy chunked source.
///
/// ```no_run
/// use vastarray::{io::npy::NpySource, Axes, DynArray};
/// let a = DynArray::from_source(NpySource::open("big.npy")?);
/// let m = a.select_str("::10")?.mean(Axes::All)?;   // reads every 10th row only
/// # Ok::<(), vastarray::Error>(())
/// ```
pub struct NpySource {
    path: PathBuf,
    file: File,
    header: NpyHeader,
    /// Shape of the stored C-order array (numpy's shape reversed for Fortran order).
    storage_shape: Vec<usize>,
    chunks: Vec<usize>,
    identity: Option<String>,
}

impl NpySource {
    /// Opens a `.npy` file with chunks of about [`DEFAULT_CHUNK_BYTES`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with_chunks(path, None)
    }

    /// Opens a `.npy` file with the given chunk shape (`None`: the default choice).
    pub fn open_with_chunks(path: impl AsRef<Path>, chunks: Option<&[usize]>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        // A named pipe or a device is refused before it could block or stream for ever.
        let file = crate::source::path_check::open_regular_file(&path, "a .npy file")?;
        let header = NpyHeader::read(&file, &path)?;
        let meta = file
            .metadata()
            .map_err(|e| Error::file(&path, "cannot stat").caused_by(e))?;
        let need = header
            .data_bytes()
            .and_then(|b| b.checked_add(header.data_offset))
            .ok_or_else(|| Error::file(&path, format!("shape {:?} is too large", header.shape)))?;
        if meta.len() < need {
            return Err(Error::file(
                &path,
                format!(
                    "truncated: shape {:?} of {} needs {} bytes of data after the header, the file has {}",
                    header.shape,
                    header.dtype,
                    need - header.data_offset,
                    meta.len().saturating_sub(header.data_offset)
                ),
            ));
        }
        let storage_shape = header.storage_shape();
        let chunks = match chunks {
            Some(c) => {
                if c.len() != header.shape.len() || c.contains(&0) {
                    return Err(Error::Shape(format!(
                        "chunk shape {c:?} does not fit {} of shape {:?}",
                        path.display(),
                        header.shape
                    )));
                }
                c.to_vec()
            }
            None => {
                let c = contiguous_chunks(&storage_shape, header.dtype.size(), DEFAULT_CHUNK_BYTES);
                if header.fortran_order {
                    c.into_iter().rev().collect()
                } else {
                    c
                }
            }
        };
        let identity = meta.modified().ok().map(|t| {
            let since = t
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            format!("npy:{}:{}:{}", path.display(), meta.len(), since)
        });
        Ok(NpySource {
            path,
            file,
            header,
            storage_shape,
            chunks,
            identity,
        })
    }

    /// The file's header.
    pub fn header(&self) -> &NpyHeader {
        &self.header
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads a box of the C-order storage array.
    fn read_storage_box(&self, region: &[Range<usize>]) -> Result<NdData> {
        let item = self.header.dtype.size() as u64;
        let shape = &self.storage_shape;
        let out_shape: Vec<usize> = region.iter().map(|r| r.len()).collect();
        let total: usize = out_shape.iter().product();
        if total == 0 {
            return Ok(NdData::zeros(self.header.dtype, &out_shape));
        }
        // Element strides of the storage array.
        let mut strides = vec![1u64; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * shape[d + 1] as u64;
        }
        // The innermost axis `k` such that every axis after it is taken whole: one run of
        // contiguous storage per position of the axes before `k`.
        let whole = |d: usize| region[d].start == 0 && region[d].end == shape[d];
        let mut k = shape.len().saturating_sub(1);
        while k > 0 && whole(k) {
            k -= 1;
        }
        let run_elems: u64 = if shape.is_empty() {
            1
        } else {
            region[k].len() as u64 * strides[k]
        };
        let outer: Vec<Vec<usize>> = region[..k].iter().map(|r| r.clone().collect()).collect();
        let mut runs: Vec<u64> = Vec::new(); // element offsets of runs, in file order
        for idx in crate::source::cartesian(&outer) {
            let mut off: u64 = idx.iter().zip(&strides).map(|(&i, &s)| i as u64 * s).sum();
            if !shape.is_empty() {
                off += region[k].start as u64 * strides[k];
            }
            runs.push(off);
        }
        let run_bytes = run_elems * item;
        let mut bytes = vec![0u8; total * item as usize];
        // Merge runs whose gaps are small into larger reads.
        let mut i = 0;
        while i < runs.len() {
            let first = runs[i] * item;
            let mut j = i + 1;
            while j < runs.len() {
                let end_prev = runs[j - 1] * item + run_bytes;
                let start = runs[j] * item;
                if start - end_prev > MERGE_GAP.max(run_bytes)
                    || start + run_bytes - first > MAX_READ
                {
                    break;
                }
                j += 1;
            }
            let span = runs[j - 1] * item + run_bytes - first;
            let pos = self.header.data_offset + first;
            if j - i == 1 || span == (j - i) as u64 * run_bytes {
                let dst = &mut bytes[i * run_bytes as usize..j * run_bytes as usize];
                self.pread(dst, pos)?;
            } else {
                let mut buf = vec![0u8; span as usize];
                self.pread(&mut buf, pos)?;
                for r in i..j {
                    let from = (runs[r] * item - first) as usize;
                    bytes[r * run_bytes as usize..(r + 1) * run_bytes as usize]
                        .copy_from_slice(&buf[from..from + run_bytes as usize]);
                }
            }
            i = j;
        }
        decode_elements(
            self.header.dtype,
            self.header.big_endian,
            &bytes,
            &out_shape,
        )
        .map_err(|e| Error::Internal(format!("npy region: {e}")))
    }

    fn pread(&self, dst: &mut [u8], pos: u64) -> Result<()> {
        self.file.read_exact_at(dst, pos).map_err(|e| {
            Error::read(
                self.name(),
                None,
                format!("cannot read {} bytes at offset {pos}: {e}", dst.len()),
            )
        })
    }
}

impl ChunkSource for NpySource {
    fn shape(&self) -> &[usize] {
        &self.header.shape
    }
    fn dtype(&self) -> DType {
        self.header.dtype
    }
    fn chunk_shape(&self) -> &[usize] {
        &self.chunks
    }
    fn name(&self) -> String {
        self.path.display().to_string()
    }
    fn read_chunk(&self, index: &[usize]) -> Result<NdData> {
        let bx = self.grid().chunk_box(index);
        self.read_region(&bx).map_err(|e| match e {
            Error::Read {
                source_name,
                message,
                cause,
                ..
            } => Error::Read {
                source_name,
                chunk: Some(index.to_vec()),
                message,
                cause,
            },
            other => other,
        })
    }
    fn read_region(&self, region: &[Range<usize>]) -> Result<NdData> {
        self.grid()
            .check_region(region)
            .map_err(|e| Error::read(self.name(), None, e))?;
        if !self.header.fortran_order {
            return self.read_storage_box(region);
        }
        let rev: Vec<Range<usize>> = region.iter().rev().cloned().collect();
        Ok(from_fortran_storage(self.read_storage_box(&rev)?))
    }
    fn prefers_region_reads(&self) -> bool {
        true
    }
    fn identity(&self) -> Option<String> {
        self.identity.clone()
    }
}

/// A chunk shape of about `target` bytes of contiguous C-order storage: whole trailing axes
/// while they fit, then as many rows of the next axis as fit (at least one element).
pub fn contiguous_chunks(shape: &[usize], itemsize: usize, target: usize) -> Vec<usize> {
    let mut chunks = vec![1usize; shape.len()];
    let mut bytes = itemsize.max(1);
    for d in (0..shape.len()).rev() {
        let n = shape[d].max(1);
        if bytes.saturating_mul(n) <= target {
            chunks[d] = n;
            bytes *= n;
        } else {
            chunks[d] = (target / bytes).clamp(1, n);
            break;
        }
    }
    chunks
}

/// Reads as many bytes as the file has at `pos`, up to `buf.len()`.
fn read_up_to(file: &File, pos: u64, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], pos + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// One element from its stored bytes.
pub trait FromBytes: Element {
    /// Decodes `b` (exactly the element's size), big-endian if `big`.
    fn from_bytes(b: &[u8], big: bool) -> Self;
    /// Appends the little-endian bytes of the element.
    fn put_le(self, out: &mut Vec<u8>);
}

macro_rules! impl_from_bytes {
    ($($t:ty),*) => {$(
        impl FromBytes for $t {
            fn from_bytes(b: &[u8], big: bool) -> Self {
                let a = b.try_into().unwrap_or_default();
                if big { <$t>::from_be_bytes(a) } else { <$t>::from_le_bytes(a) }
            }
            fn put_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
impl_from_bytes!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

impl FromBytes for bool {
    fn from_bytes(b: &[u8], _big: bool) -> Self {
        b.first().is_some_and(|&v| v != 0)
    }
    fn put_le(self, out: &mut Vec<u8>) {
        out.push(self as u8);
    }
}

/// The three entries of a header dictionary.
struct HeaderDict {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

/// Parses the Python dict literal of a header: `{'descr': '<f4', 'fortran_order': False,
/// 'shape': (2, 3), }`.
fn parse_header_dict(text: &str) -> std::result::Result<HeaderDict, String> {
    let s = text.as_bytes();
    let mut i = 0usize;
    let ws = |i: &mut usize| {
        while s.get(*i).is_some_and(|c| c.is_ascii_whitespace()) {
            *i += 1;
        }
    };
    let expect = |i: &mut usize, c: u8| -> std::result::Result<(), String> {
        ws(i);
        if s.get(*i) == Some(&c) {
            *i += 1;
            Ok(())
        } else {
            Err(format!("expected {:?} at byte {}", c as char, *i))
        }
    };
    let string = |i: &mut usize| -> std::result::Result<String, String> {
        ws(i);
        let q = match s.get(*i) {
            Some(&q @ (b'\'' | b'"')) => q,
            _ => return Err(format!("expected a string at byte {}", *i)),
        };
        let start = *i + 1;
        let len = s[start..]
            .iter()
            .position(|&c| c == q)
            .ok_or("unterminated string")?;
        *i = start + len + 1;
        Ok(String::from_utf8_lossy(&s[start..start + len]).into_owned())
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    expect(&mut i, b'{')?;
    loop {
        ws(&mut i);
        if s.get(i) == Some(&b'}') {
            break;
        }
        let key = string(&mut i)?;
        expect(&mut i, b':')?;
        ws(&mut i);
        match key.as_str() {
            "descr" => {
                if s.get(i) == Some(&b'[') {
                    return Err("structured element types are not supported".into());
                }
                descr = Some(string(&mut i)?)
            }
            "fortran_order" => {
                fortran = Some(if s[i..].starts_with(b"True") {
                    i += 4;
                    true
                } else if s[i..].starts_with(b"False") {
                    i += 5;
                    false
                } else {
                    return Err(format!("expected True or False at byte {i}"));
                })
            }
            "shape" => {
                expect(&mut i, b'(')?;
                let mut dims = Vec::new();
                loop {
                    ws(&mut i);
                    if s.get(i) == Some(&b')') {
                        i += 1;
                        break;
                    }
                    let start = i;
                    while s.get(i).is_some_and(|c| c.is_ascii_digit()) {
                        i += 1;
                    }
                    let n = std::str::from_utf8(&s[start..i])
                        .ok()
                        .and_then(|d| d.parse::<usize>().ok())
                        .ok_or_else(|| format!("bad dimension at byte {start}"))?;
                    dims.push(n);
                    ws(&mut i);
                    if s.get(i) == Some(&b',') {
                        i += 1;
                    } else {
                        expect(&mut i, b')')?;
                        break;
                    }
                }
                shape = Some(dims);
            }
            other => return Err(format!("unexpected key {other:?}")),
        }
        ws(&mut i);
        if s.get(i) == Some(&b',') {
            i += 1;
        } else {
            expect(&mut i, b'}')?;
            break;
        }
    }
    Ok(HeaderDict {
        descr: descr.ok_or("no 'descr'")?,
        fortran_order: fortran.ok_or("no 'fortran_order'")?,
        shape: shape.ok_or("no 'shape'")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::npy::encode_npy;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn reads_regions_and_chunks_of_every_dtype() {
        let dir = tempfile::tempdir().unwrap();
        for dtype in DType::ALL {
            let a = crate::dispatch_dtype!(dtype, T => T::wrap(
                ArrayD::from_shape_fn(IxDyn(&[7, 5, 3]), |i| T::from_f64((i[0] * 15 + i[1] * 3 + i[2]) as f64 - 40.0))
            ));
            let p = write(dir.path(), &format!("{dtype}.npy"), &encode_npy(&a));
            let src = NpySource::open_with_chunks(&p, Some(&[2, 2, 3])).unwrap();
            assert_eq!(src.shape(), &[7, 5, 3]);
            assert_eq!(src.dtype(), dtype);
            let whole = crate::source::assemble_region(&src, &[0..7, 0..5, 0..3]).unwrap();
            assert_eq!(whole, a, "{dtype}");
            let r = src.read_region(&[2..6, 1..4, 1..2]).unwrap();
            let want = crate::with_nd!(&a, x: T => T::wrap(x.slice(ndarray::s![2..6, 1..4, 1..2]).to_owned().into_dyn()));
            assert_eq!(r, want, "{dtype}");
        }
    }

    #[test]
    fn default_chunks_are_contiguous() {
        assert_eq!(
            contiguous_chunks(&[1000, 1000], 4, 4 << 20),
            vec![1000, 1000]
        );
        assert_eq!(
            contiguous_chunks(&[5000, 1000], 4, 4 << 20),
            vec![1048, 1000]
        );
        assert_eq!(
            contiguous_chunks(&[3, 2_000_000], 8, 4 << 20),
            vec![1, 524288]
        );
        assert_eq!(contiguous_chunks(&[], 8, 4 << 20), Vec::<usize>::new());
    }

    #[test]
    fn fortran_and_big_endian_files() {
        let dir = tempfile::tempdir().unwrap();
        // A (2, 3) int16 array [[0, 1, 2], [3, 4, 5]] stored big-endian in Fortran order.
        let dict = "{'descr': '>i2', 'fortran_order': True, 'shape': (2, 3), }";
        let mut f = b"\x93NUMPY\x01\x00".to_vec();
        f.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        f.extend_from_slice(dict.as_bytes());
        for v in [0i16, 3, 1, 4, 2, 5] {
            f.extend_from_slice(&v.to_be_bytes());
        }
        let p = write(dir.path(), "f.npy", &f);
        let src = NpySource::open(&p).unwrap();
        let got = src
            .read_region(&[0..2, 0..3])
            .unwrap()
            .into_typed::<i16>()
            .unwrap();
        assert_eq!(got.into_raw_vec_and_offset().0, vec![0, 1, 2, 3, 4, 5]);
        let got = src
            .read_region(&[1..2, 1..3])
            .unwrap()
            .into_typed::<i16>()
            .unwrap();
        assert_eq!(got.into_raw_vec_and_offset().0, vec![4, 5]);
    }

    #[test]
    fn refuses_bad_files_with_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "x.npy", b"hello world");
        let e = NpySource::open(&p).err().unwrap().to_string();
        assert!(e.contains("magic") && e.contains("x.npy"), "{e}");
        let mut bytes = encode_npy(&NdData::from(ArrayD::<f32>::zeros(IxDyn(&[4]))));
        bytes.pop();
        let p = write(dir.path(), "t.npy", &bytes);
        let e = NpySource::open(&p).err().unwrap().to_string();
        assert!(e.contains("truncated"), "{e}");
        let e = NpySource::open(dir.path().join("missing.npy"))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("missing.npy") && e.contains("cannot open"),
            "{e}"
        );
    }

    #[test]
    fn header_encoding_is_what_numpy_writes() {
        // numpy.save of zeros((3, 4), '<u2'), checked byte for byte against numpy 2: the dict
        // padded with spaces so that the data starts at byte 128, then a newline.
        let dict = "{'descr': '<u2', 'fortran_order': False, 'shape': (3, 4), }";
        let mut want = b"\x93NUMPY\x01\x00\x76\x00".to_vec();
        want.extend_from_slice(dict.as_bytes());
        want.resize(127, b' ');
        want.push(b'\n');
        let h = NpyHeader::encode(&[3, 4], DType::U16);
        assert_eq!(h, want);
        let parsed = NpyHeader::parse(&h).unwrap();
        assert_eq!(
            (
                parsed.version,
                parsed.dtype,
                parsed.shape,
                parsed.data_offset
            ),
            ((1, 0), DType::U16, vec![3, 4], 128)
        );
        assert!(!parsed.fortran_order && !parsed.big_endian);
    }
}
