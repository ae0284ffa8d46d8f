//! Decoders for the HDF5 filters vastarray undoes itself, outside the HDF5 library's global
//! lock: deflate (zlib), shuffle (a byte transpose) and Fletcher32 (a checksum appended to the
//! chunk). Each works on one chunk's bytes and is safe to run on many threads at once.
//!
//! ```
//! use vastarray::io::hdf5::filters::{decode_pipeline, encode_pipeline, PipelineFilter};
//! let data: Vec<u8> = (0..4000u32).flat_map(|v| v.to_le_bytes()).collect();
//! let pipeline = [PipelineFilter::Shuffle, PipelineFilter::Deflate(6), PipelineFilter::Fletcher32];
//! let stored = encode_pipeline(data.clone(), &pipeline, 4).unwrap();
//! assert!(stored.len() < data.len() / 4);
//! assert_eq!(decode_pipeline(stored, &pipeline, 0, 4, data.len()).unwrap(), data);
//! ```

pub use super::shuffle::{shuffle, unshuffle, unshuffle_into};
use std::fmt;

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
    let mut out = vec![0u8; expected_len];
    decode_pipeline_into(&stored, pipeline, filter_mask, elem_size, &mut out)?;
    Ok(out)
}

/// The filters of `pipeline` still applied to a chunk stored with `filter_mask`, in the order
/// they are undone (the reverse of the pipeline).
fn active_in_decode_order(
    pipeline: &[PipelineFilter],
    filter_mask: u32,
) -> impl Iterator<Item = &PipelineFilter> {
    pipeline
        .iter()
        .enumerate()
        .rev()
        .filter(move |(pos, _)| *pos >= 32 || filter_mask & (1 << pos) == 0)
        .map(|(_, f)| f)
}

/// Where the bytes of the current decoding stage are.
#[derive(Clone, Copy)]
enum At {
    Stored,
    Scratch(usize),
    Out,
}

/// [`decode_pipeline`] into `out`, whose length is the decoded chunk's size. The last stage
/// that writes (inflate or unshuffle) writes straight into `out`; earlier ones use per-thread
/// scratch buffers that are kept between chunks, so a chunk costs no allocation and no copy
/// beyond its filters. Fletcher32 checks and trims in place.
pub fn decode_pipeline_into(
    stored: &[u8],
    pipeline: &[PipelineFilter],
    filter_mask: u32,
    elem_size: usize,
    out: &mut [u8],
) -> Result<(), String> {
    let stages: Vec<&PipelineFilter> = active_in_decode_order(pipeline, filter_mask).collect();
    if let Some(other) = stages
        .iter()
        .find(|f| matches!(f, PipelineFilter::Other { .. }))
    {
        return Err(format!(
            "filter {other} cannot be decoded outside the HDF5 library"
        ));
    }
    // The size each stage must produce, known from the end: Fletcher32 strips 4 bytes,
    // shuffle keeps the size, so the output of an inflate is known exactly unless another
    // inflate follows it (a pipeline no HDF5 writer makes, but a file can declare); then it is
    // only bounded.
    let mut sizes: Vec<Option<usize>> = vec![None; stages.len()];
    let mut after = Some(out.len());
    for (k, f) in stages.iter().enumerate().rev() {
        sizes[k] = after;
        after = match f {
            PipelineFilter::Fletcher32 => match after {
                Some(n) => Some(
                    n.checked_add(4)
                        .ok_or("chunk size overflows with its checksum")?,
                ),
                None => None,
            },
            PipelineFilter::Deflate(_) => None,
            _ => after,
        };
    }
    // A stage writes into `out` when no later stage writes or changes the size.
    let last_writer = stages
        .iter()
        .rposition(|f| !matches!(f, PipelineFilter::Fletcher32));
    let direct = last_writer.filter(|&k| stages[k + 1..].is_empty());
    SCRATCH.with(|cell| {
        let mut scratch = cell.take();
        let result = run_stages(
            stored,
            &stages,
            &sizes,
            direct,
            elem_size,
            out,
            &mut scratch,
        );
        scratch.iter_mut().for_each(trim_scratch);
        cell.set(scratch);
        result
    })
}

