//! Compressing and decompressing single b2nd chunks: raw Blosc2 chunk bytes (as stored in a
//! `.b2nd` file or sent by a Caterva2 server) to C-ordered [`NdData`] and back.

use super::chunk_header::{ChunkHeader, Special};
use super::codec::Compression;
use super::ffi::{c_len, error_text, with_decompressor, Context};
use super::layout::ChunkLayout;
use crate::data::NdData;
use crate::data::{nd_filled, nd_to_bytes, nd_written};
use crate::error::{Error, Result};
use blosc2_rs_sys as sys;
use std::cell::RefCell;
use std::ops::Range;

/// The uncompressed and compressed sizes a Blosc2 chunk header announces, after checking the
/// header and that `raw` is exactly one whole chunk.
pub fn chunk_sizes(raw: &[u8]) -> Result<(usize, usize)> {
    let h = ChunkHeader::parse(raw).map_err(Error::Invalid)?;
    h.check_body(raw).map_err(Error::Invalid)?;
    Ok((h.nbytes, h.cbytes))
}

/// Checks `raw` (one whole chunk: header, sizes, block starts) and decompresses it into `dst`,
/// which must be exactly as long as the chunk's uncompressed size. With `mask`, blocks marked
/// `true` are skipped (their bytes in `dst` are left as they were); the mask must have one
/// entry per block. Never hands C-Blosc2 a size it has not checked.
pub(crate) fn decompress_into(
    raw: &[u8],
    dst: &mut [u8],
    mask: Option<&mut [bool]>,
) -> Result<ChunkHeader> {
    // SAFETY: `dst` is a valid, exclusively borrowed buffer of `dst.len()` bytes.
    unsafe { decompress_to(raw, dst.as_mut_ptr(), dst.len(), mask) }
}

/// [`decompress_into`] writing to `dst_len` bytes at `dst`, which may be uninitialised: on
/// success without a mask, every one of them has been written.
///
/// # Safety
/// `dst` must be valid for writes of `dst_len` bytes, and not aliased during the call.
pub(crate) unsafe fn decompress_to(
    raw: &[u8],
    dst: *mut u8,
    dst_len: usize,
    mask: Option<&mut [bool]>,
) -> Result<ChunkHeader> {
    let h = ChunkHeader::parse(raw).map_err(Error::Invalid)?;
    h.check_body(raw).map_err(Error::Invalid)?;
    if h.nbytes != dst_len {
        return Err(Error::Invalid(format!(
            "chunk holds {} bytes uncompressed, {dst_len} expected",
            h.nbytes
        )));
    }
    if h.nbytes == 0 {
        return Ok(h);
    }
    if h.special == Special::Uninit {
        // C-Blosc2 leaves the destination as it is; vastarray reads such chunks as zeros.
        // SAFETY: the caller guarantees `dst_len` writable bytes at `dst`.
        unsafe { std::ptr::write_bytes(dst, 0, dst_len) };
        return Ok(h);
    }
    let mask = match mask {
        Some(m) if m.len() != h.nblocks() => {
            return Err(Error::Invalid(format!(
                "chunk has {} blocks, the block mask {}",
                h.nblocks(),
                m.len()
            )))
        }
        m => m,
    };
    let src_len = c_len(raw.len(), "compressed chunk")?;
    let dst_c_len = c_len(dst_len, "chunk")?;
    let rc = with_decompressor(h.nbytes, h.nblocks(), |ctx| {
        if let Some(mask) = mask {
            let n = c_len(mask.len(), "block mask")?;
            // SAFETY: valid context; the mask has `n` entries (C-Blosc2 copies it).
            let rc = unsafe { sys::blosc2_set_maskout(ctx.as_ptr(), mask.as_mut_ptr(), n) };
            if rc < 0 {
                return Err(Error::Invalid(format!(
                    "setting block mask: {}",
                    error_text(rc as i64)
                )));
            }
        }
        // SAFETY: `raw` holds exactly `src_len` bytes whose header and block starts were
        // checked above; `dst` is writable for `dst_len` bytes (the caller's guarantee), the
        // chunk's uncompressed size.
        Ok(unsafe {
            sys::blosc2_decompress_ctx(
                ctx.as_ptr(),
                raw.as_ptr().cast(),
                src_len,
                dst.cast(),
                dst_c_len,
            )
        })
    })??;
    if rc < 0 || rc as usize != h.nbytes {
        return Err(Error::Invalid(format!(
            "corrupt chunk: {}",
            if rc < 0 {
                error_text(rc as i64)
            } else {
                format!("{rc} of {} bytes decompressed", h.nbytes)
            }
        )));
    }
    Ok(h)
}

