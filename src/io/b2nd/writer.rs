//! Writing contiguous frames in Rust: a new frame's header (with the `b2nd` metalayer), the
//! chunk index and the trailer (with the variable-length metalayers), byte for byte as
//! C-Blosc2 lays them out, so python-blosc2 opens what vastarray writes.
//!
//! Updates never overwrite a byte a reader may use ([`super::B2ndFile::commit`]): new chunks,
//! a new index and a new trailer are appended after the current end of the frame, then one
//! small write of the fixed header (inside the first page) switches the frame's lengths to the
//! new ones. Until that write, the file holds the old frame followed by bytes nobody
//! references; after it, the new frame, whose data section contains the old index and trailer
//! as unreferenced bytes. A process killed at any instant leaves a valid frame, and
//! python-blosc2 opens the file at every instant.

use super::chunk::compress_raw;
use super::codec::{Codec, Compression};
use super::frame::{encode_offset, ChunkAt, FRAME_LEN_AT, HEADER_MINLEN, TRAILER_MINLEN};
use super::meta::B2ndMeta;
use crate::error::{Error, Result};
use blosc2_rs_sys as sys;

/// The fixed header and the `b2nd` metalayer of a new frame of `meta`'s geometry, with
/// `nchunks` chunks of `chunk_nbytes` each and empty data.
pub(crate) fn new_header(
    meta: &B2ndMeta,
    compression: Compression,
    nchunks: usize,
    chunk_nbytes: usize,
    block_nbytes: usize,
) -> Result<Vec<u8>> {
    let mut h = vec![0u8; HEADER_MINLEN];
    h[0] = 0x90 + 14;
    h[1] = 0xa0 + 8;
    h[2..10].copy_from_slice(b"b2frame\0");
    h[10] = 0xd2;
    h[15] = 0xcf;
    h[24] = 0xa4;
    h[25] = sys::BLOSC2_VERSION_FRAME_FORMAT as u8 + 0x10;
    h[26] = 0;
    compression.validate()?;
    let compcode = compression.codec.code();
    let clevel = if compression.codec == Codec::None {
        0
    } else {
        compression.level
    };
    h[27] = compcode | (clevel << 4);
    h[28] = (sys::BLOSC_AUTO_SPLIT - 1) as u8;
    let nbytes = nchunks
        .checked_mul(chunk_nbytes)
        .filter(|&n| n <= i64::MAX as usize)
        .ok_or_else(|| Error::Shape("the array is too large for one frame".into()))?;
    h[29] = 0xd3;
    h[30..38].copy_from_slice(&(nbytes as i64).to_be_bytes());
    h[38] = 0xd3;
    h[47] = 0xd2;
    h[48..52].copy_from_slice(&(meta.dtype.size() as i32).to_be_bytes());
    h[52] = 0xd2;
    h[53..57].copy_from_slice(&(block_nbytes as i32).to_be_bytes());
    h[57] = 0xd2;
    h[58..62].copy_from_slice(&(chunk_nbytes as i32).to_be_bytes());
    h[62] = 0xd1;
    h[63..65].copy_from_slice(&1i16.to_be_bytes());
    h[65] = 0xd1;
    h[66..68].copy_from_slice(&1i16.to_be_bytes());
    h[68] = 0xc2;
    h[69] = 0xd8;
    h[70] = 6;
    // Filters 71..77 (byte shuffle in the last slot, as `Compression::cparams`), user codec 77,
    // codec meta 78, filter meta 79..85.
    h[76] = sys::BLOSC_SHUFFLE as u8;
    h[77] = compcode;
    // Metalayers: [index size, {name: offset}, [contents]].
    let content = meta.to_metalayer();
    let name = b"b2nd";
    h.extend([0x93, 0xcd, 0, 0, 0xde, 0, 1]);
    h.push(0xa0 + name.len() as u8);
    h.extend_from_slice(name);
    h.push(0xd2);
    let offset_at = h.len();
    h.extend([0; 4]);
    let map_size = (h.len() - HEADER_MINLEN) as u16;
    h[HEADER_MINLEN + 2..HEADER_MINLEN + 4].copy_from_slice(&map_size.to_be_bytes());
    h.extend([0xdc, 0, 1]);
    let content_at = h.len() as i32;
    h[offset_at..offset_at + 4].copy_from_slice(&content_at.to_be_bytes());
    h.push(0xc6);
    h.extend((content.len() as u32).to_be_bytes());
    h.extend_from_slice(&content);
    let hlen = h.len() as i32;
    h[11..15].copy_from_slice(&hlen.to_be_bytes());
    Ok(h)
}