thread_local! {
    /// Two reusable intermediate buffers per thread (ping-pong between stages).
    static SCRATCH: std::cell::Cell<[Vec<u8>; 2]> = const { std::cell::Cell::new([Vec::new(), Vec::new()]) };
}

/// Scratch buffers larger than this are freed after use instead of kept for the next chunk.
const KEEP_SCRATCH_BYTES: usize = 64 << 20;

fn trim_scratch(buf: &mut Vec<u8>) {
    if buf.capacity() > KEEP_SCRATCH_BYTES {
        *buf = Vec::new();
    }
}

/// A scratch buffer of exactly `len` bytes (contents unspecified: every stage overwrites all of
/// its output).
fn sized(buf: &mut Vec<u8>, len: usize) -> &mut [u8] {
    if buf.len() < len {
        buf.resize(len, 0);
    }
    &mut buf[..len]
}

fn run_stages(
    stored: &[u8],
    stages: &[&PipelineFilter],
    sizes: &[Option<usize>],
    direct: Option<usize>,
    elem_size: usize,
    out: &mut [u8],
    scratch: &mut [Vec<u8>; 2],
) -> Result<(), String> {
    let mut at = At::Stored;
    let mut len = stored.len();
    for (k, filter) in stages.iter().enumerate() {
        if let PipelineFilter::Fletcher32 = filter {
            let data = match at {
                At::Stored => &stored[..len],
                At::Scratch(i) => &scratch[i][..len],
                At::Out => &out[..len],
            };
            len = fletcher32_check(data)?;
            continue;
        }
        // An inflate of unknown output size gets room for any honest encoding of the chunk
        // (stored deflate blocks add 5 bytes per 64 KiB) and reports how much it wrote.
        let want = match (sizes[k], filter) {
            (Some(n), _) => n,
            (None, PipelineFilter::Deflate(_)) => unknown_size_bound(out.len(), stages.len()),
            (None, _) => len,
        };
        // Split the borrows: the input is in `stored` or one scratch buffer, the output in
        // `out` or the other scratch buffer.
        let (input, output, next): (&[u8], &mut [u8], At) = {
            let target = match at {
                At::Scratch(i) => 1 - i,
                _ => 0,
            };
            let [s0, s1] = scratch;
            let (mine, other) = if target == 0 { (s0, s1) } else { (s1, s0) };
            let input: &[u8] = match at {
                At::Stored => &stored[..len],
                At::Scratch(_) => &other[..len],
                At::Out => unreachable!("no stage runs after the one writing the output"),
            };
            if direct == Some(k) {
                if out.len() != want {
                    return Err("internal: output size".into());
                }
                (input, &mut *out, At::Out)
            } else {
                (input, sized(mine, want), At::Scratch(target))
            }
        };
        let mut produced = want;
        match filter {
            PipelineFilter::Deflate(_) if sizes[k].is_some() => inflate_into(input, output)?,
            PipelineFilter::Deflate(_) => produced = inflate_bounded(input, output)?,
            PipelineFilter::Shuffle => {
                if input.len() != output.len() {
                    return Err(format!(
                        "shuffled data has {} bytes, expected {} (corrupt chunk or wrong chunk size)",
                        input.len(),
                        output.len()
                    ));
                }
                unshuffle_into(input, elem_size, output);
            }
            PipelineFilter::Fletcher32 | PipelineFilter::Other { .. } => {
                unreachable!("handled above")
            }
        }
        at = next;
        len = produced;
    }
    if !matches!(at, At::Out) {
        let data = match at {
            At::Stored => &stored[..len],
            At::Scratch(i) => &scratch[i][..len],
            At::Out => unreachable!(),
        };
        if data.len() != out.len() {
            return Err(format!(
                "decoded chunk has {} bytes, expected {} (corrupt chunk or wrong chunk size)",
                data.len(),
                out.len()
            ));
        }
        out.copy_from_slice(data);
    }
    Ok(())
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

thread_local! {
    /// libdeflate's decompressor state (about 10 KiB), one per thread.
    static INFLATER: std::cell::RefCell<libdeflater::Decompressor> =
        std::cell::RefCell::new(libdeflater::Decompressor::new());
}

/// Decompresses a zlib stream (one HDF5 deflate chunk) into `out`, which must be filled
/// exactly: a stream that decodes to fewer or more bytes, or fails its checksum, is an error.
/// The output never exceeds `out`, so a corrupt stream cannot exhaust memory.
///
/// libdeflate (through `libdeflater`) decodes whole buffers; it measured faster than zlib-rs
/// on h5py's chunks (`benches/hdf5.rs`, figures in `benches/README.md`).
pub fn inflate_into(compressed: &[u8], out: &mut [u8]) -> Result<(), String> {
    use libdeflater::DecompressionError;
    let got = INFLATER.with(|d| d.borrow_mut().zlib_decompress(compressed, out));
    match got {
        Ok(n) if n == out.len() => Ok(()),
        Ok(n) => Err(format!(
            "deflate stream decodes to {n} bytes, expected {} (corrupt chunk or wrong chunk size)",
            out.len()
        )),
        Err(DecompressionError::InsufficientSpace) => Err(format!(
            "deflate stream decodes to more than the {} bytes expected",
            out.len()
        )),
        Err(DecompressionError::BadData) => {
            Err("deflate stream is corrupt (bad data or checksum)".into())
        }
    }
}

/// Decompresses a zlib stream into `out`, which bounds its size; returns the bytes written.
fn inflate_bounded(compressed: &[u8], out: &mut [u8]) -> Result<usize, String> {
    use libdeflater::DecompressionError;
    match INFLATER.with(|d| d.borrow_mut().zlib_decompress(compressed, out)) {
        Ok(n) => Ok(n),
        Err(DecompressionError::InsufficientSpace) => Err(format!(
            "deflate stream decodes to more than the {} bytes a stage of this chunk can hold",
            out.len()
        )),
        Err(DecompressionError::BadData) => {
            Err("deflate stream is corrupt (bad data or checksum)".into())
        }
    }
}

/// Room for an intermediate stage whose size is not known (an inflate feeding another
/// inflate): the chunk's size with the overhead of `stages` nested honest encodings.
fn unknown_size_bound(chunk: usize, stages: usize) -> usize {
    let mut n = chunk;
    for _ in 0..stages {
        n = n.saturating_add(n / 8).saturating_add(1024);
    }
    n
}

/// [`inflate_into`] into a new buffer of `expected_len` bytes.
pub fn inflate(compressed: &[u8], expected_len: usize) -> Result<Vec<u8>, String> {
    let mut out = vec![0u8; expected_len];
    inflate_into(compressed, &mut out)?;
    Ok(out)
}

/// Compresses bytes as HDF5's deflate filter stores them (a zlib stream), with libdeflate at
/// `level` (0 to 9 as in HDF5; 0 stores uncompressed blocks).
pub fn deflate(data: &[u8], level: u8) -> Vec<u8> {
    let lvl = libdeflater::CompressionLvl::new(i32::from(level.min(9)))
        .unwrap_or_else(|_| libdeflater::CompressionLvl::default());
    let mut c = libdeflater::Compressor::new(lvl);
    let mut out = vec![0u8; c.zlib_compress_bound(data.len())];
    // The bound is libdeflate's own worst case, so compression into it cannot fail.
    let n = c.zlib_compress(data, &mut out).unwrap_or(0);
    out.truncate(n);
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
    let body_len = fletcher32_check(&data)?;
    data.truncate(body_len);
    Ok(data)
}

/// Checks the Fletcher-32 checksum at the end of `data` (see [`fletcher32_strip`]) and returns
/// the length of the data before it.
pub fn fletcher32_check(data: &[u8]) -> Result<usize, String> {
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
    Ok(body_len)
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