thread_local! {
    /// A reusable buffer for decompressed chunks that need reordering, so warm reads do not
    /// allocate (and fault in) a chunk-sized buffer each time.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Scratch buffers larger than this are released after use.
const KEEP_SCRATCH: usize = 64 << 20;

/// Runs `f` with this thread's scratch buffer resized to `n` bytes.
fn with_scratch<R>(n: usize, f: impl FnOnce(&mut [u8]) -> Result<R>) -> Result<R> {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < n {
                buf.resize(n, 0);
            }
            let out = f(&mut buf[..n]);
            if buf.len() > KEEP_SCRATCH {
                *buf = Vec::new();
            }
            out
        }
        Err(_) => f(&mut vec![0u8; n]),
    })
}

/// Decodes raw Blosc2 chunk bytes of a b2nd array into a C-ordered array of shape `extent`
/// (the chunk's shape clipped at the array's edge). This is the decoder a client of a chunk
/// server (Caterva2's `/api/chunk`) uses: it needs only the bytes, the chunk and block shapes
/// and the element type.
///
/// ```
/// use vastarray::io::b2nd::{decode_chunk, encode_chunk, ChunkLayout, Compression};
/// use vastarray::{DType, NdData};
/// let layout = ChunkLayout::new(&[4, 6], &[2, 3], DType::I32).unwrap();
/// let data = NdData::from(ndarray::Array::from_shape_fn((3, 5), |(i, j)| (i * 5 + j) as i32).into_dyn());
/// let raw = encode_chunk(&data, &layout, Compression::lz4()).unwrap();
/// assert_eq!(decode_chunk(&raw, &layout, &[3, 5]).unwrap(), data);
/// ```
pub fn decode_chunk(raw: &[u8], layout: &ChunkLayout, extent: &[usize]) -> Result<NdData> {
    layout.check_extent(extent)?;
    let nbytes = layout.chunk_nbytes();
    if layout.blocks_are_c_order(extent) {
        // The block-by-block bytes are the C-ordered chunk: decompress straight into the
        // array's (not zeroed) memory.
        // SAFETY: without a mask, a successful `decompress_to` writes every byte.
        return unsafe {
            nd_written(layout.dtype(), extent, |dst, len| {
                decompress_to(raw, dst, len, None).map(|_| ())
            })
        };
    }
    let region: Vec<Range<usize>> = extent.iter().map(|&e| 0..e).collect();
    with_scratch(nbytes, |blocked| {
        decompress_into(raw, blocked, None)?;
        nd_filled(layout.dtype(), extent, |dst| {
            layout.blocks_to_c_into(blocked, &region, dst)
        })
    })
}

/// Decodes only `region` (chunk coordinates) of a raw b2nd chunk, decompressing only the
/// blocks that meet it.
pub fn decode_chunk_region(
    raw: &[u8],
    layout: &ChunkLayout,
    region: &[Range<usize>],
) -> Result<NdData> {
    let shape: Vec<usize> = region
        .iter()
        .map(|r| r.end.saturating_sub(r.start))
        .collect();
    if region.len() != layout.chunk_shape().len()
        || region
            .iter()
            .zip(layout.chunk_shape())
            .any(|(r, c)| r.start > r.end || r.end > *c)
    {
        return Err(Error::Shape(format!(
            "region {region:?} is outside chunk shape {:?}",
            layout.chunk_shape()
        )));
    }
    if shape.contains(&0) {
        return Ok(NdData::zeros(layout.dtype(), &shape));
    }
    if layout.blocks_are_c_order(&shape) {
        // The whole chunk, stored in C order: no reordering, no mask.
        return decode_chunk(raw, layout, &shape);
    }
    let mut mask = layout.blocks_outside(region);
    with_scratch(layout.chunk_nbytes(), |blocked| {
        let masked = decompress_into(raw, blocked, Some(&mut mask));
        if masked.is_err() && ChunkHeader::parse(raw).is_ok_and(|h| h.nblocks() != mask.len()) {
            // Blosc2 blocks that are not the layout's blocks: decompress everything.
            decompress_into(raw, blocked, None)?;
        } else {
            masked?;
        }
        nd_filled(layout.dtype(), &shape, |dst| {
            layout.blocks_to_c_into(blocked, region, dst)
        })
    })
}

