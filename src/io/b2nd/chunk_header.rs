//! [`ChunkHeader`]: the 32-byte header of a Blosc2 chunk (README_CHUNK_FORMAT), parsed and
//! checked in Rust before any C code sees the chunk.
//!
//! C-Blosc2 trusts a chunk's sizes when it reads chunks through a super-chunk (a wrong `cbytes`
//! there corrupts the heap), so every chunk, from a file, a Caterva2 server or a cache, goes
//! through [`ChunkHeader::parse`] and [`ChunkHeader::check_body`] and is then decompressed by
//! `blosc2_decompress_ctx` from a buffer of exactly `cbytes` bytes into one of exactly `nbytes`.
//! What vastarray never writes and python-blosc2 does not write by default is refused: lazy
//! chunks, instrumented codecs, user-defined codecs and filters.

/// Bytes of the (extended) Blosc2 chunk header.
pub(super) const HEADER_LEN: usize = 32;

/// Largest block C-Blosc2 accepts (`BLOSC2_MAXBLOCKSIZE`).
const MAX_BLOCKSIZE: usize = 536_866_816;
/// Largest dictionary C-Blosc2 accepts (`BLOSC2_MAXDICTSIZE`).
const MAX_DICTSIZE: usize = 128 * 1024;
/// Newest chunk format version (`BLOSC2_VERSION_FORMAT`).
const MAX_VERSION: u8 = 5;

/// Flags byte (offset 2): both shuffle bits set mark the extended (Blosc2) header.
const EXTENDED: u8 = 0x05;
const MEMCPYED: u8 = 0x02;
/// Blosc2 flags byte (offset 31).
const USEDICT: u8 = 0x01;
const LAZY: u8 = 0x08;
const INSTRUMENTED: u8 = 0x80;

/// What a chunk holds when it stores no blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    /// Blocks follow the header.
    No,
    /// All zeros.
    Zero,
    /// All NaN (4- or 8-byte floats).
    Nan,
    /// One value, stored after the header, repeated.
    Value,
    /// Uninitialised (reads as whatever the destination held; vastarray treats it as zeros).
    Uninit,
}

/// A parsed and self-consistent Blosc2 chunk header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkHeader {
    /// Format version.
    pub version: u8,
    /// Flags byte (shuffle bits, memcpy, split, codec).
    pub flags: u8,
    /// Item size the chunk was compressed with.
    pub typesize: usize,
    /// Uncompressed bytes.
    pub nbytes: usize,
    /// Bytes of one block.
    pub blocksize: usize,
    /// Compressed bytes, header included.
    pub cbytes: usize,
    /// The filter pipeline.
    pub filters: [u8; 6],
    /// Blosc2 flags byte (dictionary, lazy, special values).
    pub blosc2_flags: u8,
    /// Special content, if any.
    pub special: Special,
}

fn le32(raw: &[u8], at: usize) -> i32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&raw[at..at + 4]);
    i32::from_le_bytes(b)
}

