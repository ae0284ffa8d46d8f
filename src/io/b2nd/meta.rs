//! [`B2ndMeta`]: the geometry of a `.b2nd` array (shape, chunk and block shapes, element type),
//! checked with checked arithmetic, and the `b2nd` metalayer that stores it
//! (README_B2ND_METALAYER: a msgpack array `[version, ndim, shape, chunks, blocks, dtype_format,
//! dtype]`).
//!
//! C-Blosc2 deserializes this metalayer without bounds checks, so a damaged one must never
//! reach it; vastarray parses it here and hands C only single chunks.

use super::dtype::{numpy_dtype_str, parse_numpy_dtype};
use super::frame::MAX_CHUNKS;
use super::layout::ChunkLayout;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::source::ChunkGrid;

/// Most dimensions of a `.b2nd` array (`B2ND_MAX_DIM`).
pub const MAX_DIM: usize = 16;
/// Largest uncompressed chunk C-Blosc2 handles (`BLOSC2_MAX_BUFFERSIZE`).
const MAX_CHUNK_BYTES: usize = i32::MAX as usize - 32;
/// Largest block C-Blosc2 handles (`BLOSC2_MAXBLOCKSIZE`).
const MAX_BLOCK_BYTES: usize = 536_866_816;

/// The geometry of a `.b2nd` array: shape, chunk and block shapes and element type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct B2ndMeta {
    /// The array's shape.
    pub shape: Vec<usize>,
    /// The chunk shape.
    pub chunks: Vec<usize>,
    /// The block shape (blocks split chunks; the unit Blosc2 decompresses).
    pub blocks: Vec<usize>,
    /// The element type.
    pub dtype: DType,
}

impl B2ndMeta {
    /// The chunk grid.
    pub fn grid(&self) -> ChunkGrid {
        ChunkGrid::new(self.shape.clone(), self.chunks.clone())
    }

    /// The layout of one chunk.
    pub fn layout(&self) -> Result<ChunkLayout> {
        ChunkLayout::new(&self.chunks, &self.blocks, self.dtype)
    }

    /// Checks that the geometry is one Blosc2 can store and vastarray can index without
    /// overflow: 1 to 16 axes, chunk and block extents non-zero, blocks no larger than chunks,
    /// a chunk under 2 GiB and a block under Blosc2's limit, the whole (chunk-padded) array
    /// under 2^63 bytes, and at most [`MAX_CHUNKS`] chunks. Returns the number of chunks.
    pub fn validate(&self) -> Result<usize> {
        let nd = self.shape.len();
        let bad = |m: String| Err(Error::Shape(m));
        if nd == 0 || nd > MAX_DIM {
            return bad(format!("{nd} dimensions: .b2nd arrays have 1 to {MAX_DIM}"));
        }
        if self.chunks.len() != nd || self.blocks.len() != nd {
            return bad(format!(
                "chunks {:?} and blocks {:?} must have one entry per axis of shape {:?}",
                self.chunks, self.blocks, self.shape
            ));
        }
        if self.chunks.contains(&0) || self.blocks.contains(&0) {
            return bad(format!(
                "chunk shape {:?} or block shape {:?} has a zero extent",
                self.chunks, self.blocks
            ));
        }
        if self.blocks.iter().zip(&self.chunks).any(|(b, c)| b > c) {
            return bad(format!(
                "block shape {:?} is larger than chunk shape {:?}",
                self.blocks, self.chunks
            ));
        }
        let isz = self.dtype.size();
        fn product(isz: usize, mut v: impl Iterator<Item = usize>) -> Option<usize> {
            v.try_fold(isz, |a, n| a.checked_mul(n))
        }
        let ext_chunk = product(
            isz,
            self.chunks
                .iter()
                .zip(&self.blocks)
                .map(|(c, b)| c.div_ceil(*b).saturating_mul(*b)),
        );
        if ext_chunk.is_none_or(|n| n > MAX_CHUNK_BYTES) {
            return bad(format!(
                "chunks {:?} of {} are over Blosc2's 2 GiB chunk limit",
                self.chunks, self.dtype
            ));
        }
        if product(isz, self.blocks.iter().copied()).is_none_or(|n| n > MAX_BLOCK_BYTES) {
            return bad(format!(
                "blocks {:?} of {} are over Blosc2's block limit",
                self.blocks, self.dtype
            ));
        }
        let grid: Vec<usize> = self
            .shape
            .iter()
            .zip(&self.chunks)
            .map(|(s, c)| s.div_ceil(*c))
            .collect();
        let nchunks = grid.iter().try_fold(1usize, |a, &n| a.checked_mul(n));
        let padded = grid
            .iter()
            .zip(&self.chunks)
            .try_fold(isz, |a, (g, c)| a.checked_mul(g.checked_mul(*c)?));
        match (nchunks, padded) {
            (Some(n), Some(b)) if b <= i64::MAX as usize && n <= MAX_CHUNKS => Ok(n),
            (Some(n), Some(b)) if b <= i64::MAX as usize => bad(format!(
                "shape {:?} in chunks {:?} makes {n} chunks, more than vastarray indexes ({MAX_CHUNKS}); use larger chunks",
                self.shape, self.chunks
            )),
            _ => bad(format!(
                "shape {:?} of {} is too large to address (over 2^63 bytes)",
                self.shape, self.dtype
            )),
        }
    }