/// Compresses a C-ordered chunk (its shape is the chunk's extent, at most the chunk shape)
/// into b2nd chunk bytes: padded to the full chunk shape, laid out block by block.
pub fn encode_chunk(
    data: &NdData,
    layout: &ChunkLayout,
    compression: Compression,
) -> Result<Vec<u8>> {
    if data.dtype() != layout.dtype() {
        return Err(Error::DType(format!(
            "cannot store {} data in a chunk of {}",
            data.dtype(),
            layout.dtype()
        )));
    }
    let blocked = layout.c_to_blocks(&nd_to_bytes(data), data.shape())?;
    compress_blocked(&blocked, layout, compression)
}

/// Compresses an already block-ordered chunk.
fn compress_blocked(
    blocked: &[u8],
    layout: &ChunkLayout,
    compression: Compression,
) -> Result<Vec<u8>> {
    let cparams = compression.cparams(layout.dtype().size(), layout.block_nbytes())?;
    compress_raw(blocked, cparams)
}

/// Compresses `bytes` into one Blosc2 chunk with `cparams`.
pub(crate) fn compress_raw(bytes: &[u8], cparams: sys::blosc2_cparams) -> Result<Vec<u8>> {
    let mut ctx = Context::compressor(cparams)?;
    let cap = bytes.len() + sys::BLOSC2_MAX_OVERHEAD as usize;
    let mut out = vec![0u8; cap];
    let src_len = c_len(bytes.len(), "chunk")?;
    let dst_len = c_len(cap, "chunk")?;
    // SAFETY: both buffers have the lengths passed.
    let rc = unsafe {
        sys::blosc2_compress_ctx(
            ctx.as_ptr(),
            bytes.as_ptr().cast(),
            src_len,
            out.as_mut_ptr().cast(),
            dst_len,
        )
    };
    if rc <= 0 {
        return Err(Error::Internal(format!(
            "compressing a chunk: {}",
            error_text(rc as i64)
        )));
    }
    out.truncate(rc as usize);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;
    use crate::io::b2nd::Codec;

    #[test]
    fn encode_decode_region_every_codec() {
        let layout = ChunkLayout::new(&[6, 10], &[4, 3], DType::F64).unwrap();
        let data = NdData::from(
            ndarray::Array::from_shape_fn((5, 9), |(i, j)| (i * 100 + j) as f64).into_dyn(),
        );
        for codec in [
            Codec::Lz4,
            Codec::Zstd,
            Codec::Zlib,
            Codec::Blosclz,
            Codec::None,
        ] {
            let raw = encode_chunk(&data, &layout, Compression::new(codec, 5)).unwrap();
            assert_eq!(
                decode_chunk(&raw, &layout, &[5, 9]).unwrap(),
                data,
                "{codec}"
            );
            let part = decode_chunk_region(&raw, &layout, &[1..4, 2..8]).unwrap();
            let want = NdData::from(
                ndarray::Array::from_shape_fn((3, 6), |(i, j)| ((i + 1) * 100 + j + 2) as f64)
                    .into_dyn(),
            );
            assert_eq!(part, want, "{codec}");
        }
        assert!(decode_chunk(&[1, 2, 3], &layout, &[5, 9]).is_err());
        let raw = encode_chunk(&data, &layout, Compression::lz4()).unwrap();
        assert!(decode_chunk(&raw[..raw.len() - 4], &layout, &[5, 9]).is_err());
        let other = ChunkLayout::new(&[6, 10], &[2, 5], DType::F32).unwrap();
        assert!(decode_chunk(&raw, &other, &[5, 9]).is_err());
    }
}