/// Sets the frame length, data length and "has variable-length metadata" fields of a header.
pub(crate) fn set_lengths(header: &mut [u8], frame_len: u64, cbytes: u64, has_vlmeta: bool) {
    header[FRAME_LEN_AT..FRAME_LEN_AT + 8].copy_from_slice(&frame_len.to_be_bytes());
    header[super::frame::CBYTES_AT..super::frame::CBYTES_AT + 8]
        .copy_from_slice(&cbytes.to_be_bytes());
    header[super::frame::HAS_VLMETA_AT] = if has_vlmeta { 0xc3 } else { 0xc2 };
}

/// The compressed chunk index: one little-endian `i64` per chunk, compressed as C-Blosc2
/// compresses it (BloscLZ, byte shuffle, 16 KiB blocks).
pub(crate) fn index_chunk(offsets: &[ChunkAt]) -> Result<Vec<u8>> {
    let mut raw = Vec::with_capacity(offsets.len() * 8);
    for &o in offsets {
        raw.extend(encode_offset(o).to_le_bytes());
    }
    let mut p = Compression::new(Codec::Blosclz, 5).cparams(8, 16 * 1024)?;
    p.splitmode = sys::BLOSC_NEVER_SPLIT as i32;
    compress_raw(&raw, p)
}

/// The trailer holding `vlmeta` (name and already compressed content), as C-Blosc2 writes it.
pub(crate) fn trailer(vlmeta: &[(String, Vec<u8>)]) -> Result<Vec<u8>> {
    if vlmeta.len() > 8 * 1024 {
        return Err(Error::Invalid("more than 8192 metadata entries".into()));
    }
    let n = vlmeta.len() as u16;
    let mut t = vec![0x94, 1, 0x93, 0xcd, 0, 0, 0xde];
    t.extend(n.to_be_bytes());
    let mut offset_at = Vec::with_capacity(vlmeta.len());
    for (name, _) in vlmeta {
        let b = name.as_bytes();
        if b.len() > 31 {
            return Err(Error::Invalid(format!(
                "metadata name {name:?} is longer than 31 bytes"
            )));
        }
        t.push(0xa0 + b.len() as u8);
        t.extend_from_slice(b);
        t.push(0xd2);
        offset_at.push(t.len());
        t.extend([0; 4]);
    }
    let map_size = (t.len() - 3) as u16;
    t[4..6].copy_from_slice(&map_size.to_be_bytes());
    t.push(0xdc);
    t.extend(n.to_be_bytes());
    for ((_, content), at) in vlmeta.iter().zip(offset_at) {
        let here = i32::try_from(t.len())
            .map_err(|_| Error::Invalid("metadata larger than 2 GiB".into()))?;
        t[at..at + 4].copy_from_slice(&here.to_be_bytes());
        t.push(0xc6);
        t.extend((content.len() as u32).to_be_bytes());
        t.extend_from_slice(content);
    }
    let total = (t.len() + 23) as u32;
    t.push(0xce);
    t.extend(total.to_be_bytes());
    t.push(0xd8);
    t.push(0);
    t.extend([0u8; 16]);
    debug_assert!(t.len() >= TRAILER_MINLEN);
    Ok(t)
}
