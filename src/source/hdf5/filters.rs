//! Decoders for the HDF5 filters vastarray undoes itself, outside the HDF5 library's global
//! lock: deflate (zlib), shuffle (a byte transpose) and Fletcher32 (a checksum appended to the
//! chunk). Each works on one chunk's bytes and is safe to run on many threads at once.

use std::fmt;
use std::io::Read;

/// One step of a dataset's filter pipeline, as far as the raw-chunk reader is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PipelineFilter {
    /// zlib-compressed data (HDF5 filter 1, h5py's `compression="gzip"`), with its level.
    Deflate(u8),
    /// The bytes of each element grouped by significance (HDF5 filter 2).
    Shuffle,
    /// A Fletcher-32 checksum appended to the chunk (HDF5 filter 3).
    Fletcher32,
    /// Any other filter (szip, n-bit, scale-offset, LZF, Blosc, ...): read through the library.
    Other {
        /// The HDF5 filter identifier.
        id: i32,
        /// A readable name of the filter.
        name: String,
    },
}

impl PipelineFilter {
    /// True for the filters vastarray decodes without the HDF5 library.
    pub fn decodable(&self) -> bool {
        !matches!(self, PipelineFilter::Other { .. })
    }
}

impl fmt::Display for PipelineFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PipelineFilter::Deflate(level) => write!(f, "deflate (level {level})"),
            PipelineFilter::Shuffle => f.write_str("shuffle"),
            PipelineFilter::Fletcher32 => f.write_str("fletcher32"),
            PipelineFilter::Other { id, name } => write!(f, "{name} (filter id {id})"),
        }
    }
}

/// Undoes the pipeline on one stored chunk: filters run in reverse order, skipping those whose
/// bit is set in `filter_mask` (the chunk was stored without them). `elem_size` is the element
/// size (for shuffle) and `expected_len` the decoded chunk's size in bytes, which bounds
/// decompression (a corrupt stream cannot make it allocate more) and is checked at the end.
///
/// Returns a message (without location: the caller adds file, dataset and chunk) on failure.
pub fn decode_pipeline(
    stored: Vec<u8>,
    pipeline: &[PipelineFilter],
    filter_mask: u32,
    elem_size: usize,
    expected_len: usize,
) -> Result<Vec<u8>, String> {
    let mut data = stored;
    for (pos, filter) in pipeline.iter().enumerate().rev() {
        if pos < 32 && filter_mask & (1 << pos) != 0 {
            continue;
        }
        data = match filter {
            PipelineFilter::Deflate(_) => inflate(&data, expected_len)?,
            PipelineFilter::Shuffle => unshuffle(&data, elem_size),
            PipelineFilter::Fletcher32 => fletcher32_strip(data)?,
            PipelineFilter::Other { .. } => {
                return Err(format!(
                    "filter {filter} cannot be decoded outside the HDF5 library"
                ));
            }
        };
    }
    if data.len() != expected_len {
        return Err(format!(
            "decoded chunk has {} bytes, expected {} (corrupt chunk or wrong chunk size)",
            data.len(),
            expected_len
        ));
    }
    Ok(data)
}

/// Applies the pipeline to one chunk's bytes as the HDF5 library would when writing (filters
/// in pipeline order), for direct chunk writes. Fails on a filter vastarray cannot encode.
pub fn encode_pipeline(
    data: Vec<u8>,
    pipeline: &[PipelineFilter],
    elem_size: usize,
) -> Result<Vec<u8>, String> {
    let mut data = data;
    for filter in pipeline {
        data = match filter {
            PipelineFilter::Deflate(level) => deflate(&data, *level),
            PipelineFilter::Shuffle => shuffle(&data, elem_size),
            PipelineFilter::Fletcher32 => {
                let sum = fletcher32(&data);
                data.extend_from_slice(&sum.to_le_bytes());
                data
            }
            PipelineFilter::Other { .. } => {
                return Err(format!(
                    "filter {filter} cannot be applied outside the HDF5 library"
                ));
            }
        };
    }
    Ok(data)
}

/// Decompresses a zlib stream that should yield `expected_len` bytes. More output than that
/// (plus a little slack for a checksum another filter strips) is an error, so a corrupt stream
/// cannot exhaust memory.
pub fn inflate(compressed: &[u8], expected_len: usize) -> Result<Vec<u8>, String> {
    let limit = expected_len.saturating_add(64);
    let mut out = Vec::with_capacity(expected_len);
    let decoder = flate2::bufread::ZlibDecoder::new(compressed);
    decoder
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("deflate stream is corrupt: {e}"))?;
    if out.len() > limit {
        return Err(format!(
            "deflate stream decodes to more than the {expected_len} bytes of a chunk"
        ));
    }
    Ok(out)
}

/// Compresses bytes as HDF5's deflate filter stores them (a zlib stream).
pub fn deflate(data: &[u8], level: u8) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(data.len() / 2 + 64),
        flate2::Compression::new(u32::from(level.min(9))),
    );
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// Undoes HDF5's shuffle filter: the stored bytes hold byte 0 of every element, then byte 1
/// of every element, and so on; trailing bytes that do not make a whole element are kept as is.
pub fn unshuffle(data: &[u8], elem_size: usize) -> Vec<u8> {
    if elem_size <= 1 || data.len() < elem_size {
        return data.to_vec();
    }
    let n = data.len() / elem_size;
    let mut out = vec![0u8; data.len()];
    match elem_size {
        2 => unshuffle_fixed::<2>(data, n, &mut out),
        4 => unshuffle_fixed::<4>(data, n, &mut out),
        8 => unshuffle_fixed::<8>(data, n, &mut out),
        _ => {
            for (b, plane) in data.chunks_exact(n).take(elem_size).enumerate() {
                for (o, &v) in out.iter_mut().skip(b).step_by(elem_size).zip(plane) {
                    *o = v;
                }
            }
        }
    }
    let tail = n * elem_size;
    out[tail..].copy_from_slice(&data[tail..]);
    out
}

