//! The contiguous Blosc2 frame (README_CFRAME_FORMAT) read in Rust, every field checked before
//! it is used: the fixed header, the metalayers, the trailer with its variable-length
//! metalayers, and the chunk index (offsets chunk).
//!
//! A frame is `header | chunk data | chunk index | trailer`. The header says how long the
//! header (`header_len`), the data (`cbytes`) and the whole frame (`frame_len`) are; the index
//! starts right after the data; the trailer ends the frame and records its own length in its
//! last 22 bytes. A file may be longer than its frame: bytes after `frame_len` belong to an
//! update a killed writer never committed ([`super::writer`]), and are ignored.

use super::chunk_header::{ChunkHeader, Special, HEADER_LEN as CHUNK_HEADER_LEN};
use crate::error::{Error, Result};
use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Bytes of the fixed frame header (`FRAME_HEADER_MINLEN`).
pub(crate) const HEADER_MINLEN: usize = 87;
/// Bytes of the smallest trailer (`FRAME_TRAILER_MINLEN`).
pub(crate) const TRAILER_MINLEN: usize = 25;
/// Where the frame length is in the header.
pub(crate) const FRAME_LEN_AT: usize = 16;
/// Where the data length (`cbytes`) is in the header.
pub(crate) const CBYTES_AT: usize = 39;
/// Where the "has variable-length metalayers" flag is in the header.
pub(crate) const HAS_VLMETA_AT: usize = 68;
/// Most metalayers (`BLOSC2_MAX_METALAYERS`) and variable-length ones.
const MAX_METALAYERS: usize = 16;
const MAX_VLMETALAYERS: usize = 8 * 1024;
/// Most chunks vastarray accepts in one frame: the chunk index of 2^26 chunks is 512 MiB.
pub const MAX_CHUNKS: usize = 1 << 26;
/// Largest header or trailer vastarray reads (metadata, never data).
const MAX_META_BYTES: u64 = 64 << 20;
const MAGIC: &[u8; 8] = b"b2frame\0";

/// The fixed fields of a contiguous frame header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    /// Bytes of the header (fixed part and metalayers).
    pub header_len: u64,
    /// Bytes of the whole frame.
    pub frame_len: u64,
    /// Uncompressed bytes of all chunks.
    pub nbytes: u64,
    /// Bytes of the chunk data section.
    pub cbytes: u64,
    /// Item size.
    pub typesize: usize,
    /// Uncompressed bytes of one chunk (0 when the frame has no chunks).
    pub chunksize: usize,
    /// Number of chunks.
    pub nchunks: usize,
}

fn be(h: &[u8], at: usize, n: usize) -> u64 {
    h[at..at + n].iter().fold(0u64, |a, &b| a << 8 | b as u64)
}

