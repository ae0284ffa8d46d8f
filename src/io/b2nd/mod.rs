//! Blosc2 `.b2nd` files: [`B2ndSource`] (a file as a lazy source), [`store_b2nd`] (any array
//! written into one in bounded memory), and the Blosc2 plumbing they share with the chunk cache
//! and Caterva2: opening and creating contiguous single-file arrays ([`B2ndFile`]), the block layout of
//! a chunk ([`ChunkLayout`]), compressing and decompressing single chunks ([`encode_chunk`],
//! [`decode_chunk`], [`decode_chunk_region`]), variable-length metadata ([`VlValue`]) and the
//! crash-safe appends ([`B2ndFile::commit`]); [`FrameJournal`] rolls back caches left by
//! older versions, which updated frames in place.
//!
//! Frames (header, metalayers, chunk index, trailer, variable-length metadata) are read,
//! checked and written in Rust (`frame`, `meta`, `writer`, `file`); C-Blosc2 (through
//! `blosc2-rs-sys` 2.21) only compresses and decompresses single chunks whose header and
//! sizes were checked first (`chunk_header`), with a per-thread decompression context
//! (`ffi`). C-Blosc2 trusts the sizes inside a frame and corrupts memory on a damaged one.
//!
//! ```
//! use vastarray::{store_b2nd, B2ndOptions, B2ndSource, DynArray};
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("x.b2nd");
//! let a = DynArray::from_ndarray(ndarray::Array2::from_shape_fn((50, 40), |(i, j)| (i * j) as f32).into_dyn(), &[10, 40]).unwrap();
//! let opts = B2ndOptions { chunks: Some(vec![16, 16]), ..Default::default() };
//! store_b2nd(&a, &path, &opts).unwrap();
//! let back = B2ndSource::open(&path).unwrap();
//! assert_eq!(vastarray::ChunkSource::chunk_shape(&back), &[16, 16]);
//! let v = DynArray::from_source(back).select_str("49, 39").unwrap().ndarray().unwrap();
//! assert_eq!(v.into_typed::<f32>().unwrap()[[]], 49.0 * 39.0);
//! ```

mod chunk;
mod chunk_header;
mod codec;
mod dtype;
mod ffi;
mod file;
mod frame;
mod journal;
mod layout;
mod meta;
mod sink;
mod source;
mod vlmeta;
mod writer;

pub use crate::data::{nd_filled, nd_from_bytes, nd_to_bytes};
pub use chunk::{chunk_sizes, decode_chunk, decode_chunk_region, encode_chunk};
pub use chunk_header::{ChunkHeader, Special};
pub use codec::{Codec, Compression};
pub use dtype::{numpy_dtype_str, parse_numpy_dtype};
pub use file::{B2ndFile, CommitReport, FrameUpdate};
pub use frame::{ChunkAt, MAX_CHUNKS};
pub use journal::{journal_path, FrameJournal};
pub use layout::ChunkLayout;
pub use meta::{B2ndMeta, MAX_DIM};
pub use sink::{store_b2nd, B2ndOptions, StoreReport, DEFAULT_BUFFER_BYTES, DEFAULT_CHUNK_BYTES};
pub use source::{file_identity, B2ndSource};
pub use vlmeta::VlValue;

/// A block shape for chunks of `chunks` with `itemsize`-byte items: the chunk split along its
/// leading axes until a block holds at most `target_bytes` (python-blosc2 aims at blocks that fit
/// a CPU cache; a few hundred KiB decompress fast and keep partial reads cheap).
pub fn default_blocks(chunks: &[usize], itemsize: usize, target_bytes: usize) -> Vec<usize> {
    let mut b: Vec<usize> = chunks.iter().map(|&c| c.max(1)).collect();
    let bytes = |b: &[usize]| b.iter().product::<usize>() * itemsize.max(1);
    for d in 0..b.len() {
        while bytes(&b) > target_bytes && b[d] > 1 {
            let need = bytes(&b).div_ceil(target_bytes.max(1));
            b[d] = b[d].div_ceil(need.min(b[d])).max(1);
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_blocks_fit_target() {
        let b = default_blocks(&[1, 1248, 2689], 2, 256 * 1024);
        assert_eq!(b[0], 1);
        assert!(b.iter().product::<usize>() * 2 <= 256 * 1024, "{b:?}");
        assert_eq!(b[2], 2689);
        assert_eq!(default_blocks(&[10, 10], 8, 1 << 20), vec![10, 10]);
    }
}