/// [`unshuffle`] for an element size known at compile time, so the inner loop unrolls.
fn unshuffle_fixed<const N: usize>(data: &[u8], n: usize, out: &mut [u8]) {
    let mut planes = [&data[..0]; N];
    for (b, plane) in planes.iter_mut().enumerate() {
        *plane = &data[b * n..(b + 1) * n];
    }
    for (i, elem) in out[..n * N].chunks_exact_mut(N).enumerate() {
        for (b, o) in elem.iter_mut().enumerate() {
            *o = planes[b][i];
        }
    }
}

/// Applies HDF5's shuffle filter (the inverse of [`unshuffle`]).
pub fn shuffle(data: &[u8], elem_size: usize) -> Vec<u8> {
    if elem_size <= 1 || data.len() < elem_size {
        return data.to_vec();
    }
    let n = data.len() / elem_size;
    let mut out = vec![0u8; data.len()];
    for (b, plane) in out.chunks_exact_mut(n).take(elem_size).enumerate() {
        for (i, v) in plane.iter_mut().enumerate() {
            *v = data[i * elem_size + b];
        }
    }
    let tail = n * elem_size;
    out[tail..].copy_from_slice(&data[tail..]);
    out
}

/// HDF5's Fletcher-32 checksum (`H5_checksum_fletcher32`): 16-bit words read big-endian, an
/// odd trailing byte as the high byte of a last word, sums folded every 360 words. Additions
/// wrap, as the C code's `uint32_t` arithmetic does.
pub fn fletcher32(data: &[u8]) -> u32 {
    let mut sum1: u32 = 0;
    let mut sum2: u32 = 0;
    let words = data.chunks_exact(2);
    let odd = words.remainder().first().copied();
    let mut in_block = 0;
    for w in words {
        sum1 = sum1.wrapping_add((u32::from(w[0]) << 8) | u32::from(w[1]));
        sum2 = sum2.wrapping_add(sum1);
        in_block += 1;
        if in_block == 360 {
            sum1 = (sum1 & 0xffff) + (sum1 >> 16);
            sum2 = (sum2 & 0xffff) + (sum2 >> 16);
            in_block = 0;
        }
    }
    if in_block > 0 {
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    if let Some(b) = odd {
        sum1 = sum1.wrapping_add(u32::from(b) << 8);
        sum2 = sum2.wrapping_add(sum1);
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    (sum2 << 16) | sum1
}

/// Checks and removes the 4-byte little-endian Fletcher-32 checksum at the end of a chunk.
/// Like the HDF5 library, also accepts the byte-swapped checksum older versions wrote.
pub fn fletcher32_strip(mut data: Vec<u8>) -> Result<Vec<u8>, String> {
    if data.len() < 4 {
        return Err(format!(
            "chunk of {} bytes is too short to hold a Fletcher32 checksum",
            data.len()
        ));
    }
    let body_len = data.len() - 4;
    let mut stored = [0u8; 4];
    stored.copy_from_slice(&data[body_len..]);
    let stored = u32::from_le_bytes(stored);
    let computed = fletcher32(&data[..body_len]);
    let b = computed.to_le_bytes();
    let reversed = u32::from_le_bytes([b[1], b[0], b[3], b[2]]);
    if stored != computed && stored != reversed {
        return Err(format!(
            "Fletcher32 checksum mismatch (stored {stored:#010x}, computed {computed:#010x}): the chunk is corrupt"
        ));
    }
    data.truncate(body_len);
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffle_round_trips_with_a_tail() {
        let data: Vec<u8> = (0..23).collect();
        for size in [1, 2, 3, 4, 5, 8] {
            assert_eq!(unshuffle(&shuffle(&data, size), size), data);
        }
        assert_eq!(shuffle(&[1, 2, 3, 4, 5, 6], 2), vec![1, 3, 5, 2, 4, 6]);
    }

    #[test]
    fn encode_then_decode_is_identity() {
        let data: Vec<u8> = (0..4000u32).map(|i| (i % 251) as u8).collect();
        let pipe = [
            PipelineFilter::Shuffle,
            PipelineFilter::Deflate(5),
            PipelineFilter::Fletcher32,
        ];
        let enc = encode_pipeline(data.clone(), &pipe, 8).unwrap();
        assert_eq!(decode_pipeline(enc, &pipe, 0, 8, 4000).unwrap(), data);
    }

    #[test]
    fn inflate_refuses_more_than_a_chunk() {
        let big = vec![7u8; 10_000];
        let z = deflate(&big, 6);
        assert_eq!(inflate(&z, 10_000).unwrap(), big);
        assert!(inflate(&z, 100).is_err());
        assert!(inflate(&[1, 2, 3], 100).is_err());
    }

    #[test]
    fn fletcher_detects_a_flipped_byte() {
        let mut data: Vec<u8> = (0..1001u32).map(|i| (i * 7) as u8).collect();
        let sum = fletcher32(&data);
        data.extend_from_slice(&sum.to_le_bytes());
        assert_eq!(fletcher32_strip(data.clone()).unwrap().len(), 1001);
        data[17] ^= 0x40;
        assert!(fletcher32_strip(data).is_err());
    }
}