impl FrameHeader {
    /// Parses and checks the first [`HEADER_MINLEN`] bytes of a frame.
    pub(crate) fn parse(h: &[u8]) -> std::result::Result<FrameHeader, String> {
        if h.len() < HEADER_MINLEN {
            return Err(format!(
                "{} bytes, shorter than a Blosc2 frame header ({HEADER_MINLEN})",
                h.len()
            ));
        }
        if h[0] & 0xf0 != 0x90 || h[1] != 0xa8 || &h[2..10] != MAGIC {
            return Err("not a Blosc2 frame (no b2frame magic)".into());
        }
        let markers = [
            (10, 0xd2),
            (15, 0xcf),
            (24, 0xa4),
            (29, 0xd3),
            (38, 0xd3),
            (47, 0xd2),
            (52, 0xd2),
            (57, 0xd2),
            (62, 0xd1),
            (65, 0xd1),
            (69, 0xd8),
        ];
        if let Some((at, _)) = markers.iter().find(|(at, m)| h[*at] != *m) {
            return Err(format!("damaged frame header (byte {at})"));
        }
        if h[26] & 0x0f != 0 {
            return Err("a directory (sparse) frame, not a contiguous file".into());
        }
        if (h[25] >> 4) & 0x03 != 1 {
            return Err("chunk offsets are not 64-bit (unsupported frame)".into());
        }
        if ![0xc2, 0xc3].contains(&h[HAS_VLMETA_AT]) || h[70] > 6 {
            return Err("damaged frame header (flags)".into());
        }
        let header_len = be(h, 11, 4);
        let frame_len = be(h, FRAME_LEN_AT, 8);
        let (nbytes, cbytes) = (be(h, 30, 8), be(h, CBYTES_AT, 8));
        let (typesize, chunksize) = (be(h, 48, 4), be(h, 58, 4));
        if header_len < HEADER_MINLEN as u64 || header_len > MAX_META_BYTES {
            return Err(format!("impossible header length {header_len}"));
        }
        // Signed in the format: a set top bit is a negative size.
        if nbytes > i64::MAX as u64 || cbytes > i64::MAX as u64 || frame_len > i64::MAX as u64 {
            return Err("negative sizes in the frame header".into());
        }
        let min_len = header_len
            .checked_add(cbytes)
            .and_then(|n| n.checked_add(TRAILER_MINLEN as u64))
            .ok_or("frame sizes overflow")?;
        if frame_len < min_len {
            return Err(format!(
                "inconsistent header (header {header_len}, data {cbytes}, frame {frame_len} bytes)"
            ));
        }
        if typesize == 0 || typesize > i32::MAX as u64 || chunksize > i32::MAX as u64 {
            return Err(format!(
                "impossible item size {typesize} or chunk size {chunksize}"
            ));
        }
        let nchunks = if nbytes == 0 {
            0
        } else {
            if chunksize == 0 {
                return Err("data without a chunk size".into());
            }
            nbytes.div_ceil(chunksize)
        };
        if nchunks > MAX_CHUNKS as u64 {
            return Err(format!(
                "{nchunks} chunks: more than vastarray reads in one frame ({MAX_CHUNKS})"
            ));
        }
        Ok(FrameHeader {
            header_len,
            frame_len,
            nbytes,
            cbytes,
            typesize: typesize as usize,
            chunksize: chunksize as usize,
            nchunks: nchunks as usize,
        })
    }

    /// Where the chunk index starts: the end of the chunk data.
    pub(crate) fn data_end(&self) -> u64 {
        self.header_len + self.cbytes
    }
}

/// Reads `len` bytes at `at`, or says what is missing.
pub(crate) fn read_exact_at(f: &File, at: u64, len: usize, what: &str) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    f.read_exact_at(&mut buf, at).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Error::Invalid(format!(
                "{what}: the file ends before byte {}",
                at + len as u64
            ))
        } else {
            Error::Invalid(format!("{what}: cannot read: {e}"))
        }
    })?;
    Ok(buf)
}

/// A msgpack map of metalayer names to `bin32` contents, as the header and the trailer store
/// them: `0xcd` size, `0xde` count, names (`fixstr`) with `int32` offsets (from `base`), then
/// the contents. `at` is where the `0xcd` marker is. Returns each name and its content's range
/// in `buf`.
fn parse_layer_map(
    buf: &[u8],
    at: usize,
    max: usize,
) -> std::result::Result<Vec<(String, Range<usize>)>, String> {
    let get = |i: usize| {
        buf.get(i)
            .copied()
            .ok_or("metalayers run past their section")
    };
    if get(at)? != 0xcd || get(at + 3)? != 0xde {
        return Err("damaged metalayer index".into());
    }
    let n = (get(at + 4)? as usize) << 8 | get(at + 5)? as usize;
    if n > max {
        return Err(format!("{n} metalayers (at most {max})"));
    }
    let mut out = Vec::with_capacity(n);
    let mut p = at + 6;
    for _ in 0..n {
        let tag = get(p)?;
        if tag & 0xe0 != 0xa0 {
            return Err("damaged metalayer name".into());
        }
        let len = (tag & 0x1f) as usize;
        let name = buf
            .get(p + 1..p + 1 + len)
            .ok_or("metalayer name runs past its section")?;
        let name = String::from_utf8(name.to_vec()).map_err(|_| "metalayer name is not UTF-8")?;
        p += 1 + len;
        if get(p)? != 0xd2 {
            return Err("damaged metalayer offset".into());
        }
        let off = buf.get(p + 1..p + 5).ok_or("metalayer offset cut short")?;
        let off = i32::from_be_bytes([off[0], off[1], off[2], off[3]]);
        p += 5;
        if off < 0 {
            return Err(format!("metalayer {name:?} at a negative offset"));
        }
        let off = off as usize;
        if buf.get(off) != Some(&0xc6) {
            return Err(format!("metalayer {name:?}: no content at byte {off}"));
        }
        let l = buf
            .get(off + 1..off + 5)
            .ok_or_else(|| format!("metalayer {name:?} is cut short"))?;
        let clen = u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize;
        let start = off + 5;
        let end = start
            .checked_add(clen)
            .filter(|&e| e <= buf.len())
            .ok_or_else(|| format!("metalayer {name:?} runs past its section"))?;
        out.push((name, start..end));
    }
    Ok(out)
}