    /// Parses the content of a `b2nd` metalayer.
    pub fn from_metalayer(raw: &[u8]) -> Result<B2ndMeta> {
        let mut r = Reader { raw, at: 0 };
        let bad = |m: &str| Error::Invalid(format!("damaged b2nd metalayer: {m}"));
        if r.byte()? != 0x97 {
            return Err(bad("not an array of 7 entries"));
        }
        let version = r.byte()?;
        if version > 0x7f {
            return Err(bad("version is not a small integer"));
        }
        let nd = r.byte()? as usize;
        if nd == 0 || nd > MAX_DIM {
            return Err(Error::Shape(format!(
                "{nd} dimensions: .b2nd arrays have 1 to {MAX_DIM}"
            )));
        }
        let mut shape = Vec::with_capacity(nd);
        let mut chunks = Vec::with_capacity(nd);
        let mut blocks = Vec::with_capacity(nd);
        for (v, marker, width) in [
            (&mut shape, 0xd3, 8),
            (&mut chunks, 0xd2, 4),
            (&mut blocks, 0xd2, 4),
        ] {
            if r.byte()? != 0x90 + nd as u8 {
                return Err(bad("an axis list does not have ndim entries"));
            }
            for _ in 0..nd {
                if r.byte()? != marker {
                    return Err(bad("an extent is not an integer of the expected width"));
                }
                let x = r.be_signed(width)?;
                let x = usize::try_from(x).map_err(|_| {
                    Error::Shape(format!("negative extent {x} in the b2nd metalayer"))
                })?;
                v.push(x);
            }
        }
        let dtype_format = r.byte()?;
        if dtype_format != 0 {
            return Err(Error::DType(format!(
                "dtype format {dtype_format} is not supported (numpy strings are)"
            )));
        }
        if r.byte()? != 0xdb {
            return Err(bad("the dtype is not a string"));
        }
        let len = r.be_signed(4)?;
        let len = usize::try_from(len).map_err(|_| bad("negative dtype length"))?;
        let text = r.take(len)?.to_vec();
        let text = String::from_utf8(text).map_err(|_| bad("the dtype is not UTF-8"))?;
        if r.at != raw.len() {
            return Err(bad("bytes after the dtype"));
        }
        let meta = B2ndMeta {
            shape,
            chunks,
            blocks,
            dtype: parse_numpy_dtype(&text)?,
        };
        meta.validate()?;
        Ok(meta)
    }

    /// The content of the `b2nd` metalayer for this geometry, as C-Blosc2 writes it.
    pub fn to_metalayer(&self) -> Vec<u8> {
        let nd = self.shape.len() as u8;
        let dtype = numpy_dtype_str(self.dtype).as_bytes();
        let mut out = vec![0x97, 0, nd, 0x90 + nd];
        for &s in &self.shape {
            out.push(0xd3);
            out.extend((s as i64).to_be_bytes());
        }
        for v in [&self.chunks, &self.blocks] {
            out.push(0x90 + nd);
            for &c in v {
                out.push(0xd2);
                out.extend((c as i32).to_be_bytes());
            }
        }
        out.extend([0, 0xdb]);
        out.extend((dtype.len() as i32).to_be_bytes());
        out.extend_from_slice(dtype);
        out
    }
}

struct Reader<'a> {
    raw: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.raw.len());
        let end = end.ok_or_else(|| Error::Invalid("damaged b2nd metalayer: cut short".into()))?;
        let s = &self.raw[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn be_signed(&mut self, width: usize) -> Result<i64> {
        let b = self.take(width)?;
        let u = b.iter().fold(0u64, |a, &x| a << 8 | x as u64);
        Ok(if width == 4 {
            u as u32 as i32 as i64
        } else {
            u as i64
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metalayer_round_trip_and_refusals() {
        let m = B2ndMeta {
            shape: vec![400, 3],
            chunks: vec![110, 3],
            blocks: vec![57, 3],
            dtype: DType::U8,
        };
        let raw = m.to_metalayer();
        assert_eq!(B2ndMeta::from_metalayer(&raw).unwrap(), m);
        assert!(B2ndMeta::from_metalayer(&raw[..raw.len() - 1]).is_err());
        for (blocks, why) in [(vec![200, 3], "larger"), (vec![0, 3], "zero")] {
            let bad = B2ndMeta {
                blocks,
                ..m.clone()
            };
            let e = B2ndMeta::from_metalayer(&bad.to_metalayer()).unwrap_err();
            assert!(e.to_string().contains(why), "{e}");
        }
        let huge = B2ndMeta {
            shape: vec![1 << 62, 60, 70],
            chunks: vec![1, 60, 70],
            blocks: vec![1, 60, 70],
            dtype: DType::U8,
        };
        assert!(huge.validate().unwrap_err().to_string().contains("2^63"));
        let many = B2ndMeta {
            shape: vec![1 << 40],
            chunks: vec![1],
            blocks: vec![1],
            dtype: DType::U8,
        };
        assert!(many.validate().unwrap_err().to_string().contains("chunks"));
        let mut nd = raw.clone();
        nd[2] = 100;
        assert!(B2ndMeta::from_metalayer(&nd).is_err());
    }
}