impl ChunkHeader {
    /// Parses the header at the start of `raw` and checks it for consistency (sizes, flags,
    /// codec, filters, special values). Only the first 32 bytes are read.
    pub fn parse(raw: &[u8]) -> Result<ChunkHeader, String> {
        if raw.len() < HEADER_LEN {
            return Err(format!(
                "{} bytes are too short for a Blosc2 chunk (a header alone is {HEADER_LEN})",
                raw.len()
            ));
        }
        let version = raw[0];
        let flags = raw[2];
        if version == 0 || version > MAX_VERSION {
            return Err(format!("unknown chunk format version {version}"));
        }
        if flags & EXTENDED != EXTENDED {
            return Err("not a Blosc2 chunk (no extended header)".into());
        }
        let (nbytes, blocksize, cbytes) = (le32(raw, 4), le32(raw, 8), le32(raw, 12));
        if nbytes < 0 || blocksize <= 0 || cbytes < HEADER_LEN as i32 {
            return Err(format!(
                "impossible sizes in the chunk header (nbytes {nbytes}, blocksize {blocksize}, cbytes {cbytes})"
            ));
        }
        let (nbytes, blocksize, cbytes) = (nbytes as usize, blocksize as usize, cbytes as usize);
        if blocksize > MAX_BLOCKSIZE || (nbytes > 0 && blocksize > nbytes) {
            return Err(format!(
                "block size {blocksize} is larger than the chunk ({nbytes} bytes) or than Blosc2 allows"
            ));
        }
        let typesize = raw[3] as usize;
        if typesize == 0 {
            return Err("item size 0 in the chunk header".into());
        }
        let mut filters = [0u8; 6];
        filters.copy_from_slice(&raw[16..22]);
        let blosc2_flags = raw[31];
        if blosc2_flags & LAZY != 0 {
            return Err("a lazy chunk (only meta-information, no data)".into());
        }
        if blosc2_flags & INSTRUMENTED != 0 {
            return Err("an instrumented chunk (not data)".into());
        }
        let special = match (blosc2_flags >> 4) & 0x07 {
            0 => Special::No,
            1 => Special::Zero,
            2 => Special::Nan,
            3 => Special::Value,
            4 => Special::Uninit,
            s => return Err(format!("unknown special value kind {s}")),
        };
        let h = ChunkHeader {
            version,
            flags,
            typesize,
            nbytes,
            blocksize,
            cbytes,
            filters,
            blosc2_flags,
            special,
        };
        h.check_kind()?;
        Ok(h)
    }

    fn check_kind(&self) -> Result<(), String> {
        match self.special {
            Special::Zero | Special::Uninit | Special::Nan => {
                if self.cbytes != HEADER_LEN {
                    return Err(format!(
                        "a special chunk takes {HEADER_LEN} bytes, its header says {}",
                        self.cbytes
                    ));
                }
                if self.special == Special::Nan && ![4, 8].contains(&self.typesize) {
                    return Err(format!(
                        "a NaN chunk of {}-byte items (NaN needs 4 or 8)",
                        self.typesize
                    ));
                }
                if !self.nbytes.is_multiple_of(self.typesize) {
                    return Err("chunk size is not a multiple of its item size".into());
                }
            }
            Special::Value => {
                let vsize = self.cbytes - HEADER_LEN;
                if vsize == 0 || vsize > self.nbytes.max(1) || !self.nbytes.is_multiple_of(vsize) {
                    return Err(format!(
                        "a repeated-value chunk with a {vsize}-byte value for {} bytes",
                        self.nbytes
                    ));
                }
            }
            Special::No if self.memcpyed() => {
                if Some(self.cbytes) != self.nbytes.checked_add(HEADER_LEN) {
                    return Err(format!(
                        "an uncompressed chunk of {} bytes cannot take {} bytes",
                        self.nbytes, self.cbytes
                    ));
                }
            }
            Special::No => {
                if self.nbytes == 0 {
                    if self.cbytes != HEADER_LEN {
                        return Err("an empty chunk with data after its header".into());
                    }
                    return Ok(());
                }
                let codec = self.flags >> 5;
                if ![0, 1, 3, 4].contains(&codec) {
                    return Err(format!(
                        "codec {codec} is not supported (blosclz, lz4, zlib and zstd are)"
                    ));
                }
                if let Some(f) = self.filters.iter().find(|&&f| f > 4) {
                    return Err(format!(
                        "filter {f} is not supported (shuffle, bitshuffle, delta and truncation are)"
                    ));
                }
                if self.blosc2_flags & USEDICT != 0 && codec != 4 {
                    return Err("a dictionary with a codec other than zstd".into());
                }
                if self.cbytes < self.data_start() {
                    return Err(format!(
                        "{} bytes cannot hold the block index of {} blocks",
                        self.cbytes,
                        self.nblocks()
                    ));
                }
            }
        }
        Ok(())
    }

    /// True when the blocks are stored uncompressed.
    pub fn memcpyed(&self) -> bool {
        self.flags & MEMCPYED != 0
    }