/// Everything of a frame but its chunk data, read and checked.
#[derive(Clone, Debug)]
pub(crate) struct FrameParts {
    /// The fixed header fields.
    pub header: FrameHeader,
    /// The header bytes (fixed part and metalayers), kept to rewrite the fixed part.
    pub header_bytes: Vec<u8>,
    /// Metalayers (fixed-size metadata in the header): name and content.
    pub metalayers: Vec<(String, Vec<u8>)>,
    /// Variable-length metalayers from the trailer: name and content (a compressed chunk).
    pub vlmeta: Vec<(String, Vec<u8>)>,
    /// One entry per chunk: where its bytes start in the data section, or what it holds
    /// (empty until [`FrameParts::read_offsets`]).
    pub offsets: Vec<ChunkAt>,
    /// Where the trailer starts.
    pub trailer_start: u64,
}

/// Where a chunk's bytes are, or the special value it holds without bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkAt {
    /// At this offset from the start of the data section.
    Data(u64),
    /// No bytes: zeros, NaNs or uninitialised.
    Special(Special),
}

/// The top byte of an offset that marks a special chunk (C-Blosc2 sets bit 63 and the kind).
fn special_of(raw: i64) -> Option<Special> {
    if raw & 0x00ff_ffff_ffff_ffff != 0 {
        return None;
    }
    match (raw as u64 >> 56) as u8 {
        0x81 => Some(Special::Zero),
        0x82 => Some(Special::Nan),
        0x84 => Some(Special::Uninit),
        _ => None,
    }
}

/// The index entry of a chunk, as C-Blosc2 writes it.
pub(crate) fn encode_offset(at: ChunkAt) -> i64 {
    let kind: u64 = match at {
        ChunkAt::Data(o) => return o as i64,
        ChunkAt::Special(Special::Nan) => 0x82,
        ChunkAt::Special(Special::Uninit) => 0x84,
        ChunkAt::Special(_) => 0x81,
    };
    (kind << 56) as i64
}

impl FrameParts {
    /// Reads the frame at the start of `file` (`file_len` bytes long) but its chunk index,
    /// checking every offset and size against the file and each other.
    pub(crate) fn read(file: &File, file_len: u64) -> std::result::Result<FrameParts, String> {
        let fixed = read_exact_at(file, 0, HEADER_MINLEN.min(file_len as usize), "header")
            .map_err(|e| e.to_string())?;
        let header = FrameHeader::parse(&fixed)?;
        if header.frame_len > file_len {
            return Err(format!(
                "truncated: {file_len} bytes, the frame header says {}",
                header.frame_len
            ));
        }
        let header_bytes = read_exact_at(file, 0, header.header_len as usize, "header")
            .map_err(|e| e.to_string())?;
        let metalayers = if header_bytes.len() > HEADER_MINLEN {
            if header_bytes[HEADER_MINLEN] != 0x93 {
                return Err("damaged metalayer section".into());
            }
            parse_layer_map(&header_bytes, HEADER_MINLEN + 1, MAX_METALAYERS)?
                .into_iter()
                .map(|(n, r)| (n, header_bytes[r].to_vec()))
                .collect()
        } else {
            Vec::new()
        };
        // The trailer records its length 22 bytes before the end of the frame.
        let tail = read_exact_at(
            file,
            header.frame_len - TRAILER_MINLEN as u64,
            TRAILER_MINLEN,
            "trailer",
        )
        .map_err(|e| e.to_string())?;
        if tail[2] != 0xce || tail[7] != 0xd8 {
            return Err("damaged trailer".into());
        }
        let trailer_len = be(&tail, 3, 4);
        let trailer_start = header.frame_len.checked_sub(trailer_len);
        let index_start = header.data_end();
        let trailer_start = match trailer_start {
            Some(s) if trailer_len >= TRAILER_MINLEN as u64 && s >= index_start => s,
            _ => {
                return Err(format!(
                    "trailer of {trailer_len} bytes does not fit a {}-byte frame",
                    header.frame_len
                ))
            }
        };
        if trailer_len > MAX_META_BYTES {
            return Err(format!("trailer of {trailer_len} bytes"));
        }
        let trailer = read_exact_at(file, trailer_start, trailer_len as usize, "trailer")
            .map_err(|e| e.to_string())?;
        if trailer[0] != 0x94 || trailer[2] != 0x93 {
            return Err("damaged trailer".into());
        }
        let vlmeta = parse_layer_map(&trailer, 3, MAX_VLMETALAYERS)?
            .into_iter()
            .map(|(n, r)| (n, trailer[r].to_vec()))
            .collect();
        Ok(FrameParts {
            header,
            header_bytes,
            metalayers,
            vlmeta,
            offsets: Vec::new(),
            trailer_start,
        })
    }

