//! Compressing and decompressing single b2nd chunks: raw Blosc2 chunk bytes (as stored in a
//! `.b2nd` file or sent by a Caterva2 server) to C-ordered [`NdData`] and back.

use super::bytes::{nd_from_bytes, nd_to_bytes};
use super::codec::Compression;
use super::ffi::{c_len, error_text, Context};
use super::layout::ChunkLayout;
use crate::data::NdData;
use crate::error::{Error, Result};
use blosc2_rs_sys as sys;
use std::ops::Range;

/// The uncompressed and compressed sizes a Blosc2 chunk header announces, after checking that
/// `raw` holds a whole chunk.
pub fn chunk_sizes(raw: &[u8]) -> Result<(usize, usize)> {
    if raw.len() < sys::BLOSC_EXTENDED_HEADER_LENGTH as usize {
        return Err(Error::Invalid(format!(
            "{} bytes are too short for a Blosc2 chunk",
            raw.len()
        )));
    }
    let (mut nbytes, mut cbytes, mut blocksize) = (0i32, 0i32, 0i32);
    // SAFETY: the buffer holds at least a full extended header, which is all this reads.
    let rc = unsafe {
        sys::blosc2_cbuffer_sizes(
            raw.as_ptr().cast(),
            &mut nbytes,
            &mut cbytes,
            &mut blocksize,
        )
    };
    if rc < 0 {
        return Err(Error::Invalid(format!(
            "not a Blosc2 chunk: {}",
            error_text(rc as i64)
        )));
    }
    let (n, c) = (nbytes.max(0) as usize, cbytes.max(0) as usize);
    if c > raw.len() {
        return Err(Error::Invalid(format!(
            "chunk is truncated: header says {c} bytes, {} present",
            raw.len()
        )));
    }
    Ok((n, c))
}

/// Decompresses a whole b2nd chunk (block layout) into its block-ordered bytes.
fn decompress(raw: &[u8], layout: &ChunkLayout, maskout: Option<&mut [bool]>) -> Result<Vec<u8>> {
    let (nbytes, cbytes) = chunk_sizes(raw)?;
    let want = layout.chunk_nbytes();
    if nbytes != want {
        return Err(Error::Invalid(format!(
            "chunk holds {nbytes} bytes uncompressed, the layout {:?}/{:?} of {} needs {want}",
            layout.chunk_shape(),
            layout.block_shape(),
            layout.dtype()
        )));
    }
    let mut ctx = Context::decompressor()?;
    if let Some(mask) = maskout {
        let n = c_len(mask.len(), "block mask")?;
        let rc = unsafe { sys::blosc2_set_maskout(ctx.as_ptr(), mask.as_mut_ptr(), n) };
        if rc < 0 {
            return Err(Error::Invalid(format!(
                "setting block mask: {}",
                error_text(rc as i64)
            )));
        }
    }
    let mut out = vec![0u8; want];
    let src_len = c_len(cbytes, "compressed chunk")?;
    let dst_len = c_len(want, "chunk")?;
    // SAFETY: `raw` holds `cbytes` bytes (checked above), `out` holds `want` bytes.
    let rc = unsafe {
        sys::blosc2_decompress_ctx(
            ctx.as_ptr(),
            raw.as_ptr().cast(),
            src_len,
            out.as_mut_ptr().cast(),
            dst_len,
        )
    };
    if rc < 0 {
        return Err(Error::Invalid(format!(
            "corrupt chunk: {}",
            error_text(rc as i64)
        )));
    }
    Ok(out)
}

/// Decodes raw Blosc2 chunk bytes of a b2nd array into a C-ordered array of shape `extent`
/// (the chunk's shape clipped at the array's edge). This is the decoder a client of a chunk
/// server (Caterva2's `/api/chunk`) uses: it needs only the bytes, the chunk and block shapes
/// and the element type.
///
/// ```
/// use vastarray::blosc::{decode_chunk, encode_chunk, ChunkLayout, Compression};
/// use vastarray::{DType, NdData};
/// let layout = ChunkLayout::new(&[4, 6], &[2, 3], DType::I32).unwrap();
/// let data = NdData::from(ndarray::Array::from_shape_fn((3, 5), |(i, j)| (i * 5 + j) as i32).into_dyn());
/// let raw = encode_chunk(&data, &layout, Compression::lz4()).unwrap();
/// assert_eq!(decode_chunk(&raw, &layout, &[3, 5]).unwrap(), data);
/// ```
pub fn decode_chunk(raw: &[u8], layout: &ChunkLayout, extent: &[usize]) -> Result<NdData> {
    layout.check_extent(extent)?;
    let region: Vec<Range<usize>> = extent.iter().map(|&e| 0..e).collect();
    let blocked = decompress(raw, layout, None)?;
    let bytes = layout.blocks_to_c(&blocked, &region)?;
    nd_from_bytes(layout.dtype(), extent, &bytes)
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
    let mut mask = layout.blocks_outside(region);
    let blocked = decompress(raw, layout, Some(&mut mask))?;
    let bytes = layout.blocks_to_c(&blocked, region)?;
    nd_from_bytes(layout.dtype(), &shape, &bytes)
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
    let mut ctx = Context::compressor(cparams)?;
    let cap = blocked.len() + sys::BLOSC2_MAX_OVERHEAD as usize;
    let mut out = vec![0u8; cap];
    let src_len = c_len(blocked.len(), "chunk")?;
    let dst_len = c_len(cap, "chunk")?;
    // SAFETY: both buffers have the lengths passed.
    let rc = unsafe {
        sys::blosc2_compress_ctx(
            ctx.as_ptr(),
            blocked.as_ptr().cast(),
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
    use crate::blosc::Codec;
    use crate::dtype::DType;

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