    /// Number of blocks.
    pub fn nblocks(&self) -> usize {
        self.nbytes.div_ceil(self.blocksize)
    }

    /// Where the block index ends: header plus one `i32` start per block.
    fn data_start(&self) -> usize {
        HEADER_LEN + 4 * self.nblocks()
    }

    /// Checks the whole chunk: `raw` must be exactly `cbytes` long, and every block start (and
    /// the dictionary, if any) must lie inside it.
    pub fn check_body(&self, raw: &[u8]) -> Result<(), String> {
        if raw.len() != self.cbytes {
            return Err(if raw.len() < self.cbytes {
                format!(
                    "chunk is truncated: its header says {} bytes, {} present",
                    self.cbytes,
                    raw.len()
                )
            } else {
                format!(
                    "chunk header says {} bytes, {} were given",
                    self.cbytes,
                    raw.len()
                )
            });
        }
        if self.special != Special::No || self.memcpyed() || self.nbytes == 0 {
            return Ok(());
        }
        let mut first = self.data_start();
        if self.blosc2_flags & USEDICT != 0 {
            if raw.len() < first + 4 {
                return Err("chunk ends inside its dictionary size".into());
            }
            let dsize = le32(raw, first);
            if dsize <= 0 || dsize as usize > MAX_DICTSIZE {
                return Err(format!("dictionary of {dsize} bytes"));
            }
            first += 4 + dsize as usize;
            if first > raw.len() {
                return Err("chunk ends inside its dictionary".into());
            }
        }
        for b in 0..self.nblocks() {
            let start = le32(raw, HEADER_LEN + 4 * b);
            if start < 0 || (start as usize) < first || start as usize >= raw.len() {
                return Err(format!(
                    "block {b} starts at byte {start}, outside the chunk's data ({first}..{})",
                    raw.len()
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(nbytes: i32, blocksize: i32, cbytes: i32) -> Vec<u8> {
        let mut h = vec![0u8; HEADER_LEN];
        h[0] = 5;
        h[1] = 1;
        h[2] = EXTENDED | (1 << 5);
        h[3] = 4;
        h[4..8].copy_from_slice(&nbytes.to_le_bytes());
        h[8..12].copy_from_slice(&blocksize.to_le_bytes());
        h[12..16].copy_from_slice(&cbytes.to_le_bytes());
        h[21] = 1;
        h
    }

    #[test]
    fn accepts_consistent_and_refuses_the_rest() {
        let mut raw = header(400, 200, 48);
        raw.extend(40i32.to_le_bytes());
        raw.extend(44i32.to_le_bytes());
        raw.extend([0u8; 8]);
        let h = ChunkHeader::parse(&raw).unwrap();
        assert_eq!(
            (h.nbytes, h.blocksize, h.cbytes, h.nblocks()),
            (400, 200, 48, 2)
        );
        h.check_body(&raw).unwrap();
        assert!(h.check_body(&raw[..47]).unwrap_err().contains("truncated"));
        let mut bad = raw.clone();
        bad[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&4000i32.to_le_bytes());
        assert!(h.check_body(&bad).unwrap_err().contains("block 0"));
        for (n, b, c, why) in [
            (400, 0, 48, "impossible"),
            (400, 800, 48, "larger"),
            (-1, 200, 48, "impossible"),
            (400, 200, 20, "impossible"),
            (400, 200, 34, "block index"),
        ] {
            let e = ChunkHeader::parse(&header(n, b, c)).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
        let mut lazy = header(400, 200, 48);
        lazy[31] = LAZY;
        assert!(ChunkHeader::parse(&lazy).unwrap_err().contains("lazy"));
        let mut zero = header(400, 200, 32);
        zero[31] = 1 << 4;
        assert_eq!(ChunkHeader::parse(&zero).unwrap().special, Special::Zero);
        zero[12..16].copy_from_slice(&40i32.to_le_bytes());
        assert!(ChunkHeader::parse(&zero).is_err());
        assert!(ChunkHeader::parse(&raw[..10]).is_err());
    }
}
