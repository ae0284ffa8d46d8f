//! The raw-chunk reader: reads a chunk's stored bytes with `pread` (no HDF5 call, no global
//! lock), undoes its filters and turns the bytes into a typed array. Many threads can run it at
//! once on the same file.

use super::chunk_index::ChunkLocation;
use super::filters::{decode_pipeline, PipelineFilter};
use crate::data::NdData;
use crate::dtype::DType;
use ndarray::{ArrayD, IxDyn, Slice, SliceInfoElem};
use std::fs::File;
use std::os::unix::fs::FileExt;

/// Reads `len` bytes at `offset` of `file`, whose length was `file_len` when it was opened.
/// A range past the end is reported as a truncated file, not read.
pub fn pread(file: &File, file_len: u64, offset: u64, len: u64) -> Result<Vec<u8>, String> {
    let end = offset
        .checked_add(len)
        .ok_or_else(|| format!("byte range {offset}+{len} overflows"))?;
    if end > file_len {
        return Err(format!(
            "stored bytes {offset}..{end} lie beyond the end of the file ({file_len} bytes): the file is truncated or corrupt"
        ));
    }
    let len =
        usize::try_from(len).map_err(|_| format!("chunk of {len} bytes does not fit in memory"))?;
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, offset).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            format!("the file ends before byte {end}, where this chunk ends: it was truncated")
        } else {
            format!("reading bytes {offset}..{end}: {e}")
        }
    })?;
    Ok(buf)
}

/// True when every filter still applied to a chunk (its bit in `filter_mask` not set) is one
/// vastarray decodes itself.
pub fn chunk_decodable(pipeline: &[PipelineFilter], filter_mask: u32) -> bool {
    pipeline
        .iter()
        .enumerate()
        .all(|(pos, f)| f.decodable() || (pos < 32 && filter_mask & (1 << pos) != 0))
}

/// Reads and decodes one stored chunk into an array of the full chunk shape `chunk_shape`.
pub fn read_stored_chunk(
    file: &File,
    file_len: u64,
    loc: ChunkLocation,
    pipeline: &[PipelineFilter],
    dtype: DType,
    big_endian: bool,
    chunk_shape: &[usize],
) -> Result<NdData, String> {
    let expected = chunk_shape
        .iter()
        .product::<usize>()
        .saturating_mul(dtype.size());
    let stored = pread(file, file_len, loc.offset, loc.size)?;
    let bytes = decode_pipeline(stored, pipeline, loc.filter_mask, dtype.size(), expected)?;
    bytes_to_array(&bytes, dtype, big_endian, chunk_shape)
}

macro_rules! decode_numbers {
    ($bytes:expr, $t:ty, $big:expr) => {{
        const N: usize = std::mem::size_of::<$t>();
        let words = $bytes.chunks_exact(N);
        let v: Vec<$t> = if $big {
            words
                .map(|c| {
                    let mut a = [0u8; N];
                    a.copy_from_slice(c);
                    <$t>::from_be_bytes(a)
                })
                .collect()
        } else {
            words
                .map(|c| {
                    let mut a = [0u8; N];
                    a.copy_from_slice(c);
                    <$t>::from_le_bytes(a)
                })
                .collect()
        };
        v
    }};
}

/// Interprets bytes (C order, the file's byte order) as an array of `shape`. Booleans are
/// bytes, any nonzero byte being `true` (h5py stores numpy `bool` as an enum of 0 and 1).
pub fn bytes_to_array(
    bytes: &[u8],
    dtype: DType,
    big_endian: bool,
    shape: &[usize],
) -> Result<NdData, String> {
    let n: usize = shape.iter().product();
    if bytes.len() != n.saturating_mul(dtype.size()) {
        return Err(format!(
            "{} bytes cannot hold {n} {dtype} values",
            bytes.len()
        ));
    }
    let dim = IxDyn(shape);
    let err = |e: ndarray::ShapeError| format!("building a {shape:?} array: {e}");
    Ok(match dtype {
        DType::Bool => NdData::Bool(
            ArrayD::from_shape_vec(dim, bytes.iter().map(|&b| b != 0).collect()).map_err(err)?,
        ),
        DType::I8 => NdData::I8(
            ArrayD::from_shape_vec(dim, decode_numbers!(bytes, i8, big_endian)).map_err(err)?,
        ),
        DType::U8 => NdData::U8(ArrayD::from_shape_vec(dim, bytes.to_vec()).map_err(err)?),
        DType::I16 => NdData::I16(
            ArrayD::from_shape_vec(dim, decode_numbers!(bytes, i16, big_endian)).map_err(err)?,
        ),
        DType::U16 => NdData::U16(
            ArrayD::from_shape_vec(dim, decode_numbers!(bytes, u16, big_endian)).map_err(err)?,
        ),
        DType::I32 => NdData::I32(
            ArrayD::from_shape_vec(dim, decode_numbers!(bytes, i32, big_endian)).map_err(err)?,
        ),
        DType::U32 => NdData::U32(
            ArrayD::from_shape_vec(dim, decode_numbers!(bytes, u32, big_endian)).map_err(err)?,
        ),
        DType::I64 => NdData::I64(
            ArrayD::from_shape_vec(dim, decode_numbers!(bytes, i64, big_endian)).map_err(err)?,
        ),
        DType::U64 => NdData::U64(
            ArrayD::from_shape_vec(dim, decode_numbers!(bytes, u64, big_endian)).map_err(err)?,
        ),
        DType::F32 => NdData::F32(
            ArrayD::from_shape_vec(dim, decode_numbers!(bytes, f32, big_endian)).map_err(err)?,
        ),
        DType::F64 => NdData::F64(
            ArrayD::from_shape_vec(dim, decode_numbers!(bytes, f64, big_endian)).map_err(err)?,
        ),
    })
}

/// The leading `extent` corner of a full chunk (edge chunks are stored at full size).
pub fn crop(data: NdData, extent: &[usize]) -> NdData {
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