    /// Reads and checks the chunk index (call once the caller has checked that the number of
    /// chunks the header announces is the one its geometry needs: the index takes 8 bytes a
    /// chunk).
    pub(crate) fn read_offsets(&mut self, file: &File) -> std::result::Result<(), String> {
        if self.header.nchunks == 0 {
            return Ok(());
        }
        let index_start = self.header.data_end();
        let len = self.trailer_start - index_start;
        if len < CHUNK_HEADER_LEN as u64 || len > i32::MAX as u64 {
            return Err(format!("chunk index of {len} bytes"));
        }
        let raw = read_exact_at(file, index_start, len as usize, "chunk index")
            .map_err(|e| e.to_string())?;
        self.offsets = decode_offsets(&raw, &self.header)?;
        Ok(())
    }

    /// The content of metalayer `name`.
    pub(crate) fn metalayer(&self, name: &str) -> Option<&[u8]> {
        self.metalayers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.as_slice())
    }
}

/// Decodes and checks the chunk index: one `i64` per chunk, each a data offset leaving room for
/// a chunk header inside the data section, or a special value.
fn decode_offsets(raw: &[u8], h: &FrameHeader) -> std::result::Result<Vec<ChunkAt>, String> {
    let ch = ChunkHeader::parse(raw).map_err(|e| format!("chunk index: {e}"))?;
    let want = h.nchunks * 8;
    if ch.nbytes != want {
        return Err(format!(
            "chunk index holds {} offsets, the header announces {} chunks",
            ch.nbytes / 8,
            h.nchunks
        ));
    }
    // C-Blosc2 reads the index as the whole region up to the trailer; the chunk may be shorter.
    if ch.cbytes > raw.len() {
        return Err(format!(
            "chunk index is cut short ({} of {} bytes)",
            raw.len(),
            ch.cbytes
        ));
    }
    let mut bytes = vec![0u8; want];
    super::chunk::decompress_into(&raw[..ch.cbytes], &mut bytes, None)
        .map_err(|e| format!("chunk index: {e}"))?;
    bytes
        .chunks_exact(8)
        .enumerate()
        .map(|(n, b)| {
            let v = i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
            if v < 0 {
                return special_of(v)
                    .map(ChunkAt::Special)
                    .ok_or_else(|| format!("chunk {n}: unknown index entry {v:#x}"));
            }
            let end = (v as u64).checked_add(CHUNK_HEADER_LEN as u64);
            if end.is_none_or(|e| e > h.cbytes) {
                return Err(format!(
                    "chunk {n} starts at byte {v} of a {}-byte data section",
                    h.cbytes
                ));
            }
            Ok(ChunkAt::Data(v as u64))
        })
        .collect()
}

/// Opens `path` for reading, refusing what is not a regular file (a named pipe would block).
pub(crate) fn open_regular(path: &Path, write: bool) -> Result<(File, u64)> {
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::file(path, "no such file")
        } else {
            Error::file(path, "cannot open").caused_by(e)
        }
    })?;
    if !meta.is_file() {
        return Err(Error::file(
            path,
            "not a regular file (a .b2nd array is one file)",
        ));
    }
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(write)
        .open(path)
        .map_err(|e| Error::file(path, "cannot open").caused_by(e))?;
    let len = f
        .metadata()
        .map_err(|e| Error::file(path, "cannot stat").caused_by(e))?
        .len();
    Ok((f, len))
}
